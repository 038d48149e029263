// A bad event in the log never stops the query processor (DESIGN §8): events are kept forever,
// so a consumer that stopped on one would meet it again on every restart. The event is parked
// (kept in the partition's view store with its place in the log), counted in /metrics and
// logged; the consumer commits past it and every later event that still follows is applied.
import { afterEach, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { EventWriter, getJson, ModelBank, startQuery, type InProcessQuery } from './query-support.ts';
import type { AccountEvent } from '../../schemas/types.ts';
import type { ParkedEvent } from '../../processors/query/views/index.ts';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  ledger: TestLedger;
  writer: EventWriter;
  query: InProcessQuery;
  raw: Producer;
  stopQuery(): Promise<void>;
}

async function setUp(name: string): Promise<Setup> {
  const ledger = await createTestLedger(name, { partitions: 2 });
  const writer = await EventWriter.start(ledger);
  const raw = ledger.kafka.producer();
  await raw.connect();
  const query = await startQuery(ledger);
  let stopped = false;
  const stopQuery = async () => {
    if (stopped) return;
    stopped = true;
    await query.processor.stop();
  };
  cleanups.push(() => ledger.close(), () => writer.stop(), () => raw.disconnect(), stopQuery);
  return { ledger, writer, query, raw, stopQuery };
}

/** Writes records as they are, to the partition given, outside the account processor's rules. */
async function writeRaw(s: Setup, partition: number, records: Array<{ key: string; value: Buffer }>): Promise<void> {
  await s.raw.send({ topic: s.ledger.topics.events, acks: -1, messages: records.map((r) => ({ ...r, partition })) });
}

const encoded = (s: Setup, event: AccountEvent) => ({ key: event.eventId, value: s.ledger.codecs.events.encode(event) });

async function parkedIn(query: InProcessQuery, count: number): Promise<ParkedEvent[]> {
  return waitFor(
    async () => {
      const parked = await query.processor.stores.parked();
      return parked.length >= count ? parked : undefined;
    },
    { what: `${count} parked event(s)` },
  );
}

async function metric(query: InProcessQuery, pattern: RegExp): Promise<string> {
  const text = await (await fetch(`${query.processor.url}/metrics`)).text();
  return text.match(pattern)?.[0] ?? `no line matching ${pattern} in:\n${text}`;
}

async function committedOffset(ledger: TestLedger, partition: number): Promise<string | undefined> {
  const [group] = await ledger.admin.fetchOffsets({ groupId: `${ledger.config.appId}.query`, topics: [ledger.topics.events] });
  return group?.partitions.find((p) => p.partition === partition)?.offset;
}

it('a record that is not an event is parked and counted, later events are applied, and a restart does not meet it again', async () => {
  const s = await setUp('query-poison');
  const bank = new ModelBank();
  const accountId = bank.open('After Poison', 'EUR', 10);
  const partition = s.writer.partitionOf(accountId);
  await writeRaw(s, partition, [{ key: 'x:1', value: Buffer.from('not avro') }]);
  await s.writer.write(bank.drain());

  const account = await getJson(s.query.processor.url, `/api/v1/accounts/${accountId}?minVersion=1`);
  expect(account.status).toBe(200);
  expect(account.body).toMatchObject({ accountId, balance: 10, version: 1 });
  const [parked] = await parkedIn(s.query, 1);
  expect(parked).toMatchObject({ partition, offset: '0', key: 'x:1', reason: 'UNDECODABLE', accountId: null, sequence: null });
  expect(parked?.detail).toMatch(/magic byte/);
  expect(await metric(s.query, /^query_events_parked_total\{reason="UNDECODABLE"\} .*$/m)).toBe('query_events_parked_total{reason="UNDECODABLE"} 1');
  expect(await metric(s.query, new RegExp(`^query_parked_events\\{partition="${partition}"\\} .*$`, 'm'))).toBe(`query_parked_events{partition="${partition}"} 1`);
  expect(s.query.lines.filter((l) => l.msg.startsWith('event parked'))).toHaveLength(1);
  expect(s.query.fatal).toEqual([]);
  // Offset 0 is the bad record, 1 the event, then the transaction's marker.
  await waitFor(async () => (BigInt((await committedOffset(s.ledger, partition)) ?? -1) >= 2n ? true : undefined), { what: 'the offset committed past the parked record' });

  // The process that used to crash-loop here: a restart resumes past the record and serves.
  await s.stopQuery();
  const again = await startQuery(s.ledger);
  cleanups.push(() => again.processor.stop());
  bank.deposit(accountId, 5);
  await s.writer.write(bank.drain());
  expect((await getJson(again.processor.url, `/api/v1/accounts/${accountId}?minVersion=2`)).body).toMatchObject({ balance: 15, version: 2 });
  expect(again.fatal).toEqual([]);
  expect(await again.processor.stores.parked()).toEqual([parked]);
});

it('a gap parks the event and the account\'s later events; every other account goes on', async () => {
  const s = await setUp('query-gap');
  const bank = new ModelBank();
  const gappy = bank.open('Gap', 'EUR', 10);
  bank.deposit(gappy, 1);
  bank.deposit(gappy, 2);
  bank.deposit(gappy, 3);
  const [opened, , third, fourth] = bank.drain();
  await s.writer.write([opened!]);
  await s.writer.write([third!]);
  const other = bank.open('Other', 'EUR', 7);
  await s.writer.write([fourth!, ...bank.drain()]);

  expect((await getJson(s.query.processor.url, `/api/v1/accounts/${other}?minVersion=1`)).body).toMatchObject({ balance: 7, version: 1 });
  const parked = await parkedIn(s.query, 2);
  expect(parked.map((p) => [p.accountId, p.sequence, p.reason])).toEqual([
    [gappy, 4, 'SEQUENCE_GAP'],
    [gappy, 3, 'SEQUENCE_GAP'],
  ]);
  expect(parked[1]?.detail).toMatch(/gap: sequence does not follow version 1/);
  // The account's view stays at its last applied event; a reader asking for more is told it lags.
  expect((await getJson(s.query.processor.url, `/api/v1/accounts/${gappy}`)).body).toMatchObject({ balance: 10, version: 1 });
  const lagging = await getJson(s.query.processor.url, `/api/v1/accounts/${gappy}?minVersion=3`);
  expect([lagging.status, lagging.body.code]).toEqual([503, 'VIEW_LAGGING']);
  expect(await metric(s.query, /^query_events_parked_total\{reason="SEQUENCE_GAP"\} .*$/m)).toBe('query_events_parked_total{reason="SEQUENCE_GAP"} 2');
  expect(s.query.fatal).toEqual([]);
});

it('a second copy of an account on another partition is parked WRONG_PARTITION; the account is served from its own', async () => {
  const s = await setUp('query-copy');
  const bank = new ModelBank();
  const accountId = bank.open('Copied', 'EUR', 100);
  const [opened] = bank.drain();
  const home = s.writer.partitionOf(accountId);
  // What a command produced with another partitioner used to cause: the account opened again elsewhere.
  const copy: AccountEvent = { ...opened!, commandId: randomUUID(), payload: { type: 'AccountOpened', ownerName: 'Copy', currency: 'EUR', initialBalance: 999, overdraftLimit: 0 } };
  await writeRaw(s, 1 - home, [encoded(s, copy)]);
  await s.writer.write([opened!]);

  expect((await getJson(s.query.processor.url, `/api/v1/accounts/${accountId}?minVersion=1`)).body).toMatchObject({ ownerName: 'Copied', balance: 100 });
  const [parked] = await parkedIn(s.query, 1);
  expect(parked).toMatchObject({ partition: 1 - home, key: `${accountId}:1`, reason: 'WRONG_PARTITION', accountId, sequence: 1 });
  expect(parked?.detail).toContain(`belongs in partition ${home}`);
  expect(s.query.fatal).toEqual([]);
});

it('an applied sequence written again with another content, or a second AccountOpened, is parked and changes nothing', async () => {
  const s = await setUp('query-conflict');
  const bank = new ModelBank();
  const accountId = bank.open('Original', 'EUR', 50);
  bank.deposit(accountId, 5);
  const [opened, deposited] = bank.drain();
  await s.writer.write([opened!, deposited!]);
  expect((await getJson(s.query.processor.url, `/api/v1/accounts/${accountId}?minVersion=2`)).status).toBe(200);

  const forged: AccountEvent = { ...deposited!, commandId: randomUUID(), payload: { type: 'MoneyDeposited', amount: 500, balanceAfter: 550, reference: null } };
  const reopened: AccountEvent = { ...opened!, eventId: `${accountId}:3`, sequence: 3, commandId: randomUUID() };
  await s.writer.write([deposited!, forged, reopened]);
  bank.withdraw(accountId, 1);
  await s.writer.write(bank.drain());

  expect((await getJson(s.query.processor.url, `/api/v1/accounts/${accountId}?minVersion=3`)).body).toMatchObject({ balance: 54, version: 3 });
  const parked = await parkedIn(s.query, 2);
  expect(parked.map((p) => [p.sequence, p.reason])).toEqual([
    [3, 'ALREADY_OPEN'],
    [2, 'CONFLICTING_DUPLICATE'],
  ]);
  const history = await getJson(s.query.processor.url, `/api/v1/accounts/${accountId}/history`);
  expect(history.body.items.map((e: { type: string; amount: number }) => [e.type, e.amount])).toEqual([
    ['MoneyWithdrawn', 1],
    ['MoneyDeposited', 5],
    ['AccountOpened', 50],
  ]);
  expect(s.query.fatal).toEqual([]);
});
