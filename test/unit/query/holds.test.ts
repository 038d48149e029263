// Holds on the query side (DESIGN §11): the fold of HoldPlaced/HoldCaptured/HoldVoided/HoldExpired
// into one record per hold, and the holds routes over real LevelDB view stores (no broker),
// asked through fastify's inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent, EventPayload } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores } from '../../../processors/query/stores.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { accountsOf, applyEvents, holdRef, holdsNamedBy, type HoldRecord } from '../../../processors/query/views/index.ts';
import { A, ev, event, fold, history, t0 } from './given.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

const placed = (holdId: string, amount: number, reference: string | null = null): EventPayload => ({ type: 'HoldPlaced', holdId, amount, expiresAt: t0 + 3_600_000, reference });
const captured = (holdId: string, amount: number, balanceAfter: number, released: number): EventPayload => ({ type: 'HoldCaptured', holdId, amount, balanceAfter, released });
const voided = (holdId: string, amount: number): EventPayload => ({ type: 'HoldVoided', holdId, amount });
const expired = (holdId: string, amount: number): EventPayload => ({ type: 'HoldExpired', holdId, amount });

describe('hold fold', () => {
  it('a placed hold is ACTIVE with its amount, reference, expiry, placing command and actor', () => {
    const events = history(A, [ev.opened(500), placed('h1', 200, 'hotel')]).map((e) => ({ ...e, actor: 'teller01' }));
    const { changes } = fold(events);
    expect(changes.holds.get(holdRef(A, 'h1'))).toEqual({
      storedStatus: null,
      hold: {
        holdId: 'h1', accountId: A, amount: 200, status: 'ACTIVE', reference: 'hotel', expiresAt: t0 + 3_600_000, placedAt: t0 + 2, placedSequence: 2,
        capturedAmount: null, releasedAmount: null, closedAt: null, commandId: `cmd-${A}-2`, actor: 'teller01',
      },
    });
  });

  it('a partial capture records what was taken and what was released; void and expiry release it all', () => {
    const { changes } = fold(history(A, [
      ev.opened(500), placed('h1', 200), placed('h2', 50), placed('h3', 30),
      captured('h1', 120, 380, 200), voided('h2', 50), expired('h3', 30),
    ]));
    const hold = (id: string) => changes.holds.get(holdRef(A, id))?.hold;
    expect(hold('h1')).toMatchObject({ status: 'CAPTURED', capturedAmount: 120, releasedAmount: 80, closedAt: t0 + 5, placedAt: t0 + 2, commandId: `cmd-${A}-2` });
    expect(hold('h2')).toMatchObject({ status: 'VOIDED', capturedAmount: null, releasedAmount: 50, closedAt: t0 + 6 });
    expect(hold('h3')).toMatchObject({ status: 'EXPIRED', capturedAmount: null, releasedAmount: 30, closedAt: t0 + 7 });
    // Placed and closed in one batch: nothing stored before, so no status key to delete.
    expect([...changes.holds.values()].map((c) => c.storedStatus)).toEqual([null, null, null]);
    expect(changes.parked).toEqual([]);
  });

  it('a hold closed in a later batch starts from its stored record, whose status key the store then deletes', () => {
    const first = fold(history(A, [ev.opened(500), placed('h1', 200)]));
    const stored = new Map<string, HoldRecord | undefined>([[holdRef(A, 'h1'), first.changes.holds.get(holdRef(A, 'h1'))?.hold]]);
    const later = [event(A, 3, voided('h1', 200))];
    expect(holdsNamedBy([...history(A, [ev.opened(500), placed('h1', 200)]), ...later])).toEqual([{ accountId: A, holdId: 'h1' }]);
    const changes = applyEvents(first.rows, later, new Map(), stored);
    expect(changes.holds.get(holdRef(A, 'h1'))).toMatchObject({ storedStatus: 'ACTIVE', hold: { status: 'VOIDED', amount: 200, placedSequence: 2, releasedAmount: 200 } });
  });

  it('a hold placed again in a later batch is parked, not folded over the stored one', () => {
    const first = fold(history(A, [ev.opened(500), placed('h1', 200)]));
    const stored = new Map<string, HoldRecord | undefined>([[holdRef(A, 'h1'), first.changes.holds.get(holdRef(A, 'h1'))?.hold]]);
    const changes = applyEvents(first.rows, [event(A, 3, placed('h1', 5))], new Map(), stored);
    expect(changes.parked.map((p) => [p.reason, p.detail.includes('hold h1 was already placed at sequence 2')])).toEqual([['INVALID_EVENT', true]]);
    expect(changes.holds.size).toBe(0);
  });

  it('a replayed hold event changes nothing', () => {
    const events = history(A, [ev.opened(500), placed('h1', 200), captured('h1', 200, 300, 200)]);
    const first = fold(events);
    const replay = applyEvents(first.rows, events.slice(1));
    expect(replay.duplicates).toBe(2);
    expect(replay.holds.size).toBe(0);
  });

  it('an ending event for an unknown, already closed or smaller hold is parked, and the account row stays where it was', () => {
    const cases: Array<[string, EventPayload[], string]> = [
      ['unknown', [ev.opened(500), voided('nope', 10)], 'hold nope is unknown to the views'],
      ['closed twice', [ev.opened(500), placed('h1', 10), voided('h1', 10), expired('h1', 10)], 'hold h1 is already VOIDED'],
      ['capture over the hold', [ev.opened(500), placed('h1', 10), captured('h1', 11, 489, 10)], 'captures 11 of a hold of 10'],
      ['release of another amount', [ev.opened(500), placed('h1', 10), expired('h1', 9)], 'releases 9 of a hold of 10'],
      ['placed twice', [ev.opened(500), placed('h1', 10), placed('h1', 10)], 'hold h1 was already placed at sequence 2'],
    ];
    for (const [name, payloads, detail] of cases) {
      const events = history(A, payloads);
      const { rows, changes } = fold(events);
      expect([name, changes.parked.map((p) => [p.index, p.reason])]).toEqual([name, [[events.length - 1, 'INVALID_EVENT']]]);
      expect(changes.parked[0]?.detail).toContain(detail);
      expect(rows.get(A)?.version).toBe(events.length - 1);
    }
  });
});

describe('holds routes over the view store', () => {
  const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const hid = (n: number) => `11111111-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const holder = id(1);
  let dir: string;
  let stores: ViewStores;
  let app: ReturnType<typeof buildApp>;
  let offset = 0n;

  /** One batch, folded as the consumer folds it: rows, duplicates and the holds it ends read first. */
  async function write(events: AccountEvent[]): Promise<void> {
    const { store } = await stores.openPartition(stores.partitionOf(holder));
    const current = await store.readAccounts(accountsOf(events));
    const changes = applyEvents(current, events, new Map(), await store.reads.holdRecords(holdsNamedBy(events)));
    expect(changes.parked).toEqual([]);
    offset += BigInt(events.length);
    await store.write(changes, offset);
  }
  const get = async (url: string) => {
    const response = await app.inject({ method: 'GET', url, headers: adminHeaders });
    return { status: response.statusCode, body: response.json() };
  };
  const on = (sequence: number, payload: EventPayload): AccountEvent => ({ ...event(holder, sequence, payload), actor: 'teller01' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'query-holds-'));
    stores = new ViewStores(dir, 'test.events', 2);
    for (let p = 0; p < 2; p += 1) await stores.openPartition(p);
    app = buildApp({ views: stores, waiters: new VersionWaiters(100), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 100, keys: testDirectory() });
    // Six holds, each batch closing what an earlier batch placed: h1 captured in part, h2 voided,
    // h3 expired, h4..h6 active.
    await write([on(1, ev.opened(1000)), on(2, placed(hid(1), 300, 'hotel')), on(3, placed(hid(2), 100))]);
    await write([on(4, placed(hid(3), 50)), on(5, captured(hid(1), 120, 880, 300)), on(6, voided(hid(2), 100))]);
    await write([on(7, expired(hid(3), 50)), on(8, placed(hid(4), 10)), on(9, placed(hid(5), 20)), on(10, placed(hid(6), 30))]);
  });

  afterAll(async () => {
    await app.close();
    await stores.closeAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists every hold newest placed first, and each status shows only its holds', async () => {
    const all = await get(`/api/v1/accounts/${holder}/holds`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((h: { holdId: string; status: string }) => [h.holdId, h.status])).toEqual([
      [hid(6), 'ACTIVE'], [hid(5), 'ACTIVE'], [hid(4), 'ACTIVE'], [hid(3), 'EXPIRED'], [hid(2), 'VOIDED'], [hid(1), 'CAPTURED'],
    ]);
    expect(all.body.nextCursor).toBeNull();
    const byStatus = async (status: string) => (await get(`/api/v1/accounts/${holder}/holds?status=${status}`)).body.items.map((h: { holdId: string }) => h.holdId);
    expect(await byStatus('ACTIVE')).toEqual([hid(6), hid(5), hid(4)]);
    expect(await byStatus('CAPTURED')).toEqual([hid(1)]);
    expect(await byStatus('VOIDED')).toEqual([hid(2)]);
    expect(await byStatus('EXPIRED')).toEqual([hid(3)]);
  });

  it('a hold answers with its amounts and times; captured in part it shows what was taken and released', async () => {
    const { status, body } = await get(`/api/v1/accounts/${holder}/holds/${hid(1).toUpperCase()}`);
    expect(status).toBe(200);
    expect(body).toEqual({
      holdId: hid(1), accountId: holder, amount: 300, status: 'CAPTURED', reference: 'hotel',
      expiresAt: new Date(t0 + 3_600_000).toISOString(), placedAt: new Date(t0 + 2).toISOString(),
      capturedAmount: 120, releasedAmount: 180, closedAt: new Date(t0 + 5).toISOString(), commandId: `cmd-${holder}-2`, actor: 'teller01',
    });
    expect((await get(`/api/v1/accounts/${holder}/holds/${hid(5)}`)).body).toMatchObject({ status: 'ACTIVE', capturedAmount: null, releasedAmount: null, closedAt: null });
  });

  it('pages one hold at a time through a status, each exactly once, and a cursor stays with its status and account', async () => {
    const seen: string[] = [];
    let url = `/api/v1/accounts/${holder}/holds?status=ACTIVE&limit=1`;
    let cursor: string | null = null;
    for (let page = 0; page < 10; page += 1) {
      const { status, body } = await get(url);
      expect(status).toBe(200);
      seen.push(...body.items.map((h: { holdId: string }) => h.holdId));
      cursor = body.nextCursor;
      if (cursor === null) break;
      url = `/api/v1/accounts/${holder}/holds?status=ACTIVE&limit=1&cursor=${cursor}`;
    }
    expect(seen).toEqual([hid(6), hid(5), hid(4)]);
    const first = await get(`/api/v1/accounts/${holder}/holds?limit=2`);
    expect(first.body.items.length).toBe(2);
    expect((await get(`/api/v1/accounts/${holder}/holds?limit=2&status=ACTIVE&cursor=${first.body.nextCursor}`)).body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await get(`/api/v1/accounts/${id(2)}/holds?limit=2&cursor=${first.body.nextCursor}`)).body).toMatchObject({ code: 'VALIDATION_FAILED' });
    const rest = await get(`/api/v1/accounts/${holder}/holds?limit=4&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((h: { holdId: string }) => h.holdId)).toEqual([hid(4), hid(3), hid(2), hid(1)]);
    expect(rest.body.nextCursor).toBeNull();
  });

  it('answers 404 for an unknown hold or account, 400 with a code for a bad status or id, 503 for a version not reached', async () => {
    expect(await get(`/api/v1/accounts/${holder}/holds/${hid(99)}`)).toMatchObject({ status: 404, body: { code: 'HOLD_NOT_FOUND' } });
    expect(await get(`/api/v1/accounts/${id(99)}/holds/${hid(1)}`)).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    expect(await get(`/api/v1/accounts/${id(99)}/holds`)).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    for (const bad of ['?status=PENDING', '?status=active', '?limit=0', '?cursor=%25%25', '/not-a-uuid']) {
      expect([bad, await get(`/api/v1/accounts/${holder}/holds${bad}`)]).toMatchObject([bad, { status: 400, body: { code: 'VALIDATION_FAILED' } }]);
    }
    expect(await get(`/api/v1/accounts/${holder}/holds?minVersion=11`)).toMatchObject({ status: 503, body: { code: 'VIEW_LAGGING' } });
    expect(await get(`/api/v1/accounts/${holder}/holds/${hid(1)}?minVersion=11`)).toMatchObject({ status: 503, body: { code: 'VIEW_LAGGING' } });
    expect((await get(`/api/v1/accounts/${holder}/holds?minVersion=10`)).status).toBe(200);
  });
});
