// The query processor against the real broker and registry: a scripted event log (written with
// transactions through the real codecs, no account processor) becomes views that every route
// answers; pages return each entry once; minVersion reads your writes or answers 503; duplicated
// events count once; and after a reset with Kafka's own ConsumerGroupCommand, or after the store
// is deleted, the rebuilt views are identical.
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor, type TestLedger } from '../support/ledger.ts';
import { allPages, EventWriter, getJson, ModelBank, startQuery, type InProcessQuery, type ModelAccount, type ModelEntry } from './query-support.ts';
import { adminHeaders } from '../support/keys.ts';
import { createTestLedger } from '../support/ledger.ts';

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, '..', '..');

let ledger: TestLedger;
let writer: EventWriter;
let query: InProcessQuery | undefined;
const bank = new ModelBank();
const ids = {} as { alice: string; bob: string; carol: string; dave: string };
const transfers = {} as { completed: string; pending: string; refusedMissing: string; refusedCurrency: string };

const base = () => query!.processor.url;

/** Waits until the processor has applied everything committed to the events topic so far. */
async function caughtUp(): Promise<void> {
  const ends = await ledger.admin.fetchTopicOffsets(ledger.topics.events);
  await waitFor(
    () => (ends.every(({ partition, high }) => (query!.processor.progress.position(partition) ?? -1n) >= BigInt(high)) ? true : undefined),
    { what: 'the query processor to reach the end of the events topic', timeoutMs: 60_000 },
  );
}

async function ready(): Promise<void> {
  await waitFor(async () => ((await getJson(base(), '/ready')).status === 200 ? true : undefined), { what: '/ready', timeoutMs: 60_000 });
  await caughtUp();
}

/** Everything the routes answer, for comparing views before and after a rebuild. */
async function snapshot(): Promise<Record<string, unknown>> {
  const accounts = await allPages<ModelAccount>(base(), '/api/v1/accounts', 50);
  const histories: Record<string, unknown> = {};
  for (const { accountId } of accounts) histories[accountId] = await allPages(base(), `/api/v1/accounts/${accountId}/history`, 100);
  const transferViews: Record<string, unknown> = {};
  for (const id of bank.transfers.keys()) transferViews[id] = (await getJson(base(), `/api/v1/transfers/${id}`)).body;
  return { accounts, histories, transferViews };
}

function scriptBank(): void {
  ids.alice = bank.open('Alice', 'EUR', 10_000);
  ids.bob = bank.open('Bob', 'EUR', 0);
  ids.carol = bank.open('Carol', 'USD', 500);
  ids.dave = bank.open('Dave', 'EUR', 100);
  for (let i = 0; i < 240; i += 1) bank.deposit(ids.alice, 1 + i, i % 3 === 0 ? `invoice ${i}` : null);
  bank.withdraw(ids.alice, 700, 'rent');
  transfers.completed = bank.transfer(ids.alice, ids.bob, 2_500, 'completed');
  transfers.pending = bank.transfer(ids.alice, ids.dave, 75, 'pending');
  transfers.refusedMissing = bank.transfer(ids.bob, '00000000-0000-4000-8000-00000000dead', 100, { refusedWith: 'ACCOUNT_NOT_FOUND' });
  transfers.refusedCurrency = bank.transfer(ids.alice, ids.carol, 10, { refusedWith: 'CURRENCY_MISMATCH' });
  bank.close(ids.dave);
  // Enough accounts that every partition holds some and the account list needs many pages.
  for (let i = 0; i < 120; i += 1) {
    const id = bank.open(`Customer ${i}`, i % 2 === 0 ? 'EUR' : 'GBP', i * 10);
    if (i % 4 === 0) bank.deposit(id, 5);
  }
}

beforeAll(async () => {
  ledger = await createTestLedger('query', { partitions: 4 });
  writer = await EventWriter.start(ledger);
  scriptBank();
  const events = bank.drain();
  // An aborted transaction first: its records (here: a bogus AccountOpened for alice) must never be seen.
  await writer.write([{ ...events[0]!, payload: { type: 'AccountOpened', ownerName: 'Mallory', currency: 'EUR', initialBalance: 999_999, overdraftLimit: 0 } }], { abort: true });
  for (let i = 0; i < events.length; i += 97) await writer.write(events.slice(i, i + 97));
  query = await startQuery(ledger, { MIN_VERSION_WAIT_MS: '1500' });
  await ready();
});

afterAll(async () => {
  await query?.processor.stop();
  await writer?.stop();
  await ledger?.close();
});

describe('views of a scripted ledger', () => {
  it('every partition holds events, so every store is exercised', () => {
    const used = new Set([...bank.accounts.keys()].map((id) => writer.partitionOf(id)));
    expect(used.size).toBe(ledger.config.partitions);
  });

  it('each account, its balance and its full history match the model (the aborted transaction is invisible)', async () => {
    for (const [accountId, account] of bank.accounts) {
      expect((await getJson(base(), `/api/v1/accounts/${accountId}`)).body).toEqual(account);
      const { body: balance } = await getJson(base(), `/api/v1/accounts/${accountId}/balance`);
      expect(balance).toEqual({ accountId, currency: account.currency, balance: account.balance, version: account.version });
    }
    expect((await getJson(base(), `/api/v1/accounts/${ids.alice}`)).body.ownerName).toBe('Alice');
    expect((await getJson(base(), `/api/v1/accounts/${ids.dave}`)).body).toMatchObject({ status: 'CLOSED', balance: 0 });
  });

  it('history pages are newest first and return every entry exactly once', async () => {
    for (const limit of [1, 7, 100, 1000]) {
      const entries = await allPages<ModelEntry>(base(), `/api/v1/accounts/${ids.alice}/history`, limit);
      expect(entries).toEqual([...bank.history.get(ids.alice)!].reverse());
    }
    for (const accountId of [ids.bob, ids.carol, ids.dave]) {
      expect(await allPages(base(), `/api/v1/accounts/${accountId}/history`, 3)).toEqual([...bank.history.get(accountId)!].reverse());
    }
  });

  it('account list pages return every account exactly once, in accountId order', async () => {
    const expected = [...bank.accounts.values()].sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    for (const limit of [1, 9, 100, 1000]) expect(await allPages(base(), '/api/v1/accounts', limit)).toEqual(expected);
  });

  it('transfers are completed, pending, or failed with the destination code', async () => {
    for (const [name, transferId] of Object.entries(transfers)) {
      const model = bank.transfers.get(transferId)!;
      const { status, body } = await getJson(base(), `/api/v1/transfers/${transferId}`);
      expect([name, status]).toEqual([name, 200]);
      expect(body).toMatchObject({ ...model, currency: bank.accounts.get(model.fromAccountId)!.currency });
    }
    expect((await getJson(base(), `/api/v1/transfers/${transfers.completed}`)).body.creditedAt).toEqual(expect.any(String));
    expect((await getJson(base(), '/api/v1/transfers/00000000-0000-4000-8000-000000000000')).body.code).toBe('TRANSFER_NOT_FOUND');
  });

  it('errors are problem+json: unknown account 404, bad id or limit 400', async () => {
    const missing = await fetch(`${base()}/api/v1/accounts/00000000-0000-4000-8000-000000000001`, { headers: adminHeaders });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await missing.json()).toMatchObject({ code: 'ACCOUNT_NOT_FOUND', status: 404 });
    expect((await getJson(base(), '/api/v1/accounts/nope')).body.code).toBe('VALIDATION_FAILED');
    expect((await getJson(base(), '/api/v1/accounts?limit=1001')).body.code).toBe('VALIDATION_FAILED');
  });

  it('every account and transfer asked with its id in upper case is found, on whatever partition the upper case hashes to', async () => {
    const lettered = [...bank.accounts.keys()].filter((id) => id !== id.toUpperCase());
    // Most upper-case spellings hash elsewhere; before ids were canonical they answered 404 or 503.
    expect(lettered.filter((id) => writer.partitionOf(id.toUpperCase()) !== writer.partitionOf(id)).length).toBeGreaterThan(0);
    for (const accountId of lettered) {
      const upper = accountId.toUpperCase();
      const account = bank.accounts.get(accountId)!;
      expect([upper, (await getJson(base(), `/api/v1/accounts/${upper}`)).body]).toEqual([upper, account]);
      expect((await getJson(base(), `/api/v1/accounts/${upper}/balance?minVersion=${account.version}`)).body).toMatchObject({ accountId, version: account.version });
    }
    expect(await allPages(base(), `/api/v1/accounts/${ids.alice.toUpperCase()}/history`, 50)).toEqual([...bank.history.get(ids.alice)!].reverse());
    for (const transferId of Object.values(transfers)) {
      expect((await getJson(base(), `/api/v1/transfers/${transferId.toUpperCase()}`)).body).toMatchObject({ transferId, status: bank.transfers.get(transferId)!.status });
    }
  });
});

describe('read your writes', () => {
  it('minVersion waits for an event produced after the request arrived', async () => {
    const next = bank.accounts.get(ids.carol)!.version + 1;
    const answer = getJson(base(), `/api/v1/accounts/${ids.carol}/balance?minVersion=${next}`);
    bank.deposit(ids.carol, 42);
    await writer.write(bank.drain());
    expect(await answer).toMatchObject({ status: 200, body: { version: next, balance: bank.accounts.get(ids.carol)!.balance } });
  });

  it('minVersion on an account that is about to be opened waits for it', async () => {
    const accountId = bank.open('Eve', 'EUR', 1);
    const answer = getJson(base(), `/api/v1/accounts/${accountId}?minVersion=1`);
    await writer.write(bank.drain());
    expect(await answer).toMatchObject({ status: 200, body: { accountId, ownerName: 'Eve', version: 1 } });
  });

  it('a version that does not arrive in time is 503 VIEW_LAGGING with Retry-After', async () => {
    const version = bank.accounts.get(ids.bob)!.version;
    const started = Date.now();
    const { status, headers, body } = await getJson(base(), `/api/v1/accounts/${ids.bob}/history?minVersion=${version + 1000}`);
    expect(status).toBe(503);
    expect(headers.get('retry-after')).toBe('1');
    expect(body).toMatchObject({ code: 'VIEW_LAGGING', version, minVersion: version + 1000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
  });
});

describe('duplicates and replay', () => {
  it('re-published events (same key and value) do not double-count', async () => {
    const before = await snapshot();
    const credit = bank.events.find((e) => e.payload.type === 'TransferCredited' && e.payload.transferId === transfers.completed)!;
    const events = [...bank.events.filter((e) => e.accountId === ids.alice).slice(0, 20), credit];
    await writer.write(events);
    await writer.write(events.slice(0, 5));
    await caughtUp();
    expect(await snapshot()).toEqual(before);
    expect(query!.fatal).toEqual([]);
  });

  it("a reset with Kafka's ConsumerGroupCommand (--to-earliest) and a restart rebuild identical views", async () => {
    const before = await snapshot();
    await query!.processor.stop();
    query = undefined;
    const { stdout } = await run('npm', [
      'run', '--silent', 'kafka', '--', 'consumer-groups', '--bootstrap-server', ledger.brokers.join(','),
      '--reset-offsets', '--to-earliest', '--group', `${ledger.config.appId}.query`, '--topic', ledger.topics.events, '--execute',
    ], { cwd: repoRoot, timeout: 120_000 });
    expect(stdout).toContain(ledger.topics.events);
    const [group] = await ledger.admin.fetchOffsets({ groupId: `${ledger.config.appId}.query`, topics: [ledger.topics.events] });
    expect(group!.partitions.every((p) => p.offset === '0')).toBe(true);
    query = await startQuery(ledger);
    await ready();
    const rebuilt = query.lines.filter((l) => l.msg === 'rebuilding partition views from the start of the log');
    expect(rebuilt.map((l) => l.partition).sort()).toEqual([0, 1, 2, 3]);
    expect(rebuilt.every((l) => String(l.reason).includes('reset'))).toBe(true);
    expect(await snapshot()).toEqual(before);
  });

  it('deleting the view store and restarting rebuilds identical views', async () => {
    const before = await snapshot();
    await query!.processor.stop();
    query = undefined;
    rmSync(join(ledger.config.dataDir, 'query'), { recursive: true, force: true });
    query = await startQuery(ledger);
    await ready();
    const rebuilt = query.lines.filter((l) => l.msg === 'rebuilding partition views from the start of the log');
    expect(rebuilt.map((l) => l.reason)).toEqual(Array(4).fill('the view store is missing'));
    expect(await snapshot()).toEqual(before);
  });

  it('a plain restart resumes from the checkpoint without rebuilding', async () => {
    await query!.processor.stop();
    query = await startQuery(ledger);
    await ready();
    const resumed = query.lines.filter((l) => l.msg === 'resuming partition views');
    expect(resumed).toHaveLength(4);
  });
});
