// Given a validated request, when the processor answers (or does not), then this HTTP answer:
// success bodies, every rejection code's status, idempotent replays, key reuse, timeouts and 503s.
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../processors/http/errors.ts';
import { accountIdForKey, commandIdForKey, fingerprintOf } from '../../../schemas/ids.ts';
import { REJECTION_CODES } from '../../../schemas/types.ts';
import { accountA, harness, json, outcomeFor, rejectedFor } from './harness.ts';

const accounts = '/api/v1/accounts';
const deposit = `${accounts}/${accountA}/deposit`;
const withdraw = `${accounts}/${accountA}/withdraw`;
const close = `${accounts}/${accountA}/close`;

const expectedStatus: Record<string, number> = {
  ACCOUNT_NOT_FOUND: 404,
  ACCOUNT_ALREADY_EXISTS: 409,
  ACCOUNT_CLOSED: 409,
  ACCOUNT_NOT_EMPTY: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  INSUFFICIENT_FUNDS: 422,
  CURRENCY_MISMATCH: 422,
  SAME_ACCOUNT_TRANSFER: 422,
  AMOUNT_TOO_LARGE: 422,
  HOLD_NOT_FOUND: 404,
  HOLD_NOT_ACTIVE: 409,
  AMOUNT_EXCEEDS_HOLD: 422,
  TRANSACTION_NOT_FOUND: 404,
  NOT_REVERSIBLE: 422,
  ALREADY_REVERSED: 409,
};

describe('accepted commands', () => {
  it('opens an account: 201 with the ids derived from the Idempotency-Key', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { version: 1, balance: 250 }) }];
    const response = await gateway.request(json(accounts, { ownerName: 'Ada', currency: 'EUR', initialBalance: 250 }, { 'idempotency-key': 'open-1' }));
    const accountId = accountIdForKey('bootstrap', 'open-1');
    const commandId = commandIdForKey('bootstrap', accountId, 'open-1');
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ accountId, ownerName: 'Ada', currency: 'EUR', balance: 250, overdraftLimit: 0, availableBalance: null, version: 1, commandId });
    expect(response.headers['idempotent-replayed']).toBeUndefined();
    const [command] = gateway.sink.sent;
    expect(command).toMatchObject({ commandId, accountId, payload: { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 250, overdraftLimit: 0 } });
    expect(command?.fingerprint).toBe(fingerprintOf({ op: 'OpenAccount', accountId, ownerName: 'Ada', currency: 'EUR', initialBalance: 250 }));
  });

  it.each([
    ['deposit', deposit, 'Deposit'],
    ['withdraw', withdraw, 'Withdraw'],
  ])('answers a %s with 200 and the new balance', async (_name, url, type) => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { version: 4, balance: 90 }) }];
    const response = await gateway.request(json(url, { amount: 10, reference: 'rent' }, { 'idempotency-key': 'k-1' }));
    const commandId = commandIdForKey('bootstrap', accountA, 'k-1');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accountId: accountA, balance: 90, version: 4, commandId });
    expect(gateway.sink.sent[0]).toMatchObject({ commandId, accountId: accountA, payload: { type, amount: 10, reference: 'rent' } });
  });

  it('closes an account: 200 with status CLOSED', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { version: 7, balance: 0 }) }];
    const response = await gateway.request({ method: 'POST', url: close });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ accountId: accountA, status: 'CLOSED', version: 7, commandId: gateway.sink.sent[0]?.commandId });
  });

  it('gives every request without an Idempotency-Key fresh ids', async () => {
    const gateway = harness();
    await gateway.request(json(accounts, { ownerName: 'Ada', currency: 'EUR' }));
    await gateway.request(json(accounts, { ownerName: 'Ada', currency: 'EUR' }));
    const [first, second] = gateway.sink.sent;
    expect(first?.accountId).not.toBe(second?.accountId);
    expect(first?.commandId).not.toBe(second?.commandId);
  });
});

describe('rejected commands', () => {
  it.each(REJECTION_CODES.map((code) => [code, expectedStatus[code]] as const))('answers %s with %i as problem+json', async (code, status) => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, code) }];
    const response = await gateway.request(json(withdraw, { amount: 10 }));
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({
      type: `/docs/errors#${code}`,
      title: expect.any(String),
      status,
      code,
      detail: `refused: ${code}`,
      commandId: gateway.sink.sent[0]?.commandId,
    });
  });

  it('answers a code it does not know with 422 rather than 500', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, 'DAILY_LIMIT_EXCEEDED') }];
    const response = await gateway.request(json(withdraw, { amount: 10 }));
    expect(response.status).toBe(422);
    expect(response.body.code).toBe('DAILY_LIMIT_EXCEEDED');
  });
});

describe('idempotent retries', () => {
  it('answers a retry from the remembered outcome with Idempotent-Replayed and sends nothing', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 10, version: 2 }) }];
    const first = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'dep-1' }));
    const retry = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'dep-1' }));
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('marks an outcome the processor re-emitted (ledger-replayed) as replayed', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 10, version: 2 }), replayed: true }];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'dep-2' }));
    expect(response.status).toBe(200);
    expect(response.headers['idempotent-replayed']).toBe('true');
  });

  it('replays a rejection too', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, 'INSUFFICIENT_FUNDS') }];
    await gateway.request(json(withdraw, { amount: 10 }, { 'idempotency-key': 'w-1' }));
    const retry = await gateway.request(json(withdraw, { amount: 10 }, { 'idempotency-key': 'w-1' }));
    expect(retry.status).toBe(422);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('refuses a remembered key used for a different request with 409, sending nothing', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c) }];
    await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'k' }));
    const reuse = await gateway.request(json(deposit, { amount: 11 }, { 'idempotency-key': 'k' }));
    expect(reuse.status).toBe(409);
    expect(reuse.body).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', status: 409 });
    expect(reuse.headers['idempotent-replayed']).toBeUndefined();
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('refuses with 409 when the original outcome of another meaning arrives while waiting', async () => {
    const gateway = harness();
    // The processor had the key under another fingerprint (say, a withdraw): it re-emits that original.
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { fingerprint: 'fingerprint-of-the-original' }), replayed: true }];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'k' }));
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(response.headers['idempotent-replayed']).toBeUndefined();
  });

  it("answers the processor's IDEMPOTENCY_KEY_REUSED refusal with 409 and does not remember it", async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, 'IDEMPOTENCY_KEY_REUSED') }];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'k' }));
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(gateway.outcomes.get(commandIdForKey('bootstrap', accountA, 'k'))).toBeUndefined();
  });

  it("ignores a key-reuse refusal addressed to another request's fingerprint", async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [
      { outcome: rejectedFor(c, 'IDEMPOTENCY_KEY_REUSED', { fingerprint: 'someone-else' }) },
      { outcome: outcomeFor(c, { balance: 10, version: 3 }) },
    ];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'k' }));
    expect(response.status).toBe(200);
    expect(response.body.balance).toBe(10);
  });
});

describe('no outcome, or no Kafka', () => {
  it('answers 202 with Location when no outcome arrives within COMMAND_TIMEOUT_MS', async () => {
    const gateway = harness({ commandTimeoutMs: 30 });
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'slow' }));
    const commandId = commandIdForKey('bootstrap', accountA, 'slow');
    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/api/v1/commands/${commandId}`);
    expect(response.body).toEqual({ commandId, status: 'pending' });
    expect(gateway.outcomes.size.waiting).toBe(0);
  });

  it('answers 503 UNAVAILABLE with Retry-After when Kafka is unreachable', async () => {
    const gateway = harness();
    gateway.sink.failure = new UnavailableError('Kafka did not acknowledge the command within 3000 ms');
    const response = await gateway.request(json(deposit, { amount: 10 }));
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body).toMatchObject({ code: 'UNAVAILABLE', detail: 'Kafka did not acknowledge the command within 3000 ms' });
    expect(gateway.outcomes.size.waiting).toBe(0);
  });

  it('answers 503 for any retriable error from the sink', async () => {
    const gateway = harness();
    gateway.sink.failure = Object.assign(new Error('Connection error: ECONNREFUSED'), { retriable: true });
    const response = await gateway.request(json(deposit, { amount: 10 }));
    expect(response.status).toBe(503);
    expect(response.body.code).toBe('UNAVAILABLE');
  });

  it('a 503 never echoes the Kafka client\'s own message: a fixed detail, the error only in the log', async () => {
    const gateway = harness();
    const internal = 'Connection error: connect ECONNREFUSED 10.1.2.3:9092 (broker-7.internal) KafkaJSNonRetriableError';
    gateway.sink.failure = Object.assign(new Error(internal), { name: 'KafkaJSConnectionError', retriable: true });
    const response = await gateway.request(json(deposit, { amount: 10 }));
    expect(response.status).toBe(503);
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|10\.1\.2\.3|broker-7|KafkaJS/);
    expect(response.body.detail).toMatch(/retry/i);
  });

  it('answers 500 INTERNAL_ERROR, without details, for a bug', async () => {
    const gateway = harness();
    gateway.sink.failure = new TypeError('cannot encode');
    const response = await gateway.request(json(deposit, { amount: 10 }));
    expect(response.status).toBe(500);
    expect(response.body).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(JSON.stringify(response.body)).not.toContain('cannot encode');
  });

  it('answers 503 without producing when too many requests are waiting for outcomes', async () => {
    const gateway = harness({ pendingRequestsMax: 2, commandTimeoutMs: 1000 });
    const waiting = [1, 2].map((n) => gateway.request(json(deposit, { amount: n }, { 'idempotency-key': `k${n}` })));
    await expect.poll(() => gateway.outcomes.size.waiting).toBe(2);
    const refused = await gateway.request(json(deposit, { amount: 3 }));
    expect(refused.status).toBe(503);
    expect(refused.body.detail).toContain('pendingRequestsMax=2');
    expect(gateway.sink.sent).toHaveLength(2);
    for (const command of gateway.sink.sent) gateway.outcomes.accept(outcomeFor(command));
    expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200]);
  });
});

describe('GET /api/v1/commands/:commandId', () => {
  it('answers the remembered outcome', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 5, version: 2 }) }];
    await gateway.request(json(deposit, { amount: 5 }, { 'idempotency-key': 'g' }));
    const commandId = commandIdForKey('bootstrap', accountA, 'g');
    const response = await gateway.request({ method: 'GET', url: `/api/v1/commands/${commandId}` });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ commandId, accountId: accountA, status: 'ACCEPTED', balance: 5, version: 2 });
  });

  it('answers 404 COMMAND_NOT_FOUND for an unknown command', async () => {
    const gateway = harness();
    const response = await gateway.request({ method: 'GET', url: `/api/v1/commands/${accountA}` });
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('COMMAND_NOT_FOUND');
  });

  it('answers 503 rather than 404 while outcomes are not being read', async () => {
    const gateway = harness();
    gateway.outcomes.feedRunning = false;
    const response = await gateway.request({ method: 'GET', url: `/api/v1/commands/${accountA}` });
    expect(response.status).toBe(503);
  });
});

describe('operational routes', () => {
  it('reports health, and readiness of the producer and the outcome feed', async () => {
    const gateway = harness();
    expect((await gateway.request({ method: 'GET', url: '/health' })).status).toBe(200);
    expect((await gateway.request({ method: 'GET', url: '/ready' })).status).toBe(200);
    gateway.sink.connected = false;
    const notReady = await gateway.request({ method: 'GET', url: '/ready' });
    expect(notReady.status).toBe(503);
    expect(notReady.body).toMatchObject({ code: 'UNAVAILABLE', checks: { producer: false, outcomes: true } });
  });

  it('serves an OpenAPI document built from the route schemas, with every error code', async () => {
    const gateway = harness();
    const docs = await gateway.request({ method: 'GET', url: '/docs' });
    expect(docs.status).toBe(200);
    expect(docs.body.openapi).toBe('3.1.0');
    const paths = docs.body.paths as Record<string, Record<string, { parameters: { name: string }[] }>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/api/v1/accounts', '/api/v1/accounts/{id}/deposit', '/api/v1/transfers', '/api/v1/commands/{commandId}']));
    expect(paths['/api/v1/accounts/{id}/withdraw']?.post?.parameters.map((p) => p.name)).toEqual(['id', 'Idempotency-Key']);
    expect(Object.keys(docs.body['x-error-codes'] as object)).toEqual(expect.arrayContaining([...REJECTION_CODES, 'VALIDATION_FAILED', 'UNAVAILABLE']));
    expect((await gateway.request({ method: 'GET', url: '/docs/openapi.json' })).body).toEqual(docs.body);
  });
});
