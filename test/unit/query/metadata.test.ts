// Metadata on the read side (DESIGN §10, §11), over real LevelDB view stores, no broker: the
// account row carries its opening's metadata, every history entry its own command's; rows of the
// store keep it (and rows without it stay as short as before); the list filter by metadata seeks
// its index, pages and combines with the other filters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent, EventPayload, Metadata } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores } from '../../../processors/query/stores.ts';
import { AccountCache, accountsCachedCharsMax } from '../../../processors/query/account-cache.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { rows } from '../../../processors/query/rows.ts';
import { accountsOf, applyEvents, entryRef } from '../../../processors/query/views/index.ts';
import { A, ev, fold, t0 } from './given.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

const tagged = (accountId: string, sequence: number, payload: EventPayload, metadata?: Metadata): AccountEvent => ({
  eventId: `${accountId}:${sequence}`, accountId, sequence, commandId: `cmd-${accountId}-${sequence}`, occurredAt: t0 + sequence, payload, ...(metadata === undefined ? {} : { metadata }),
});

describe('metadata in the views', () => {
  const events = [
    tagged(A, 1, ev.opened(100), { segment: 'retail', 'crm.id': 'c-1' }),
    tagged(A, 2, ev.deposited(50, 150), { invoice: 'INV-7' }),
    tagged(A, 3, ev.withdrawn(10, 140)),
  ];

  it("gives the account row its opening's metadata, which later commands do not change", () => {
    const { rows: views } = fold(events);
    expect(views.get(A)?.metadata).toEqual({ segment: 'retail', 'crm.id': 'c-1' });
  });

  it("gives every history entry its own command's metadata, {} for one without", () => {
    const { changes } = fold(events);
    expect(changes.history.map((h) => h.entry.metadata)).toEqual([{ segment: 'retail', 'crm.id': 'c-1' }, { invoice: 'INV-7' }, {}]);
  });

  it('treats a replayed event with other metadata as a conflicting duplicate, not as the same event', () => {
    const first = fold(events);
    const stored = new Map(first.changes.history.map(({ accountId, entry }) => [entryRef(accountId, entry.sequence), entry]));
    expect(applyEvents(first.rows, [events[1]!], stored).parked).toEqual([]);
    expect(applyEvents(first.rows, [{ ...events[1]!, metadata: { invoice: 'INV-8' } }], stored).parked.map((p) => p.reason)).toEqual(['CONFLICTING_DUPLICATE']);
  });
});

describe('view rows', () => {
  const { rows: views, changes } = fold([tagged(A, 1, ev.opened(100), { segment: 'retail' }), tagged(A, 2, ev.deposited(5, 105))]);

  it('keep metadata through the store encoding', () => {
    const row = views.get(A)!;
    expect(rows.account.decode(rows.account.encode(row))).toEqual(row);
    for (const { entry } of changes.history) expect(rows.history.decode(rows.history.encode(entry))).toEqual(entry);
  });

  it('of an account or entry without metadata are as short as before it existed, and decode with {}', () => {
    const entry = changes.history[1]!.entry;
    expect(JSON.parse(rows.history.encode(entry))).toHaveLength(11);
    expect(rows.history.decode(rows.history.encode(entry)).metadata).toEqual({});
    const bare = { ...views.get(A)!, metadata: {} };
    expect(JSON.parse(rows.account.encode(bare))).toHaveLength(10);
    expect(rows.account.decode(rows.account.encode(bare)).metadata).toEqual({});
  });
});

describe('the account cache', () => {
  const row = (accountId: string) => ({ ...fold([tagged(accountId, 1, ev.opened(1))]).rows.get(accountId)! });

  it('evicts the oldest past its row bound or its character bound, and counts a replaced row once', () => {
    const cache = new AccountCache(3, 100);
    for (const id of ['a', 'b', 'c', 'd']) cache.set(id, row(id), 10);
    expect([cache.get('a'), cache.usage()]).toEqual([undefined, { rows: 3, chars: 30 }]);
    cache.set('b', row('b'), 60);
    expect(cache.usage()).toEqual({ rows: 3, chars: 80 });
    cache.set('e', row('e'), 30);
    // 110 characters: c (the oldest) goes; b was moved last when replaced.
    expect([cache.get('c'), cache.get('b')?.accountId, cache.usage()]).toEqual([undefined, 'b', { rows: 3, chars: 100 }]);
  });

  it('keeps the newest row even when it alone is past the character bound', () => {
    const cache = new AccountCache(3, 100);
    cache.set('a', row('a'), 10);
    cache.set('big', row('big'), 500);
    expect([cache.get('a'), cache.get('big')?.accountId, cache.usage()]).toEqual([undefined, 'big', { rows: 1, chars: 500 }]);
  });
});

describe('metadata over HTTP', () => {
  const partitions = 4;
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  let dir: string;
  let stores: ViewStores;
  let app: ReturnType<typeof buildApp>;
  let offset = 0n;

  async function write(events: AccountEvent[]): Promise<void> {
    for (const event of events) {
      const { store } = await stores.openPartition(stores.partitionOf(event.accountId));
      offset += 1n;
      await store.write(applyEvents(await store.readAccounts(accountsOf([event])), [event]), offset);
    }
  }

  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url, headers: adminHeaders });
    return { status: response.statusCode, body: response.json() as Record<string, unknown> };
  };

  /** Follows nextCursor to the end; the ids of every page, in order. */
  async function allIds(url: string): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 100; page += 1) {
      const { status, body } = await get(`${url}${cursor === null ? '' : `&cursor=${cursor}`}`);
      expect(status).toBe(200);
      ids.push(...(body.items as Array<{ accountId: string }>).map((a) => a.accountId));
      cursor = body.nextCursor as string | null;
      if (cursor === null) return ids;
    }
    throw new Error('more than 100 pages');
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'query-metadata-'));
    stores = new ViewStores(dir, 'test.events', partitions);
    for (let p = 0; p < partitions; p += 1) await stores.openPartition(p);
    app = buildApp({ views: stores, waiters: new VersionWaiters(100), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 150, keys: testDirectory() });
    // 60 accounts: every third retail, every second in region eu, the rest without metadata; one closed retail account.
    for (let n = 1; n <= 60; n += 1) {
      const metadata: Record<string, string> = {};
      if (n % 3 === 0) metadata.segment = 'retail';
      if (n % 2 === 0) metadata.region = 'eu';
      await write([tagged(id(n), 1, ev.opened(n, n % 5 === 0 ? 'USD' : 'EUR'), metadata)]);
    }
    await write([tagged(id(3), 2, ev.withdrawn(3, 0), { reason: 'payout' }), tagged(id(3), 3, ev.closed())]);
  });

  afterAll(async () => {
    await app.close();
    await stores.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the account cache within its character bound when rows carry metadata at the bounds', async () => {
    const { store } = await stores.openPartition(0);
    const large = Object.fromEntries(Array.from({ length: 32 }, (_, k) => [`k${String(k).padStart(39, '0')}`, 'v'.repeat(500)]));
    const ids = Array.from({ length: 600 }, (_, n) => id(10_000 + n));
    for (let from = 0; from < ids.length; from += 100) {
      const batch = ids.slice(from, from + 100).map((accountId) => tagged(accountId, 1, ev.opened(1), large));
      offset += 1n;
      await store.write(applyEvents(await store.readAccounts(accountsOf(batch)), batch), offset);
    }
    const usage = store.cacheUsage();
    expect(usage.chars).toBeLessThanOrEqual(accountsCachedCharsMax);
    expect(usage.rows).toBeLessThan(ids.length);
    // Evicted rows are still read, from the store.
    expect(store.account(ids[0]!)?.metadata).toEqual(large);
    // ~10 MB through LevelDB: more than the default 5 s on a busy two-core machine.
  }, 60_000);

  it('answers the account with its metadata, and history entries with theirs', async () => {
    expect((await get(`/api/v1/accounts/${id(6)}`)).body).toMatchObject({ accountId: id(6), metadata: { segment: 'retail', region: 'eu' } });
    expect((await get(`/api/v1/accounts/${id(1)}`)).body).toMatchObject({ metadata: {} });
    const history = await get(`/api/v1/accounts/${id(3)}/history`);
    expect((history.body.items as Array<{ type: string; metadata: Metadata }>).map((e) => [e.type, e.metadata])).toEqual([
      ['AccountClosed', {}],
      ['MoneyWithdrawn', { reason: 'payout' }],
      ['AccountOpened', { segment: 'retail' }],
    ]);
  });

  it('lists exactly the accounts whose metadata has the value, in id order across pages', async () => {
    const expected = Array.from({ length: 20 }, (_, i) => id(3 * (i + 1)));
    expect(await allIds('/api/v1/accounts?metadata.segment=retail&limit=7')).toEqual(expected);
    expect(await allIds('/api/v1/accounts?metadata.segment=wholesale&limit=7')).toEqual([]);
  });

  it('combines metadata filters with each other and with status, currency and owner name', async () => {
    const both = Array.from({ length: 10 }, (_, i) => id(6 * (i + 1)));
    expect(await allIds('/api/v1/accounts?metadata.segment=retail&metadata.region=eu&limit=3')).toEqual(both);
    expect(await allIds('/api/v1/accounts?metadata.region=eu&metadata.segment=retail&limit=1000')).toEqual(both);
    expect(await allIds('/api/v1/accounts?metadata.segment=retail&status=CLOSED&limit=5')).toEqual([id(3)]);
    expect(await allIds('/api/v1/accounts?metadata.segment=retail&currency=USD&limit=5')).toEqual([id(15), id(30), id(45), id(60)]);
    expect((await allIds('/api/v1/accounts?metadata.segment=retail&ownerName=ada&limit=5')).sort()).toEqual(Array.from({ length: 20 }, (_, i) => id(3 * (i + 1))).sort());
  });

  it('finds an account by a value at the bound, 500 characters outside the BMP (1000 UTF-16 units), and refuses 501', async () => {
    const long = '😀'.repeat(500);
    await write([tagged(id(70), 1, ev.opened(1), { note: long })]);
    expect(await allIds(`/api/v1/accounts?metadata.note=${encodeURIComponent(long)}&limit=5`)).toEqual([id(70)]);
    const refused = await get(`/api/v1/accounts?metadata.note=${encodeURIComponent(`${long}😀`)}&limit=5`);
    expect([refused.status, refused.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('matches values exactly: no prefix, no other case, and no key of Object.prototype', async () => {
    expect(await allIds('/api/v1/accounts?metadata.segment=retai&limit=5')).toEqual([]);
    expect(await allIds('/api/v1/accounts?metadata.segment=RETAIL&limit=5')).toEqual([]);
    expect(await allIds('/api/v1/accounts?metadata.segment=retail&metadata.constructor=x&limit=5')).toEqual([]);
  });
});
