// The kafkajs patch (patches/kafkajs+2.2.4.patch) that lets its protocol Encoder take buffers
// from Node's pool without zero-filling them (Buffer.allocUnsafe). What it must never do is put a
// byte it did not write into a request: a record batch encoded twice, once after the pool was
// filled with 0xAA and once after 0x55, must come out byte for byte the same, with a valid CRC,
// and decode to what went in. (The broker checks every CRC as well: the integration tests
// produce through the same encoder.)
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder') as new (size?: number) => { buffer: Buffer };
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => object;
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => object;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (batch: object) => Promise<{ buffer: Buffer }> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: object) => Promise<{ records: Array<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }> }>;
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C') as (buffer: Buffer) => number;

const records = Array.from({ length: 300 }, (_, i) => ({
  key: i % 7 === 0 ? null : Buffer.from(`account-${i}`),
  value: Buffer.from('x'.repeat(i * 13)),
  headers: i % 3 === 0 ? { 'ledger-fetched-at': String(1_700_000_000_000 + i) } : {},
}));

/** Leaves Node's buffer pool (and freed memory) full of `byte`. */
function pollute(byte: number): void {
  for (let i = 0; i < 64; i += 1) Buffer.allocUnsafe(i < 32 ? 2048 : 65_536).fill(byte);
}

async function encodeBatch(): Promise<Buffer> {
  const batch = await RecordBatch({
    records: records.map((r, i) => Record({ ...r, offsetDelta: i, timestampDelta: i })),
    firstTimestamp: 1_700_000_000_000,
    maxTimestamp: 1_700_000_000_299,
    producerId: 42,
    producerEpoch: 3,
    firstSequence: 7,
    transactional: true,
    lastOffsetDelta: records.length - 1,
  });
  return Buffer.from(batch.buffer);
}

describe('kafkajs Encoder (patched: pooled, unfilled buffers)', () => {
  it('encodes only bytes it wrote: the same batch after different garbage in the pool is identical, its CRC checks, and it decodes to the records', async () => {
    pollute(0xaa);
    const first = await encodeBatch();
    pollute(0x55);
    const second = await encodeBatch();
    expect(second.equals(first)).toBe(true);

    // Layout: firstOffset int64, length int32, leaderEpoch int32, magic int8, crc uint32, then the CRC'd rest.
    expect(first.readInt32BE(8)).toBe(first.length - 12);
    expect(first.readUInt32BE(17)).toBe(crc32C(first.subarray(21)) >>> 0);

    const decoded = await decodeRecordBatch(new Decoder(first));
    expect(decoded.records.map((r) => [r.key?.toString() ?? null, r.value?.toString(), Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()]))])).toEqual(
      records.map((r) => [r.key?.toString() ?? null, r.value.toString(), r.headers]),
    );
  });

  it('a growing encoder keeps what it wrote before growing', () => {
    pollute(0xff);
    const encoder = new Encoder(1) as unknown as { writeInt32(v: number): unknown; writeBytes(v: Buffer): unknown; buffer: Buffer };
    const payload = Buffer.from('ledger'.repeat(1000));
    encoder.writeInt32(7);
    encoder.writeBytes(payload);
    const out = encoder.buffer;
    expect([out.length, out.readInt32BE(0), out.readInt32BE(4), out.subarray(8).equals(payload)]).toEqual([8 + payload.length, 7, payload.length, true]);
  });
});
