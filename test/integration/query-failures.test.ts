// A broken event log stops the query processor instead of being served: a gap in an account's
// sequences or a record that is not an event is fatal, and the offset of the bad record is never
// committed, so a restart meets it again rather than skipping it.
import { afterEach, expect, it } from 'vitest';
import { waitFor, type TestLedger } from '../support/ledger.ts';
import { EventWriter, getJson, ModelBank, startQuery, type InProcessQuery } from './query-support.ts';
import { createTestLedger } from '../support/ledger.ts';
import { ViewInvariantViolation } from '../../processors/query/views/index.ts';
import { UnprocessableEventError } from '../../processors/query/consumer.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(name: string): Promise<{ ledger: TestLedger; writer: EventWriter; query: InProcessQuery }> {
  const ledger = await createTestLedger(name, { partitions: 2 });
  const writer = await EventWriter.start(ledger);
  const query = await startQuery(ledger);
  cleanups.push(() => ledger.close(), () => writer.stop(), () => query.processor.stop());
  return { ledger, writer, query };
}

async function committedOffset(ledger: TestLedger, partition: number): Promise<string | undefined> {
  const [group] = await ledger.admin.fetchOffsets({ groupId: `${ledger.config.appId}.query`, topics: [ledger.topics.events] });
  return group?.partitions.find((p) => p.partition === partition)?.offset;
}

it('a gap in an account\'s sequences is fatal and the bad event is not committed', async () => {
  const { ledger, writer, query } = await setUp('query-gap');
  const bank = new ModelBank();
  const accountId = bank.open('Gap', 'EUR', 10);
  bank.deposit(accountId, 1);
  bank.deposit(accountId, 2);
  const [opened, , third] = bank.drain();
  await writer.write([opened!]);
  expect((await getJson(query.processor.url, `/api/v1/accounts/${accountId}?minVersion=1`)).status).toBe(200);
  const partition = writer.partitionOf(accountId);
  const before = await committedOffset(ledger, partition);
  await writer.write([third!]);
  const error = await waitFor(() => query.fatal[0], { what: 'the fatal error', timeoutMs: 30_000 });
  expect(error).toBeInstanceOf(ViewInvariantViolation);
  expect(error.message).toMatch(/gap/);
  expect(await committedOffset(ledger, partition)).toBe(before);
});

it('a record that is not an event in the wire format is fatal and not committed', async () => {
  const { ledger, query } = await setUp('query-poison');
  const producer = ledger.kafka.producer();
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  await producer.send({ topic: ledger.topics.events, messages: [{ key: 'x:1', value: Buffer.from('not avro'), partition: 1 }] });
  const error = await waitFor(() => query.fatal[0], { what: 'the fatal error', timeoutMs: 30_000 });
  expect(error).toBeInstanceOf(UnprocessableEventError);
  expect(error.message).toContain(`${ledger.topics.events}/1@0`);
  expect(await committedOffset(ledger, 1)).not.toBe('1');
});
