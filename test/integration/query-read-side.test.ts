// DESIGN §11 against the real broker: a scripted log written through Kafka transactions reaches a
// real query processor, whose live stream (read with a real HTTP client) carries every committed
// event once with its partition and offset, resumes after Last-Event-ID, and refuses ids from
// another topic; statements, as-of balances and filters agree with the model bank.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { openStream, type SseConnection } from '../support/sse.ts';
import { adminHeaders } from '../support/keys.ts';
import { allPages, EventWriter, getJson, ModelBank, startQuery, type InProcessQuery, type ModelAccount } from './query-support.ts';

let ledger: TestLedger;
let writer: EventWriter;
let query: InProcessQuery | undefined;
const bank = new ModelBank();
const base = () => query!.processor.url;
const streamUrl = () => `${base()}/api/v1/events/stream`;

const framesOf = async (client: SseConnection, count: number) =>
  waitFor(() => (client.frames.length >= count ? client.frames.slice(0, count) : undefined), { what: `${count} stream frames`, timeoutMs: 60_000 });

beforeAll(async () => {
  ledger = await createTestLedger('query-read-side', { partitions: 3 });
  writer = await EventWriter.start(ledger);
  query = await startQuery(ledger, { STREAM_CLIENTS_MAX: '3' });
  await waitFor(async () => ((await getJson(base(), '/ready')).status === 200 ? true : undefined), { what: '/ready', timeoutMs: 60_000 });
});

afterAll(async () => {
  await query?.processor.stop();
  await writer?.stop();
  await ledger?.close();
});

describe('live event stream on the broker', () => {
  it('carries each committed event once, with <partition>:<offset>, and resumes after Last-Event-ID', async () => {
    const client = await openStream(streamUrl());
    const ada = bank.open('Ada Lovelace', 'EUR', 100);
    const grace = bank.open('Grace Hopper', 'USD', 0);
    for (let i = 1; i <= 5; i += 1) bank.deposit(ada, i);
    const first = bank.drain();
    const aborted = first[0]!;
    await writer.write([{ ...aborted, payload: { type: 'AccountOpened', ownerName: 'Mallory', currency: 'EUR', initialBalance: 1, overdraftLimit: 0 } }], { abort: true });
    await writer.write(first);
    const frames = await framesOf(client, first.length);
    const seen = frames.map((f) => JSON.parse(f.data));
    expect(seen.map((e) => e.eventId).sort()).toEqual(first.map((e) => e.eventId).sort());
    expect(seen.some((e) => e.payload.ownerName === 'Mallory')).toBe(false);
    for (const frame of frames) {
      const data = JSON.parse(frame.data);
      expect(frame.id).toBe(`${data.partition}:${data.offset}`);
      expect(data.partition).toBe(writer.partitionOf(data.accountId));
      expect(frame.event).toBe(data.type);
    }
    const lastSeen = frames.at(-1)!.id!;
    client.close();

    bank.withdraw(ada, 3, 'atm');
    bank.deposit(grace, 7);
    const missed = bank.drain();
    await writer.write(missed);
    const resumed = await openStream(streamUrl(), { 'last-event-id': lastSeen });
    const again = await framesOf(resumed, missed.length);
    expect(again.map((f) => JSON.parse(f.data).eventId).sort()).toEqual(missed.map((e) => e.eventId).sort());
    bank.deposit(grace, 1);
    await writer.write(bank.drain());
    await framesOf(resumed, missed.length + 1);
    expect(resumed.frames.length).toBe(missed.length + 1);
    resumed.close();
  });

  it('a Last-Event-ID of another topic or malformed is 400, and one stream past STREAM_CLIENTS_MAX is 503', async () => {
    // Every partition, used or not (two accounts leave one of three without events): an offset past its log end was never issued.
    for (const id of ['7:0', '0:99999999', '1:99999999', '2:99999999', 'zero:1']) {
      const refused = await openStream(streamUrl(), { 'last-event-id': id });
      expect([id, refused.status, JSON.parse(refused.body).code]).toEqual([id, 400, 'VALIDATION_FAILED']);
    }
    // The streams of the test before are closed by the client; wait until the server saw it.
    await waitFor(async () => (/\nquery_event_streams 0\n/.test(await (await fetch(`${base()}/metrics`)).text()) ? true : undefined), { what: 'no open streams', timeoutMs: 10_000 });
    const open = await Promise.all([1, 2, 3].map(() => openStream(streamUrl())));
    expect(open.map((c) => c.status)).toEqual([200, 200, 200]);
    const refused = await openStream(streamUrl());
    expect([refused.status, JSON.parse(refused.body).code]).toEqual([503, 'UNAVAILABLE']);
    for (const client of open) client.close();
  });
});

describe('statements, as-of balances and filters on the broker', () => {
  it('agree with the model bank', async () => {
    const ada = [...bank.accounts.values()].find((a) => a.ownerName === 'Ada Lovelace')!;
    const history = bank.history.get(ada.accountId)!;
    await waitFor(async () => ((await getJson(base(), `/api/v1/accounts/${ada.accountId}?minVersion=${ada.version}`)).status === 200 ? true : undefined), { what: 'ada', timeoutMs: 30_000 });
    const csv = await fetch(`${base()}/api/v1/accounts/${ada.accountId}/statement?minVersion=${ada.version}`, { headers: { ...adminHeaders, accept: 'text/csv' } });
    const records = parse(await csv.text(), { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => [Number(r.sequence), r.type, Number(r.balanceAfter), r.commandId])).toEqual(history.map((e) => [e.sequence, e.type, e.balanceAfter, e.commandId]));
    const middle = history[3]!;
    const asOf = await getJson(base(), `/api/v1/accounts/${ada.accountId}/balance?asOf=${middle.occurredAt}`);
    expect(asOf.body).toEqual({ accountId: ada.accountId, balance: middle.balanceAfter, version: middle.sequence, asOf: middle.occurredAt });
    const found = await allPages<ModelAccount>(base(), '/api/v1/accounts?ownerName=ada%20l&currency=EUR', 10);
    expect(found.map((a) => a.accountId)).toEqual([ada.accountId]);
    const withdrawals = await getJson(base(), `/api/v1/accounts/${ada.accountId}/history?type=MoneyWithdrawn`);
    expect(withdrawals.body.items.map((e: { reference: string }) => e.reference)).toEqual(['atm']);
  });
});
