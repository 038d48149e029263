// DESIGN §11's read side over real LevelDB view stores, no broker: search and filters, balance as
// of a time, filtered history and statements, asked through fastify's inject().
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountEvent, EventPayload } from '../../../schemas/types.ts';
import { buildApp } from '../../../processors/query/routes.ts';
import { ViewStores, accountMatches } from '../../../processors/query/stores.ts';
import { accountIndexKeys } from '../../../processors/query/keys.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { accountsOf, applyEvents, type AccountSummary } from '../../../processors/query/views/index.ts';
import { mergeFilteredScans } from '../../../processors/query/views/filtered-list.ts';
import { statementColumns } from '../../../processors/query/statement.ts';
import { ev } from './given.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

const partitions = 4;
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const alice = id(1);
const ghost = id(999);
const day = 86_400_000;
const jan1 = Date.UTC(2024, 0, 1);
const at = (ms: number) => new Date(ms).toISOString();

let dir: string;
let stores: ViewStores;
let app: ReturnType<typeof buildApp>;
const offsets = new Map<number, bigint>();

const opened = (ownerName: string, currency = 'EUR', initialBalance = 0): EventPayload => ({ type: 'AccountOpened', ownerName, currency, initialBalance, overdraftLimit: 0 });
const on = (accountId: string, sequence: number, occurredAt: number, payload: EventPayload): AccountEvent => ({
  eventId: `${accountId}:${sequence}`, accountId, sequence, commandId: `cmd-${accountId}-${sequence}`, occurredAt, payload,
});

async function write(events: AccountEvent[]): Promise<void> {
  const byPartition = new Map<number, AccountEvent[]>();
  for (const e of events) byPartition.set(stores.partitionOf(e.accountId), [...(byPartition.get(stores.partitionOf(e.accountId)) ?? []), e]);
  for (const [p, batch] of byPartition) {
    const { store } = await stores.openPartition(p);
    const next = (offsets.get(p) ?? 0n) + BigInt(batch.length);
    offsets.set(p, next);
    await store.write(applyEvents(await store.readAccounts(accountsOf(batch)), batch), next);
  }
}

const get = async (url: string, headers: Record<string, string> = {}) => {
  const response = await app.inject({ method: 'GET', url, headers: { ...adminHeaders, ...headers } });
  return { status: response.statusCode, headers: response.headers, text: response.body, body: String(response.headers['content-type'] ?? '').includes('json') ? response.json() : undefined };
};

/** Every item of a paged list, following nextCursor. */
async function allPages(url: string): Promise<{ items: Array<Record<string, unknown>>; pages: number }> {
  const items: Array<Record<string, unknown>> = [];
  let next = url;
  for (let pages = 1; pages < 100; pages += 1) {
    const { status, body } = await get(next);
    expect(status, JSON.stringify(body)).toBe(200);
    items.push(...body.items);
    if (body.nextCursor === null) return { items, pages };
    next = `${url}&cursor=${body.nextCursor}`;
  }
  throw new Error('too many pages');
}

// Alice: opened Jan 1 with 100, a deposit each day Jan 2..Jan 11 (10 each, references with CSV
// specials), a withdrawal Jan 12, then an event whose clock stepped back a day (Jan 11).
const aliceEvents: AccountEvent[] = [
  on(alice, 1, jan1, opened('Ada Lovelace', 'EUR', 100)),
  ...Array.from({ length: 10 }, (_, i) => on(alice, i + 2, jan1 + (i + 1) * day, ev.deposited(10, 110 + 10 * i, i === 0 ? 'rent, "March"\nsecond line' : `r${i}`))),
  on(alice, 12, jan1 + 11 * day, ev.withdrawn(50, 150, 'atm')),
  on(alice, 13, jan1 + 10 * day, ev.deposited(1, 151)),
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'query-read-side-'));
  stores = new ViewStores(dir, 'test.events', partitions);
  for (let p = 0; p < partitions; p += 1) await stores.openPartition(p);
  app = buildApp({ views: stores, waiters: new VersionWaiters(100), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 100, keys: testDirectory() });
  await write(aliceEvents);
  const names = ['Adam Smith', 'ada byron', 'Grace Hopper', 'Adele', 'Alan Turing'];
  for (let n = 10; n < 60; n += 1) {
    const currency = n % 3 === 0 ? 'USD' : 'EUR';
    await write([on(id(n), 1, jan1, opened(`${names[n % names.length]} ${n}`, currency))]);
  }
  for (const n of [12, 15, 30]) await write([on(id(n), 2, jan1 + day, ev.closed())]);
});

afterAll(async () => {
  await app.close();
  await stores.closeAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('account search and filters', () => {
  it('an owner-name prefix matches case-insensitively, ordered by name, every match exactly once across pages', async () => {
    const { items, pages } = await allPages('/api/v1/accounts?ownerName=ADA&limit=3');
    const names = items.map((a) => a.ownerName as string);
    expect(names.every((n) => n.toLowerCase().startsWith('ada'))).toBe(true);
    expect(names.length).toBe(1 + 20); // Ada Lovelace, 10 "ada byron", 10 "Adam Smith"
    expect(new Set(items.map((a) => a.accountId)).size).toBe(names.length);
    expect(names.map((n) => n.toLowerCase())).toEqual([...names.map((n) => n.toLowerCase())].sort());
    expect(pages).toBeGreaterThan(5);
  });

  it('status, currency and name combine, and a closed account leaves the OPEN index', async () => {
    const closed = await allPages('/api/v1/accounts?status=CLOSED&limit=2');
    expect(closed.items.map((a) => a.accountId).sort()).toEqual([id(12), id(15), id(30)]);
    const open = await allPages('/api/v1/accounts?status=OPEN&limit=1000');
    expect(open.items.some((a) => a.accountId === id(12))).toBe(false);
    expect(open.items.length).toBe(51 - 3);
    const usdGrace = await allPages('/api/v1/accounts?currency=usd&ownerName=grace&status=OPEN&limit=2');
    expect(usdGrace.items.map((a) => a.ownerName).sort()).toEqual(['Grace Hopper 12', 'Grace Hopper 27', 'Grace Hopper 42', 'Grace Hopper 57'].filter((_, i) => i !== 0));
  });

  it('a metadata filter is accepted and matches no account while rows carry no metadata', async () => {
    const { status, body } = await get('/api/v1/accounts?metadata.segment=retail');
    expect([status, body.items, body.nextCursor]).toEqual([200, [], null]);
  });

  it('metadata on a row is indexed and matched by every metadata filter given', () => {
    const row = { accountId: 'a', ownerName: 'Ada', currency: 'EUR', balance: 0, status: 'OPEN', version: 1, openedAt: 0, updatedAt: 0, heldBalance: 0, overdraftLimit: 0, metadata: { segment: 'retail', region: 'eu' } } as AccountSummary;
    expect(accountIndexKeys(row)).toContain('f\u0000metadata.segment\u0000retail\u0000a');
    expect(accountMatches({ metadata: [['segment', 'retail'], ['region', 'eu']] }, row)).toBe(true);
    expect(accountMatches({ metadata: [['segment', 'retail'], ['region', 'us']] }, row)).toBe(false);
  });

  it('a page stops where a partition stopped scanning, and the next page goes on from there', () => {
    const row = (accountId: string) => ({ accountId } as AccountSummary);
    const page = mergeFilteredScans([{ matches: [{ sortKey: 'a', row: row('a') }, { sortKey: 'm', row: row('m') }], scannedThrough: null }, { matches: [], scannedThrough: 'f' }], 10);
    expect(page).toEqual({ items: [row('a')], lastKey: 'f' });
  });

  it('a cursor of other filters, an unknown parameter, a repeated one or 10,000 metadata filters is 400 VALIDATION_FAILED', async () => {
    const first = await get('/api/v1/accounts?ownerName=ad&limit=1');
    const urls = [
      `/api/v1/accounts?ownerName=gr&cursor=${first.body.nextCursor}`,
      '/api/v1/accounts?owner=ada',
      '/api/v1/accounts?status=OPEN&status=CLOSED',
      '/api/v1/accounts?status=open',
      '/api/v1/accounts?currency=EURO',
      '/api/v1/accounts?metadata.bad%20key=x',
      `/api/v1/accounts?${Array.from({ length: 10_000 }, (_, i) => `metadata.k${i}=v`).join('&')}`,
    ];
    for (const url of urls) {
      const { status, body } = await get(url);
      expect([url.slice(0, 80), status, body.code]).toEqual([url.slice(0, 80), 400, 'VALIDATION_FAILED']);
    }
    expect((await get(urls[6] as string)).body.detail).toMatch(/at most 32 \(metadataFiltersMax\), got 10000/);
  });
});

describe('balance as of a time', () => {
  const asOf = async (time: string) => (await get(`/api/v1/accounts/${alice}/balance?asOf=${encodeURIComponent(time)}`)).body;

  it('counts an event exactly at asOf, and not one a millisecond later', async () => {
    expect(await asOf(at(jan1 + 3 * day))).toEqual({ accountId: alice, balance: 130, version: 4, asOf: at(jan1 + 3 * day) });
    expect(await asOf(at(jan1 + 3 * day - 1))).toMatchObject({ balance: 120, version: 3 });
    expect(await asOf(at(jan1))).toMatchObject({ balance: 100, version: 1 });
    expect(await asOf('2024-01-04T01:00:00+02:00')).toMatchObject({ balance: 120, version: 3 });
  });

  it('before the account opened is 404 ACCOUNT_NOT_FOUND', async () => {
    expect((await asOf(at(jan1 - 1))).code).toBe('ACCOUNT_NOT_FOUND');
    expect((await asOf('1999-12-31')).code).toBe('ACCOUNT_NOT_FOUND');
    expect((await get(`/api/v1/accounts/${ghost}/balance?asOf=2030-01-01`)).body.code).toBe('ACCOUNT_NOT_FOUND');
  });

  it('an event whose clock stepped back counts from its predecessor\'s time, so time never runs backwards', async () => {
    expect(await asOf(at(jan1 + 10 * day))).toMatchObject({ balance: 200, version: 11 });
    expect(await asOf(at(jan1 + 11 * day))).toMatchObject({ balance: 151, version: 13 });
    expect(await asOf('2030-01-01')).toMatchObject({ balance: 151, version: 13 });
  });

  it('a malformed or impossible asOf is 400 VALIDATION_FAILED', async () => {
    for (const bad of ['yesterday', '2024-02-30', '2024-01-01T25:00:00Z', '2024-01-01T10:00:00', '1e400', '']) {
      const { status, body } = await get(`/api/v1/accounts/${alice}/balance?asOf=${encodeURIComponent(bad)}`);
      expect([bad, status, body.code]).toEqual([bad, 400, 'VALIDATION_FAILED']);
    }
  });
});

describe('history filters', () => {
  const sequences = (items: Array<Record<string, unknown>>) => items.map((e) => e.sequence);

  it('by type and time range, newest first, paged', async () => {
    const deposits = await allPages(`/api/v1/accounts/${alice}/history?type=MoneyDeposited&limit=4`);
    expect(sequences(deposits.items)).toEqual([13, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2]);
    const range = await allPages(`/api/v1/accounts/${alice}/history?from=${at(jan1 + 2 * day)}&to=${at(jan1 + 4 * day)}&limit=2`);
    expect(sequences(range.items)).toEqual([5, 4, 3]);
    const both = await allPages(`/api/v1/accounts/${alice}/history?type=MoneyWithdrawn,AccountOpened&from=2024-01-01&limit=1`);
    expect(sequences(both.items)).toEqual([12, 1]);
    const none = await get(`/api/v1/accounts/${alice}/history?from=2025-01-01`);
    expect(none.body).toEqual({ items: [], nextCursor: null });
  });

  it('an unknown type, from after to, or a malformed time is 400 VALIDATION_FAILED', async () => {
    for (const query of ['type=Deposit', 'type=MoneyDeposited,', 'from=2024-02-01&to=2024-01-01', 'to=soon', 'type=MoneyDeposited&type=AccountOpened']) {
      const { status, body } = await get(`/api/v1/accounts/${alice}/history?${query}`);
      expect([query, status, body.code]).toEqual([query, 400, 'VALIDATION_FAILED']);
    }
    expect((await get(`/api/v1/accounts/${alice}/history?from=2024-02-01&to=2024-01-01`)).body.detail).toMatch(/from .* must not be after to/);
  });
});

describe('statements', () => {
  const range = `from=${at(jan1 + 2 * day)}&to=${at(jan1 + 11 * day)}`;

  it('JSON: opening, closing, totals and the entries of the range, oldest first', async () => {
    const { status, body } = await get(`/api/v1/accounts/${alice}/statement?${range}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ accountId: alice, currency: 'EUR', from: at(jan1 + 2 * day), to: at(jan1 + 11 * day), openingBalance: 110, closingBalance: 151, totalCredits: 91, totalDebits: 50 });
    expect(body.entries.map((e: { sequence: number }) => e.sequence)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    expect(body.entries.at(-2)).toMatchObject({ type: 'MoneyWithdrawn', amount: 50, signedAmount: -50, balanceAfter: 150, reference: 'atm', actor: null });
  });

  it('CSV: the header row, RFC 4180 quoting, and opening + credits − debits = closing', async () => {
    const csv = await get(`/api/v1/accounts/${alice}/statement?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.text.split('\r\n')[0]).toBe('sequence,occurredAt,type,amount,signedAmount,balanceAfter,reference,transferId,counterpartyAccountId,commandId,actor');
    const records = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
    expect(Object.keys(records[0] ?? {})).toEqual([...statementColumns]);
    expect(records[1]?.reference).toBe('rent, "March"\nsecond line');
    const signed = records.map((r) => Number(r.signedAmount));
    expect(0 + signed.reduce((a, b) => a + b, 0)).toBe(Number(records.at(-1)?.balanceAfter));
    expect(records.map((r) => r.type === 'MoneyWithdrawn' ? -Number(r.amount) : Number(r.amount))).toEqual(signed);
    const viaAccept = await get(`/api/v1/accounts/${alice}/statement`, { accept: 'text/csv' });
    expect(viaAccept.text).toBe(csv.text);
  });

  it('a range before the account opened is empty, opening and closing 0', async () => {
    const { body } = await get(`/api/v1/accounts/${alice}/statement?from=2020-01-01&to=2020-12-31`);
    expect(body).toMatchObject({ openingBalance: 0, closingBalance: 0, totalCredits: 0, totalDebits: 0, entries: [] });
  });

  it('?minVersion waits on the statement and the as-of balance too, then 503 VIEW_LAGGING', async () => {
    for (const url of [`/api/v1/accounts/${alice}/statement?minVersion=99`, `/api/v1/accounts/${alice}/balance?asOf=2024-01-05&minVersion=99`]) {
      const { status, body } = await get(url);
      expect([url, status, body.code]).toEqual([url, 503, 'VIEW_LAGGING']);
    }
    expect((await get(`/api/v1/accounts/${alice}/statement?minVersion=13&format=csv`)).status).toBe(200);
  });
});

describe('statements of holds, limits and settlements', () => {
  const holder = id(3);
  const hold = (type: 'HoldPlaced' | 'HoldVoided' | 'HoldExpired', holdId: string, amount: number): EventPayload =>
    type === 'HoldPlaced' ? { type, holdId, amount, expiresAt: jan1 + 30 * day, reference: null } : { type, holdId, amount };
  const holderEvents: AccountEvent[] = [
    { ...on(holder, 1, jan1, opened('Hold Er', 'EUR', 500)), actor: 'key-opener' },
    { ...on(holder, 2, jan1 + 1, { type: 'OverdraftLimitSet', limit: 1000 }), actor: 'key-admin' },
    on(holder, 3, jan1 + 2, hold('HoldPlaced', 'h1', 100)),
    { ...on(holder, 4, jan1 + 3, { type: 'HoldCaptured', holdId: 'h1', amount: 40, balanceAfter: 460, released: 100 }), actor: 'key-merchant' },
    on(holder, 5, jan1 + 4, hold('HoldPlaced', 'h2', 30)),
    on(holder, 6, jan1 + 5, hold('HoldVoided', 'h2', 30)),
    on(holder, 7, jan1 + 6, hold('HoldPlaced', 'h3', 20)),
    on(holder, 8, jan1 + 7, hold('HoldExpired', 'h3', 20)),
    on(holder, 9, jan1 + 8, ev.debited(60, 400, alice, 'transfer-1')),
    on(holder, 10, jan1 + 9, { type: 'TransferSettled', transferId: 'transfer-1', toAccountId: alice, amount: 60, inFlightReleased: 60 }),
  ];
  beforeAll(() => write(holderEvents));

  it('events that move no money sign 0 whatever their amount, a capture −amount, and the actor column is the history entry\'s', async () => {
    const csv = await get(`/api/v1/accounts/${holder}/statement?format=csv`);
    expect(csv.status).toBe(200);
    const records = parse(csv.text, { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => [r.type, Number(r.signedAmount), Number(r.balanceAfter), r.actor])).toEqual([
      ['AccountOpened', 500, 500, 'key-opener'],
      ['OverdraftLimitSet', 0, 500, 'key-admin'],
      ['HoldPlaced', 0, 500, ''],
      ['HoldCaptured', -40, 460, 'key-merchant'],
      ['HoldPlaced', 0, 460, ''],
      ['HoldVoided', 0, 460, ''],
      ['HoldPlaced', 0, 460, ''],
      ['HoldExpired', 0, 460, ''],
      ['TransferDebited', -60, 400, ''],
      ['TransferSettled', 0, 400, ''],
    ]);
    const { body } = await get(`/api/v1/accounts/${holder}/statement`);
    expect(body).toMatchObject({ openingBalance: 0, closingBalance: 400, totalCredits: 500, totalDebits: 100 });
    expect(body.entries[3]).toMatchObject({ type: 'HoldCaptured', amount: 40, signedAmount: -40, actor: 'key-merchant' });
  });

  it('the history filters by the hold and limit types', async () => {
    const { status, body } = await get(`/api/v1/accounts/${holder}/history?type=HoldPlaced,HoldCaptured,HoldVoided,HoldExpired,OverdraftLimitSet,TransferSettled`);
    expect(status).toBe(200);
    expect(body.items.map((e: { sequence: number }) => e.sequence)).toEqual([10, 8, 7, 6, 5, 4, 3, 2]);
  });
});
