// Avro longs from JS numbers, exact over the whole safe range. avsc's own long type zigzag-encodes
// a negative n as (-n * 2) - 1 in floating point, which rounds below -2^52: a balance of
// -(2^52 + 5) (an account drawn on an overdraft limit the ledger allows) was written as the
// encoding of +(2^52 + 4), creating money on every read back. This type goes through avsc's
// documented custom-long path (LongType.__with): the value as 8 bytes of two's complement, which
// avsc zigzag-encodes exactly; the bytes on the wire are Avro's, the same as before for every
// value the old type wrote correctly.
import avro from 'avsc';

const exactLongType = avro.types.LongType.__with({
  fromBuffer(buffer: Buffer): number {
    const value = Number(buffer.readBigInt64LE(0));
    if (!Number.isSafeInteger(value)) throw new Error(`Avro long ${buffer.readBigInt64LE(0)} is beyond what a JS number holds exactly`);
    return value;
  },
  toBuffer(value: number): Buffer {
    const buffer = Buffer.allocUnsafe(8);
    buffer.writeBigInt64LE(BigInt(value), 0);
    return buffer;
  },
  fromJSON: (value: unknown) => Number(value),
  toJSON: (value: number) => value,
  isValid: (value: unknown) => Number.isSafeInteger(value),
  compare: (a: number, b: number) => (a === b ? 0 : a < b ? -1 : 1),
});

// The custom path costs a BigInt and an 8-byte buffer per long, on every record the processor
// writes or reads (a few percent of its CPU in bulk). Within ±2^51 avsc's own varint arithmetic
// is exact both ways (the zigzag value stays below 2^53), so those longs, nearly all of them, take
// avsc's own tap methods, and only the rest take the exact path. The bytes are the same either way.
interface LongTap {
  pos: number;
  writeLong(value: number): void;
  readLong(): number;
}
const avscExactMax = 2 ** 51;
type LongCodec = { _write(tap: LongTap, value: unknown): void; _read(tap: LongTap): unknown };
const exactPath = exactLongType as unknown as LongCodec;
// avsc freezes its types, so the fast path is a type whose prototype is the exact one.
const fastLongType = Object.freeze(
  Object.create(exactLongType, {
    _write: {
      value: function write(this: LongCodec, tap: LongTap, value: unknown): void {
        if (typeof value === 'number' && value >= -avscExactMax && value <= avscExactMax && Number.isInteger(value)) tap.writeLong(value);
        else exactPath._write.call(this, tap, value);
      },
    },
    _read: {
      value: function read(this: LongCodec, tap: LongTap): unknown {
        const start = tap.pos;
        const value = tap.readLong();
        if (value >= -avscExactMax && value <= avscExactMax) return value;
        // Beyond ±2^51 (or truncated, NaN): read again on the exact path, which also reports truncation.
        tap.pos = start;
        return exactPath._read.call(this, tap);
      },
    },
  }),
) as typeof exactLongType;

/** An avsc type for one of the ledger's schemas, its longs exact (every codec and the store use it). */
export function ledgerAvroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: fastLongType } });
}
