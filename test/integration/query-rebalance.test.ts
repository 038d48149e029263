// Two query processors in one group split the partitions: each serves the accounts of its own
// partitions and answers 503 VIEW_LAGGING (never 404) for the others. When one leaves, the other
// takes every partition back; a store that fell behind while another instance owned its
// partition is stale and is rebuilt, and the views again match the model bank.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor, type TestLedger } from '../support/ledger.ts';
import { EventWriter, getJson, ModelBank, startQuery, type InProcessQuery } from './query-support.ts';
import { createTestLedger } from '../support/ledger.ts';

let ledger: TestLedger;
let writer: EventWriter;
let first: InProcessQuery | undefined;
let second: InProcessQuery | undefined;
const secondDataDir = mkdtempSync(join(tmpdir(), 'query-rebalance-second-'));
const bank = new ModelBank();

const ready = (query: InProcessQuery) =>
  waitFor(async () => ((await getJson(query.processor.url, '/ready')).status === 200 ? true : undefined), { what: '/ready', timeoutMs: 60_000 });

const assigned = (query: InProcessQuery) => query.processor.progress.report().partitions.map((p) => p.partition).sort();

beforeAll(async () => {
  ledger = await createTestLedger('query-rebalance', { partitions: 4 });
  writer = await EventWriter.start(ledger);
  for (let i = 0; i < 40; i += 1) bank.deposit(bank.open(`Owner ${i}`, 'EUR', i), 1 + i);
  await writer.write(bank.drain());
  first = await startQuery(ledger);
  await ready(first);
});

afterAll(async () => {
  await second?.processor.stop();
  await first?.processor.stop();
  await writer?.stop();
  await ledger?.close();
  rmSync(secondDataDir, { recursive: true, force: true });
});

it('two instances split the partitions and each serves only its own accounts', async () => {
  second = await startQuery(ledger, { DATA_DIR: secondDataDir });
  await waitFor(() => (assigned(first!).length === 2 && assigned(second!).length === 2 ? true : undefined), { what: 'a 2+2 split', timeoutMs: 60_000 });
  await ready(first!);
  await ready(second!);
  expect([...assigned(first!), ...assigned(second!)].sort()).toEqual([0, 1, 2, 3]);
  for (const [accountId, account] of bank.accounts) {
    const owner = assigned(first!).includes(writer.partitionOf(accountId)) ? first! : second!;
    const other = owner === first ? second! : first!;
    expect((await getJson(owner.processor.url, `/api/v1/accounts/${accountId}`)).body).toEqual(account);
    expect((await getJson(other.processor.url, `/api/v1/accounts/${accountId}`)).body).toMatchObject({ status: 503, code: 'VIEW_LAGGING' });
  }
});

it('when one leaves, the other rebuilds the partitions that moved on without it and serves everything', async () => {
  // New events while the second instance owns half the partitions: the first one's old stores of
  // those partitions fall behind the group's committed offsets.
  for (const accountId of [...bank.accounts.keys()]) bank.deposit(accountId, 1000);
  await writer.write(bank.drain());
  await waitFor(
    async () => {
      for (const [accountId, account] of bank.accounts) {
        const owner = assigned(first!).includes(writer.partitionOf(accountId)) ? first! : second!;
        if ((await getJson(owner.processor.url, `/api/v1/accounts/${accountId}?minVersion=${account.version}`)).status !== 200) return undefined;
      }
      return true;
    },
    { what: 'both instances to apply the new events', timeoutMs: 60_000 },
  );
  const movedToSecond = assigned(second!);
  await second!.processor.stop();
  second = undefined;
  await waitFor(() => (assigned(first!).length === 4 ? true : undefined), { what: 'the first instance to own every partition', timeoutMs: 60_000 });
  await ready(first!);
  const rebuilt = first!.lines.filter((l) => l.msg === 'rebuilding partition views from the start of the log' && String(l.reason).includes('stale'));
  expect(rebuilt.map((l) => l.partition).sort()).toEqual(movedToSecond);
  for (const [accountId, account] of bank.accounts) {
    expect((await getJson(first!.processor.url, `/api/v1/accounts/${accountId}`)).body).toEqual(account);
  }
});
