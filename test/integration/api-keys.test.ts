// DESIGN §9 across processes on the real broker: keys created and revoked through the gateway's
// admin route land in <prefix>api-keys and take effect on the query service (which only follows
// the topic) within 5 s; two API keys using the same Idempotency-Key never collide; and the actor
// (keyId) travels from the command to its events, the saga's follow-ups included, into history.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, waitUntilReady, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { adminHeaders, bearer } from '../support/keys.ts';
import { freePort } from '../../scripts/services.ts';
import { startQuery, type InProcessQuery } from './query-support.ts';
import { runScript } from '../support/cli.ts';

/** A CLI run connects, reads the key topic to its end and writes: bounded well above that. */
const cliTimeoutMs = 90_000;

/** DESIGN §9: a created or revoked key takes effect on every instance within this. */
const keyEffectMaxMs = 5000;

let ledger: TestLedger;
let processor: ServiceProcess;
let gateway: ServiceProcess;
let query: InProcessQuery;
let base: string;

beforeAll(async () => {
  ledger = await createTestLedger('api-keys');
  processor = startService('processors/account/main.ts', ledger.env);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = startService('gateway/main.ts', { ...ledger.env, GATEWAY_PORT: String(port), GATEWAY_INSTANCE_ID: 'keys', COMMAND_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' });
  query = await startQuery(ledger);
  await processor.waitForLine(/account processor started/);
  await waitUntilReady(gateway, base);
});

afterAll(async () => {
  await query?.processor.stop();
  await gateway?.kill('SIGTERM');
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const headers = { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers };
  const response = await fetch(url, { method: init.method ?? 'GET', headers, ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : JSON.parse(text) };
}

async function createKey(name: string, scopes: string[]): Promise<{ keyId: string; key: string }> {
  const created = await call(`${base}/api/v1/api-keys`, { method: 'POST', headers: adminHeaders, body: { name, scopes } });
  expect(created.status).toBe(201);
  return created.body;
}

/** Polls `url` with `key` until it answers `status`, within the DESIGN's bound. */
const answersWithin = (url: string, key: string, status: number, what: string) =>
  waitFor(async () => ((await call(url, { headers: bearer(key) })).status === status ? true : undefined), { what, timeoutMs: keyEffectMaxMs, intervalMs: 100 });

describe('API keys on Kafka', () => {
  it('a key created on the gateway works on the query service within 5 s, and a revoked one is refused there within 5 s', async () => {
    const { keyId, key } = await createKey('reader', ['read']);
    const accounts = `${query.processor.url}/api/v1/accounts`;
    await answersWithin(accounts, key, 200, 'the new key to work on the query service');
    expect((await call(`${base}/api/v1/api-keys`, { headers: adminHeaders })).body.items).toContainEqual(expect.objectContaining({ keyId, name: 'reader', scopes: ['read'], revokedAt: null }));
    const revoked = await call(`${base}/api/v1/api-keys/${keyId}`, { method: 'DELETE', headers: adminHeaders });
    expect(revoked.status).toBe(200);
    // The gateway that revoked it refuses it at once; the query service within the bound.
    expect((await call(`${base}/api/v1/commands/${randomUUID()}`, { headers: bearer(key) })).status).toBe(401);
    await answersWithin(accounts, key, 401, 'the revoked key to be refused on the query service');
    expect((await call(`${base}/api/v1/api-keys/${'z'.repeat(16)}`, { method: 'DELETE', headers: adminHeaders })).body.code).toBe('API_KEY_NOT_FOUND');
  });

  it('the topic stores the hash of each key, never the key', async () => {
    const { keyId, key } = await createKey('audited', ['write']);
    const consumer = ledger.kafka.consumer({ groupId: `${ledger.config.appId}.inspect.${randomUUID()}` });
    const seen: Array<{ keyId: string; secretHash: string; raw: string }> = [];
    await consumer.connect();
    await consumer.subscribe({ topic: ledger.topics.apiKeys, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const record = await ledger.codecs.apiKeys.decode(message.value!);
        seen.push({ keyId: record.keyId, secretHash: record.secretHash, raw: message.value!.toString('latin1') });
      },
    });
    const mine = await waitFor(() => seen.find((r) => r.keyId === keyId), { what: 'the key record on the topic' });
    await consumer.disconnect();
    expect(mine.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.some((r) => r.raw.includes(key.split('_')[2]!))).toBe(false);
  });
});

describe('the api-key CLI', () => {
  it('create writes a key the services accept within 5 s; list shows it; revoke makes them refuse it', async () => {
    const cli = (...args: string[]) => runScript('scripts/api-key.ts', args, ledger.env, cliTimeoutMs);
    const created = await cli('create', '--name', 'from the cli', '--scopes', 'read,write');
    expect([created.code, created.stderr]).toEqual([0, expect.stringContaining('never shown again')]);
    const { keyId, key, scopes } = JSON.parse(created.stdout) as { keyId: string; key: string; scopes: string[] };
    expect(scopes).toEqual(['read', 'write']);
    await answersWithin(`${query.processor.url}/api/v1/accounts`, key, 200, 'the CLI key on the query service');
    await answersWithin(`${base}/api/v1/commands/${randomUUID()}`, key, 404, 'the CLI key on the gateway');
    const listed = await cli('list');
    expect(listed.stdout).toMatch(new RegExp(`^${keyId}\tactive \tread,write\t.*\tfrom the cli$`, 'm'));
    expect((await cli('create', '--name', 'x', '--scopes', 'read,root')).code).toBe(1);
    const revoked = await cli('revoke', keyId);
    expect(revoked.code).toBe(0);
    await answersWithin(`${query.processor.url}/api/v1/accounts`, key, 401, 'the revoked CLI key to be refused on the query service');
    await answersWithin(`${base}/api/v1/commands/${randomUUID()}`, key, 401, 'the revoked CLI key to be refused on the gateway');
    expect((await cli('revoke', 'nosuchkey0000000')).stderr).toContain('API_KEY_NOT_FOUND');
  }, 300_000);
});

describe('who moved the money', () => {
  it('the same Idempotency-Key from two API keys opens two accounts; history shows each actor, on both legs of a transfer', async () => {
    const alice = await createKey('alice', ['read', 'write']);
    const bob = await createKey('bob', ['read', 'write']);
    const open = (key: string) => call(`${base}/api/v1/accounts`, { method: 'POST', headers: { ...bearer(key), 'idempotency-key': 'shared-key' }, body: { ownerName: 'Ada', currency: 'EUR', initialBalance: 100 } });
    // The gateway follows the topic too, but applied its own writes at once.
    const [a, b] = [await open(alice.key), await open(bob.key)];
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.accountId).not.toBe(b.body.accountId);
    expect(a.body.commandId).not.toBe(b.body.commandId);
    const moved = await call(`${base}/api/v1/transfers`, {
      method: 'POST', headers: { ...bearer(alice.key), 'idempotency-key': 'transfer-1' }, body: { fromAccountId: a.body.accountId, toAccountId: b.body.accountId, amount: 30 },
    });
    expect(moved.status).toBe(201);
    await answersWithin(`${query.processor.url}/api/v1/accounts`, bob.key, 200, 'bob\'s key on the query service');
    const history = async (account: string, events: number) => {
      const page = await waitFor(async () => {
        const answer = await call(`${query.processor.url}/api/v1/accounts/${account}/history`, { headers: bearer(bob.key) });
        return answer.status === 200 && answer.body.items.length === events ? answer.body.items : undefined;
      }, { what: `the history of ${account}`, timeoutMs: 30_000 });
      return page.map((e: { type: string; actor: string }) => [e.type, e.actor]);
    };
    // The credit and the settlement are internal follow-ups: they carry the actor of the transfer that started them.
    expect(await history(a.body.accountId, 3)).toEqual([['TransferSettled', alice.keyId], ['TransferDebited', alice.keyId], ['AccountOpened', alice.keyId]]);
    expect(await history(b.body.accountId, 2)).toEqual([['TransferCredited', alice.keyId], ['AccountOpened', bob.keyId]]);
  });
});
