// DESIGN §9 at the edge of both services, through inject(): who may call what. Every guarded
// route refuses a missing, malformed, unknown or revoked key with 401 and WWW-Authenticate, a key
// without the route's scope with 403; public routes answer anyone; rate limits answer 429.
import { describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { buildApp as buildQueryApp } from '../../../processors/query/routes.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { emptyViews } from '../query/empty-views.ts';
import { ApiKeyDirectory, mintApiKey, type Scope } from '../../../processors/http/api-keys.ts';
import { accountIdForKey, commandIdForKey } from '../../../schemas/ids.ts';
import { accountA, harness, json, outcomeFor } from '../gateway/harness.ts';
import { bearer, testAdminKey, testDirectory } from '../../support/keys.ts';
import { queryGetRoutes } from '../edge/bad-requests.ts';

const uuid = '6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f';
const keyId = 'abcdefghijkl0123';


function queryApp(keys: ApiKeyDirectory = testDirectory(), rateLimitPerSecond?: number): FastifyInstance {
  return buildQueryApp({
    views: emptyViews, waiters: new VersionWaiters(10), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 1, keys,
    ...(rateLimitPerSecond === undefined ? {} : { rateLimitPerSecond }),
  });
}

/** A key with these scopes, known to the directory. */
function keyWith(keys: ApiKeyDirectory, scopes: Scope[], name = 'test'): { key: string; keyId: string } {
  const { key, record } = mintApiKey(name, scopes, Date.now());
  keys.apply(record);
  return { key, keyId: record.keyId };
}

/** Every guarded gateway route, as a request that would succeed with an admin key. */
const gatewayRoutes: [string, InjectOptions][] = [
  ['open', json('/api/v1/accounts', { ownerName: 'Ada', currency: 'EUR' })],
  ['deposit', json(`/api/v1/accounts/${uuid}/deposit`, { amount: 1 })],
  ['withdraw', json(`/api/v1/accounts/${uuid}/withdraw`, { amount: 1 })],
  ['transfer', json('/api/v1/transfers', { fromAccountId: uuid, toAccountId: accountA, amount: 1 })],
  ['close', { method: 'POST', url: `/api/v1/accounts/${uuid}/close` }],
  ['get command', { method: 'GET', url: `/api/v1/commands/${uuid}` }],
  ['create key', json('/api/v1/api-keys', { name: 'n', scopes: ['read'] })],
  ['list keys', { method: 'GET', url: '/api/v1/api-keys' }],
  ['revoke key', { method: 'DELETE', url: `/api/v1/api-keys/${keyId}` }],
];

const queryRoutes = queryGetRoutes.map((route) => route.replace('{id}', uuid));

const withHeader = (options: InjectOptions, headers: Record<string, string>): InjectOptions => ({ ...options, headers: { ...(options.headers as object), ...headers } });

function expectUnauthenticated(response: { statusCode: number; headers: Record<string, unknown>; json(): any }, what: string): void {
  expect([what, response.statusCode, response.json().code]).toEqual([what, 401, 'UNAUTHENTICATED']);
  expect(response.headers['www-authenticate']).toBe('Bearer realm="kafka-ledger"');
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
}

describe('authentication', () => {
  it('every gateway route without a key is 401 UNAUTHENTICATED with WWW-Authenticate, and sends nothing', async () => {
    const gateway = harness();
    for (const [name, options] of gatewayRoutes) expectUnauthenticated(await gateway.app.inject(options), name);
    expect(gateway.sink.sent).toEqual([]);
    expect(gateway.keyAdmin.published).toEqual([]);
  });

  it('every query route without a key is 401 UNAUTHENTICATED with WWW-Authenticate', async () => {
    const app = queryApp();
    for (const url of queryRoutes) expectUnauthenticated(await app.inject({ method: 'GET', url }), url);
  });

  it.each([
    ['a malformed header', 'Basic dXNlcjpwYXNz'],
    ['a bearer without a key', 'Bearer '],
    ['an unknown key of the right shape', `Bearer lk_${keyId}_${'A'.repeat(43)}`],
    ['the admin key with one character changed', `Bearer ${testAdminKey.slice(0, -1)}x`],
    ['a key 10,000 characters long', `Bearer ${'k'.repeat(10_000)}`],
  ])('%s is 401 on both services', async (_case, authorization) => {
    const gateway = harness();
    expectUnauthenticated(await gateway.app.inject(withHeader(gatewayRoutes[1]![1], { authorization })), 'gateway');
    expectUnauthenticated(await queryApp().inject({ method: 'GET', url: queryRoutes[0]!, headers: { authorization } }), 'query');
    expect(gateway.sink.sent).toEqual([]);
  });

  it('a revoked key is refused on both services as soon as the directory holds the revocation', async () => {
    const keys = testDirectory();
    const { key, keyId: id } = keyWith(keys, ['read']);
    const app = queryApp(keys);
    expect((await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: bearer(key) })).statusCode).toBe(200);
    keys.apply({ ...keys.get(id)!, revokedAt: Date.now() });
    expectUnauthenticated(await app.inject({ method: 'GET', url: '/api/v1/accounts', headers: bearer(key) }), 'revoked');
  });

  it('public routes answer without a key: health, ready, metrics and the docs', async () => {
    const gateway = harness();
    for (const url of ['/health', '/ready', '/metrics', '/docs', '/docs/openapi.json', '/docs/errors']) {
      expect([url, (await gateway.app.inject({ method: 'GET', url })).statusCode]).toEqual([url, 200]);
    }
    const app = queryApp();
    for (const url of ['/health', '/ready']) expect([url, (await app.inject({ method: 'GET', url })).statusCode]).toEqual([url, 200]);
  });
});

describe('scopes', () => {
  it('a read key may GET but not POST a command or manage keys (403 FORBIDDEN), and sends nothing', async () => {
    const gateway = harness();
    const { key } = keyWith(gateway.keys, ['read']);
    for (const [name, options] of gatewayRoutes) {
      const response = await gateway.app.inject(withHeader(options, bearer(key)));
      const expected = name === 'get command' ? 404 : 403; // unknown command: the key got through
      expect([name, response.statusCode]).toEqual([name, expected]);
      if (expected === 403) expect(response.json()).toMatchObject({ code: 'FORBIDDEN', status: 403 });
    }
    expect(gateway.sink.sent).toEqual([]);
  });

  it('a write key may POST commands but not GET (read) nor manage keys (admin)', async () => {
    const gateway = harness({ commandTimeoutMs: 1 });
    const { key } = keyWith(gateway.keys, ['write']);
    const deposit = await gateway.app.inject(withHeader(gatewayRoutes[1]![1], bearer(key)));
    expect(deposit.statusCode).toBe(202);
    for (const [name, options] of gatewayRoutes.filter(([n]) => ['get command', 'create key', 'list keys', 'revoke key'].includes(n))) {
      const response = await gateway.app.inject(withHeader(options, bearer(key)));
      expect([name, response.statusCode, response.json().code]).toEqual([name, 403, 'FORBIDDEN']);
    }
    const app = queryApp(gateway.keys);
    for (const url of queryRoutes) expect([url, (await app.inject({ method: 'GET', url, headers: bearer(key) })).statusCode]).toEqual([url, 403]);
  });

  it('an admin key may do everything: admin implies read and write', async () => {
    const gateway = harness({ commandTimeoutMs: 1 });
    const { key } = keyWith(gateway.keys, ['admin']);
    for (const [name, options] of gatewayRoutes) {
      const status = (await gateway.app.inject(withHeader(options, bearer(key)))).statusCode;
      expect([name, status < 400 || status === 404]).toEqual([name, true]);
    }
  });
});

describe('idempotency keys are scoped to the API key', () => {
  it('the same Idempotency-Key from two API keys is two commands and two accounts, each with its actor', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { version: 1, balance: 0 }) }];
    const alice = keyWith(gateway.keys, ['write'], 'alice');
    const bob = keyWith(gateway.keys, ['write'], 'bob');
    const open = (key: string) => gateway.request(json('/api/v1/accounts', { ownerName: 'Ada', currency: 'EUR' }, { 'idempotency-key': 'same', ...bearer(key) }));
    const [a, b] = [await open(alice.key), await open(bob.key)];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.accountId).toBe(accountIdForKey(alice.keyId, 'same'));
    expect(b.body.accountId).toBe(accountIdForKey(bob.keyId, 'same'));
    expect(a.body.accountId).not.toBe(b.body.accountId);
    const deposit = (key: string) => gateway.request(json(`/api/v1/accounts/${uuid}/deposit`, { amount: 5 }, { 'idempotency-key': 'same', ...bearer(key) }));
    const [da, db] = [await deposit(alice.key), await deposit(bob.key)];
    expect(da.body.commandId).toBe(commandIdForKey(alice.keyId, uuid, 'same'));
    expect(db.body.commandId).toBe(commandIdForKey(bob.keyId, uuid, 'same'));
    expect(da.body.commandId).not.toBe(db.body.commandId);
    expect(db.headers['idempotent-replayed']).toBeUndefined();
    expect(gateway.sink.sent.map((c) => c.actor)).toEqual([alice.keyId, bob.keyId, alice.keyId, bob.keyId]);
  });
});

describe('rate limits', () => {
  it('a burst past RATE_LIMIT_PER_SECOND is 429 RATE_LIMITED with Retry-After and RateLimit-* headers', async () => {
    const gateway = harness({ rateLimitPerSecond: 3 });
    const answers = [];
    for (let n = 0; n < 5; n += 1) answers.push(await gateway.app.inject({ method: 'GET', url: `/api/v1/commands/${uuid}`, headers: bearer() }));
    expect(answers.map((a) => a.statusCode)).toEqual([404, 404, 404, 429, 429]);
    const limited = answers[3]!;
    expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', status: 429 });
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(0);
    expect(limited.headers['ratelimit-limit']).toBe('3');
    expect(limited.headers['ratelimit-remaining']).toBe('0');
    expect(limited.headers['ratelimit-reset']).toBeDefined();
    expect(answers[0]!.headers['ratelimit-remaining']).toBe('2');
  });

  it('keys are limited each on its own, and RATE_LIMIT_PER_SECOND=0 turns the per-key limit off', async () => {
    const limited = harness({ rateLimitPerSecond: 1 });
    const other = keyWith(limited.keys, ['read']);
    const ask = (key?: string) => limited.app.inject({ method: 'GET', url: `/api/v1/commands/${uuid}`, headers: bearer(key) });
    expect([(await ask()).statusCode, (await ask()).statusCode, (await ask(other.key)).statusCode]).toEqual([404, 429, 404]);
    const off = harness({ rateLimitPerSecond: 0 });
    const statuses = new Set<number>();
    for (let n = 0; n < 50; n += 1) statuses.add((await off.app.inject({ method: 'GET', url: `/api/v1/commands/${uuid}`, headers: bearer() })).statusCode);
    expect([...statuses]).toEqual([404]);
  });

  it('failed authentication is limited per client address (20/s): guessing keys is 429, other addresses still get 401', async () => {
    const app = queryApp();
    const guess = (remoteAddress: string) => app.inject({ method: 'GET', url: '/api/v1/accounts', remoteAddress, headers: { authorization: `Bearer lk_${keyId}_${'B'.repeat(43)}` } });
    const statuses = [];
    for (let n = 0; n < 22; n += 1) statuses.push((await guess('10.1.1.1')).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    const limited = await guess('10.1.1.1');
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    expect((await guess('10.1.1.2')).statusCode).toBe(401);
    // The valid key is not held back by the address's failures.
    expect((await app.inject({ method: 'GET', url: '/api/v1/accounts', remoteAddress: '10.1.1.1', headers: bearer() })).statusCode).toBe(200);
  });
});

describe('CORS', () => {
  it('is off unless CORS_ORIGINS lists the origin', async () => {
    const off = harness();
    const plain = await off.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://app.example' } });
    expect(plain.headers['access-control-allow-origin']).toBeUndefined();
    const on = harness({ corsOrigins: ['https://app.example'] });
    const allowed = await on.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://app.example' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
    const preflight = await on.app.inject({ method: 'OPTIONS', url: '/api/v1/accounts', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('Authorization');
    const stranger = await on.app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    expect(stranger.headers['access-control-allow-origin']).toBeUndefined();
  });
});
