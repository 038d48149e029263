// The HTTP routes over real LevelDB view stores, with no broker: events are folded and written
// the way the consumer writes them, then every route is asked through fastify's inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores } from '../../../processors/query/stores.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { accountsOf, applyEvents } from '../../../processors/query/views/index.ts';
import { Progress, type ProgressReport } from '../../../processors/query/progress.ts';
import { QueryMetrics } from '../../../processors/query/metrics.ts';
import { ev, event, history } from './given.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

const partitions = 4;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const alice = id(1);
const bob = id(2);
const ghost = id(999);
const transferOk = id(501);
const transferFailed = id(502);
const transferPending = id(503);

let dir: string;
let stores: ViewStores;
let waiters: VersionWaiters;
let report: ProgressReport = { ready: false, partitions: [] };
let app: ReturnType<typeof buildApp>;
const offsets = new Map<number, bigint>();

/** Writes events the way the consumer does: per partition, folded onto the stored rows. */
async function write(events: AccountEvent[]): Promise<void> {
  const byPartition = new Map<number, AccountEvent[]>();
  for (const e of events) {
    const p = stores.partitionOf(e.accountId);
    byPartition.set(p, [...(byPartition.get(p) ?? []), e]);
  }
  for (const [p, batch] of byPartition) {
    const { store } = await stores.openPartition(p);
    const changes = applyEvents(await store.readAccounts(accountsOf(batch)), batch);
    const next = (offsets.get(p) ?? 0n) + BigInt(batch.length);
    offsets.set(p, next);
    await store.write(changes, next);
    for (const [accountId, row] of changes.accounts) waiters.notify(accountId, row.version);
  }
}

const get = async (url: string) => {
  const response = await app.inject({ method: 'GET', url, headers: adminHeaders });
  return { status: response.statusCode, headers: response.headers, body: response.json() };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'query-routes-'));
  stores = new ViewStores(dir, 'test.events', partitions);
  for (let p = 0; p < partitions; p += 1) await stores.openPartition(p);
  waiters = new VersionWaiters(100);
  app = buildApp({ views: stores, waiters, readiness: () => report, minVersionWaitMs: 150, keys: testDirectory() });
  const deposits = Array.from({ length: 25 }, (_, i) => ev.deposited(10, 110 + 10 * i, `r${i}`));
  await write(history(alice, [ev.opened(100), ...deposits]));
  await write(history(bob, [ev.opened(0)]));
  await write([event(alice, 27, ev.debited(50, 300, bob, transferOk)), event(bob, 2, ev.credited(50, 50, alice, transferOk))]);
  await write([event(alice, 28, ev.debited(20, 280, ghost, transferFailed)), event(alice, 29, ev.refunded(20, 300, 'ACCOUNT_NOT_FOUND', ghost, transferFailed))]);
  await write([event(alice, 30, ev.debited(5, 295, bob, transferPending))]);
  for (let n = 10; n < 40; n += 1) await write(history(id(n), [ev.opened(n, 'USD')]));
});

afterAll(async () => {
  await app.close();
  await stores.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('account routes', () => {
  it('GET /accounts/:id answers the summary with ISO timestamps', async () => {
    const { status, body } = await get(`/api/v1/accounts/${alice}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      accountId: alice, ownerName: 'Ada Lovelace', currency: 'EUR', balance: 295, status: 'OPEN', version: 30, heldBalance: 0, overdraftLimit: 0, availableBalance: 295, metadata: {},
      openedAt: new Date(1_700_000_000_001).toISOString(), updatedAt: new Date(1_700_000_000_030).toISOString(),
    });
  });

  it('GET /accounts/:id/balance answers balance, currency and version', async () => {
    expect((await get(`/api/v1/accounts/${bob}/balance`)).body).toEqual({ accountId: bob, currency: 'EUR', balance: 50, version: 2 });
  });

  it('an unknown account is 404 ACCOUNT_NOT_FOUND as problem+json', async () => {
    const response = await app.inject({ method: 'GET', url: `/api/v1/accounts/${ghost}/balance`, headers: adminHeaders });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 404, code: 'ACCOUNT_NOT_FOUND', type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
    expect((await get(`/api/v1/accounts/${ghost}/history`)).body.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('a malformed id is 400 VALIDATION_FAILED', async () => {
    for (const url of ['/api/v1/accounts/not-a-uuid', '/api/v1/accounts/123/balance', '/api/v1/accounts/x/history', '/api/v1/transfers/nope']) {
      const { status, body } = await get(url);
      expect([url, status, body.code]).toEqual([url, 400, 'VALIDATION_FAILED']);
    }
  });
});

describe('history', () => {
  it('is newest first and pages return every entry exactly once', async () => {
    const seen: number[] = [];
    let url = `/api/v1/accounts/${alice}/history?limit=7`;
    for (let pages = 0; pages < 10; pages += 1) {
      const { status, body } = await get(url);
      expect(status).toBe(200);
      expect(body.items.length).toBeLessThanOrEqual(7);
      seen.push(...body.items.map((e: { sequence: number }) => e.sequence));
      if (body.nextCursor === null) break;
      url = `/api/v1/accounts/${alice}/history?limit=7&cursor=${body.nextCursor}`;
    }
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => 30 - i));
  });

  it('entries carry transfer, counterparty, reference and reason where relevant', async () => {
    const { body } = await get(`/api/v1/accounts/${alice}/history?limit=5`);
    expect(body.items[0]).toEqual({
      sequence: 30, type: 'TransferDebited', amount: 5, balanceAfter: 295, occurredAt: new Date(1_700_000_000_030).toISOString(),
      commandId: `cmd-${alice}-30`, transferId: transferPending, counterpartyAccountId: bob, reference: null, reason: null, actor: null, metadata: {},
    });
    expect(body.items[1]).toMatchObject({ type: 'TransferRefunded', reason: 'ACCOUNT_NOT_FOUND', counterpartyAccountId: ghost });
    expect(body.items[4]).toMatchObject({ type: 'MoneyDeposited', reference: 'r24', transferId: null });
  });

  it('limit defaults to 100 and must be 1 to 1000', async () => {
    expect((await get(`/api/v1/accounts/${alice}/history`)).body.items).toHaveLength(30);
    for (const limit of ['0', '1001', 'abc', '2.5', '-1']) {
      expect((await get(`/api/v1/accounts/${alice}/history?limit=${limit}`)).body.code).toBe('VALIDATION_FAILED');
    }
  });

  it('a forged cursor, or one of another account, is 400 VALIDATION_FAILED', async () => {
    const { body } = await get(`/api/v1/accounts/${alice}/history?limit=2`);
    for (const cursor of ['garbage', 'eyJ2IjoxfQ', '!!!']) {
      expect((await get(`/api/v1/accounts/${alice}/history?cursor=${cursor}`)).status).toBe(400);
    }
    expect((await get(`/api/v1/accounts/${bob}/history?cursor=${body.nextCursor}`)).body).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});

describe('account list', () => {
  it('pages through every account exactly once in accountId order', async () => {
    const seen: string[] = [];
    let url = '/api/v1/accounts?limit=7';
    for (let pages = 0; pages < 20; pages += 1) {
      const { body } = await get(url);
      seen.push(...body.items.map((a: { accountId: string }) => a.accountId));
      if (body.nextCursor === null) break;
      url = `/api/v1/accounts?limit=7&cursor=${body.nextCursor}`;
    }
    const expected = [alice, bob, ...Array.from({ length: 30 }, (_, i) => id(10 + i))].sort();
    expect(seen).toEqual(expected);
  });

  it('a page that reaches the end has nextCursor null', async () => {
    expect((await get('/api/v1/accounts?limit=1000')).body).toMatchObject({ nextCursor: null });
    expect((await get('/api/v1/accounts?cursor=bad')).body.code).toBe('VALIDATION_FAILED');
  });
});

describe('transfers', () => {
  it('are completed, failed with the reason, or pending', async () => {
    expect((await get(`/api/v1/transfers/${transferOk}`)).body).toMatchObject({ status: 'completed', fromAccountId: alice, toAccountId: bob, amount: 50, currency: 'EUR', reason: null });
    expect((await get(`/api/v1/transfers/${transferFailed}`)).body).toMatchObject({ status: 'failed', reason: 'ACCOUNT_NOT_FOUND', toAccountId: ghost, creditedAt: null });
    expect((await get(`/api/v1/transfers/${transferPending}`)).body).toMatchObject({ status: 'pending', amount: 5, creditedAt: null, refundedAt: null });
  });

  it('an unknown transfer is 404 TRANSFER_NOT_FOUND', async () => {
    expect((await get(`/api/v1/transfers/${id(777)}`)).body).toMatchObject({ status: 404, code: 'TRANSFER_NOT_FOUND' });
  });
});

describe('read your writes with minVersion', () => {
  it('answers at once when the view already has the version', async () => {
    expect((await get(`/api/v1/accounts/${bob}?minVersion=2`)).body.version).toBe(2);
  });

  it('waits for a version that is written while the request is parked', async () => {
    const carol = id(3);
    const pending = get(`/api/v1/accounts/${carol}/balance?minVersion=2`);
    await write(history(carol, [ev.opened(7), ev.deposited(3, 10)]));
    expect(await pending).toMatchObject({ status: 200, body: { balance: 10, version: 2 } });
  });

  it('answers 503 VIEW_LAGGING with Retry-After when the version does not come in time', async () => {
    const { status, headers, body } = await get(`/api/v1/accounts/${bob}/history?minVersion=3`);
    expect(status).toBe(503);
    expect(headers['retry-after']).toBe('1');
    expect(body).toMatchObject({ code: 'VIEW_LAGGING', accountId: bob, minVersion: 3, version: 2 });
  });

  it('minVersion must be a positive integer', async () => {
    expect((await get(`/api/v1/accounts/${bob}?minVersion=0`)).body.code).toBe('VALIDATION_FAILED');
    expect((await get(`/api/v1/accounts/${bob}?minVersion=x`)).body.code).toBe('VALIDATION_FAILED');
  });
});

describe('ids are case-insensitive', () => {
  // Ids with hex letters, and one whose upper-case spelling hashes to another partition: before
  // ids were canonical, murmur2 of the upper-case bytes picked that partition and missed the row.
  const lettered = (n: number) => `abcdef${String(n).padStart(2, '0')}-cafe-4bad-8bee-feedfacec0de`;
  let dora = '';
  const emil = lettered(99);
  const lent = 'facade00-beef-4ace-9dad-0123456789ab';

  beforeAll(async () => {
    dora = Array.from({ length: 50 }, (_, n) => lettered(n)).find((a) => stores.partitionOf(a.toUpperCase()) !== stores.partitionOf(a))!;
    await write(history(dora, [ev.opened(100), ev.deposited(5, 105)]));
    await write(history(emil, [ev.opened(0)]));
    await write([event(dora, 3, ev.debited(5, 100, emil, lent)), event(emil, 2, ev.credited(5, 5, dora, lent))]);
  });

  it('an account asked in upper case is the same account, answered with its canonical id', async () => {
    const upper = dora.toUpperCase();
    expect(await get(`/api/v1/accounts/${upper}`)).toMatchObject({ status: 200, body: { accountId: dora, version: 3 } });
    expect(await get(`/api/v1/accounts/${upper}/balance?minVersion=3`)).toMatchObject({ status: 200, body: { accountId: dora, balance: 100 } });
    const page = await get(`/api/v1/accounts/${upper}/history?limit=1`);
    expect(page).toMatchObject({ status: 200, body: { items: [{ sequence: 3 }] } });
    // A cursor issued for one spelling serves the other.
    expect(await get(`/api/v1/accounts/${dora}/history?limit=1&cursor=${page.body.nextCursor}`)).toMatchObject({ status: 200, body: { items: [{ sequence: 2 }] } });
  });

  it('a transfer asked in upper case is the same transfer', async () => {
    expect(await get(`/api/v1/transfers/${lent.toUpperCase()}`)).toMatchObject({ status: 200, body: { transferId: lent, status: 'completed', fromAccountId: dora } });
  });
});

describe('minVersion waiters per client', () => {
  it('past minVersionWaitersPerClientMax a client is refused at once with 503 VIEW_LAGGING, others still wait', async () => {
    const bounded = new VersionWaiters(100, 2);
    const waiting = buildApp({ views: stores, waiters: bounded, readiness: () => report, minVersionWaitMs: 60_000, keys: testDirectory() });
    const ask = (remoteAddress: string) => waiting.inject({ method: 'GET', url: `/api/v1/accounts/${bob}?minVersion=99`, remoteAddress, headers: adminHeaders });
    const parked = [ask('10.0.0.1'), ask('10.0.0.1'), ask('10.0.0.2')];
    await expect.poll(() => bounded.size).toBe(3);
    const refused = await ask('10.0.0.1');
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.json()).toMatchObject({ code: 'VIEW_LAGGING', accountId: bob, minVersion: 99 });
    expect(refused.json().detail).toContain('minVersionWaitersPerClientMax');
    expect(bounded.size).toBe(3);
    bounded.releaseAll();
    expect((await Promise.all(parked)).map((r) => r.statusCode)).toEqual([503, 503, 503]);
    await waiting.close();
  });
});

describe('availability', () => {
  it('an account whose partition is not served here is 503 VIEW_LAGGING, never 404', async () => {
    const other = new ViewStores(dir, 'test.events', partitions);
    const bare = buildApp({ views: other, waiters, readiness: () => report, minVersionWaitMs: 10, keys: testDirectory() });
    const response = await bare.inject({ method: 'GET', url: `/api/v1/accounts/${alice}`, headers: adminHeaders });
    expect([response.statusCode, response.json().code]).toEqual([503, 'VIEW_LAGGING']);
    await bare.close();
  });

  it('/ready is 503 with per-partition progress until caught up, then 200', async () => {
    report = { ready: false, partitions: [{ partition: 0, phase: 'rebuilding', position: '10', target: '40', percent: 25 }] };
    const notReady = await get('/ready');
    expect(notReady).toMatchObject({ status: 503, body: { code: 'VIEW_LAGGING', partitions: [{ partition: 0, percent: 25 }] } });
    report = { ready: true, partitions: [] };
    expect(await get('/ready')).toMatchObject({ status: 200, body: { ready: true } });
    expect(await get('/health')).toMatchObject({ status: 200, body: { status: 'up' } });
  });

  it('an unknown route is 404 ROUTE_NOT_FOUND as problem+json', async () => {
    expect((await get('/api/v1/nothing')).body).toMatchObject({ status: 404, code: 'ROUTE_NOT_FOUND' });
  });
});

describe('metrics', () => {
  it('GET /metrics exposes readiness, per-partition lag and request latency by route template', async () => {
    const progress = new Progress({ info: () => {}, warn: () => {}, error: () => {} });
    progress.assign([0]);
    progress.begin(0, 'rebuild', 0n, 10n, 'missing');
    progress.advance(0, 4n, 4);
    const metrics = new QueryMetrics(progress, waiters);
    const timed = buildApp({ views: stores, waiters, readiness: () => progress.report(), minVersionWaitMs: 10, metrics, keys: testDirectory() });
    await timed.inject({ method: 'GET', url: `/api/v1/accounts/${alice}/balance`, headers: adminHeaders });
    const response = await timed.inject({ method: 'GET', url: '/metrics' });
    expect(response.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(response.body).toContain('query_ready 0');
    expect(response.body).toContain('query_events_applied 4');
    expect(response.body).toContain('query_partition_lag_offsets{partition="0"} 6');
    expect(response.body).toContain('query_http_request_duration_seconds_count{route="/api/v1/accounts/:id/balance",method="GET",status="2xx"} 1');
    await timed.close();
  });
});

// Last: it writes an account of its own, which the list tests above do not expect.
describe('history actor', () => {
  it('entries show the actor: the API key whose command caused the event (DESIGN §9)', async () => {
    const carol = '0c0c0c0c-0000-4000-8000-00000000ca01';
    await write(history(carol, [ev.opened(0), ev.deposited(7, 7)]).map((e, i) => ({ ...e, actor: i === 0 ? 'bootstrap' : 'teller0000001' })));
    const { body } = await get(`/api/v1/accounts/${carol}/history`);
    expect(body.items.map((e: { type: string; actor: string }) => [e.type, e.actor])).toEqual([['MoneyDeposited', 'teller0000001'], ['AccountOpened', 'bootstrap']]);
  });
});
