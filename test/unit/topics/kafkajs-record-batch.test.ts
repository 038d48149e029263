// The kafkajs patch's one-pass record batch encoder (recordBatch/v0/encodeUncompressed.js) must
// write exactly the bytes kafkajs' own path wrote (a Record per message, a RecordBatch, then the
// partition entry, as produce/v3's partitionsEncoder did), for every kind of message the ledger
// and its tests produce; and hand back null, so the original path runs, for anything else.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type EncoderLike = { buffer: Buffer; size(): number };
const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => EncoderLike & { writeInt32(v: number): EncoderLike & { writeInt32(v: number): EncoderLike & { writeEncoder(e: EncoderLike): EncoderLike } } };
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number): object };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => object;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (batch: object) => Promise<EncoderLike> };
const encodeUncompressed = require('kafkajs/src/protocol/recordBatch/v0/encodeUncompressed') as (args: object) => EncoderLike | null;
const produceV3 = require('kafkajs/src/protocol/requests/produce/v3/request') as (args: object) => { encode(): Promise<EncoderLike> };

type Message = { key?: unknown; value?: unknown; headers?: unknown; timestamp?: number };

/** The partition entry as kafkajs wrote it before the patch (produce/v3 partitionsEncoder, uncompressed). */
async function original(args: { partition: number; messages: Message[]; firstTimestamp: number; maxTimestamp: number; dateNow: number; transactional: boolean; producerId: object; producerEpoch: number; firstSequence: number }): Promise<Buffer> {
  const records = args.messages.map((message, i) => Record({ ...message, offsetDelta: i, timestampDelta: (message.timestamp || args.dateNow) - args.firstTimestamp }));
  const batch = await RecordBatch({ records, firstTimestamp: args.firstTimestamp, maxTimestamp: args.maxTimestamp, producerId: args.producerId, producerEpoch: args.producerEpoch, firstSequence: args.firstSequence, transactional: args.transactional, lastOffsetDelta: records.length - 1 });
  return Buffer.from(new Encoder().writeInt32(args.partition).writeInt32(batch.size()).writeEncoder(batch).buffer);
}

const args = (messages: Message[], overrides: object = {}) => ({
  partition: 5,
  messages,
  firstTimestamp: 1_700_000_000_000,
  maxTimestamp: 1_700_000_000_999,
  dateNow: 1_700_000_000_000,
  transactional: true,
  producerId: Long.fromValue(4_000_000_123),
  producerEpoch: 7,
  firstSequence: 12_345,
  ...overrides,
});

// Every shape the ledger produces: Buffer and string keys and values, null ones, headers with
// string and Buffer values and arrays of them, multi-byte UTF-8, lengths across varint widths.
const messages: Message[] = Array.from({ length: 400 }, (_, i) => ({
  key: i % 11 === 0 ? null : i % 2 === 0 ? Buffer.from(`account-${i}`) : `clé-${i}-🏦`,
  value: i % 13 === 0 ? null : i % 3 === 0 ? `{"n":${i},"s":"ü"}` : Buffer.alloc((i * 37) % 20_000, i % 251),
  headers: i % 5 === 0 ? undefined : i % 5 === 1 ? {} : i % 5 === 2 ? { 'ledger-fetched-at': String(1_700_000_000_000 + i) } : i % 5 === 3 ? { 'dlq.reason': `bad ${'é'.repeat(i)}`, 'x-bin': Buffer.from([0, 1, 2, i % 256]) } : { many: ['a', Buffer.from('b'), 'ccc'] },
  timestamp: i % 4 === 0 ? 1_700_000_000_000 + i : undefined,
}));

describe('kafkajs one-pass record batches (patches/kafkajs+2.2.4.patch)', () => {
  it('writes the bytes kafkajs wrote, for batches of 0, 1, 127, 128 and 400 messages of every shape', async () => {
    for (const count of [0, 1, 2, 127, 128, 400]) {
      for (const overrides of [{}, { transactional: false, producerId: Long.fromValue(-1), producerEpoch: 0, firstSequence: 0 }, { dateNow: 1_700_000_500_000 }]) {
        const a = args(messages.slice(0, count), overrides);
        const fast = encodeUncompressed(a);
        expect(fast, `${count} messages`).not.toBeNull();
        expect((fast as EncoderLike).buffer.toString('hex'), `${count} messages`).toBe((await original(a)).toString('hex'));
      }
    }
  });

  it('leaves to the original path what it does not take: other key, value or header types, far timestamps', async () => {
    expect(encodeUncompressed(args([{ key: 42, value: Buffer.from('v') }]))).toBeNull();
    expect(encodeUncompressed(args([{ key: null, value: { a: 1 } }]))).toBeNull();
    expect(encodeUncompressed(args([{ value: 'v', headers: { h: null } }]))).toBeNull();
    expect(encodeUncompressed(args([{ value: 'v', headers: null }]))).toBeNull();
    expect(encodeUncompressed(args([{ value: 'v', timestamp: 1_700_000_000_000 + 2 ** 31 }]))).toBeNull();
    // A whole produce request with such a message still encodes, the original way.
    const request = produceV3({ acks: -1, timeout: 30_000, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [{ key: 'k', value: 'v', timestamp: Date.now() - 2 ** 31 }] }] }] });
    expect((await request.encode()).buffer.length).toBeGreaterThan(70);
  });

  it('encodes a whole produce request as before: the patched request against the original partition entries', async () => {
    const partitions = [0, 3].map((partition) => ({ partition, firstSequence: 9, messages: messages.slice(partition * 10, partition * 10 + 50).map((m) => ({ ...m, timestamp: undefined })) }));
    const request = await produceV3({ acks: -1, timeout: 30_000, transactionalId: 'ledger.account.3', producerId: Long.fromValue(77), producerEpoch: 2, topicData: [{ topic: 'bank.events', partitions }] }).encode();
    const bytes = request.buffer;
    // The partition entries sit at the end of the request, in order; the records carry no timestamps, so the deltas are 0 whatever dateNow was.
    const entries = await Promise.all(partitions.map((p) => original({ ...args(p.messages), partition: p.partition, firstSequence: 9, producerId: Long.fromValue(77), producerEpoch: 2, firstTimestamp: 0, maxTimestamp: 0, dateNow: 0 })));
    const tail = Buffer.concat(entries);
    // Timestamps differ (the request used Date.now()): compare everything but the two timestamps and the CRC of each batch.
    const mask = (buffer: Buffer) => {
      const out = Buffer.from(buffer);
      let at = 0;
      for (const entry of entries) {
        out.fill(0, at + 4 + 4 + 8 + 4 + 4 + 1, at + 4 + 4 + 8 + 4 + 4 + 1 + 4); // crc
        out.fill(0, at + 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4, at + 4 + 4 + 8 + 4 + 4 + 1 + 4 + 2 + 4 + 16); // first and max timestamp
        at += entry.length;
      }
      return out;
    };
    expect(mask(bytes.subarray(bytes.length - tail.length)).toString('hex')).toBe(mask(tail).toString('hex'));
  });
});
