// Avro longs from JS numbers, exact over the whole safe range. avsc's own long type zigzag-encodes
// a negative n as (-n * 2) - 1 in floating point, which rounds below -2^52: a balance of
// -(2^52 + 5) (an account drawn on an overdraft limit the ledger allows) was written as the
// encoding of +(2^52 + 4), creating money on every read back. This type goes through avsc's
// documented custom-long path (LongType.__with): the value as 8 bytes of two's complement, which
// avsc zigzag-encodes exactly; the bytes on the wire are Avro's, the same as before for every
// value the old type wrote correctly.
import avro from 'avsc';

export const exactLongType = avro.types.LongType.__with({
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

/** An avsc type for one of the ledger's schemas, its longs exact (every codec and the store use it). */
export function ledgerAvroType(schema: unknown): avro.Type {
  return avro.Type.forSchema(schema as avro.Schema, { registry: { long: exactLongType } });
}
