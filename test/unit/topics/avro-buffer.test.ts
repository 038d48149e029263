// encodeBehindHeader writes exactly avsc's bytes behind the caller's header, whatever the size.
import { describe, expect, it } from 'vitest';
import { encodeBehindHeader } from '../../../schemas/avro-buffer.ts';
import { ledgerAvroType } from '../../../schemas/avro-long.ts';

const type = ledgerAvroType({ type: 'record', name: 'Note', fields: [{ name: 'text', type: 'string' }, { name: 'amount', type: 'long' }] });

describe('encodeBehindHeader (schemas/avro-buffer.ts)', () => {
  it("puts toBuffer's bytes behind the header, for values smaller and larger than the scratch space, in any order", () => {
    for (const length of [0, 10, 70_000, 5, 300_000, 1]) {
      const value = { text: 'x'.repeat(length), amount: -(2 ** 52 + 5) };
      for (const headerBytes of [0, 1, 5]) {
        const out = encodeBehindHeader(type, value, headerBytes);
        expect(out.length).toBe(headerBytes + type.toBuffer(value).length);
        expect(out.subarray(headerBytes).equals(type.toBuffer(value))).toBe(true);
        expect({ ...type.fromBuffer(out.subarray(headerBytes)) }).toStrictEqual(value);
      }
    }
  });

  it('refuses an invalid value as toBuffer does', () => {
    expect(() => encodeBehindHeader(type, { text: 'a', amount: 0.5 }, 5)).toThrow();
    expect(() => type.toBuffer({ text: 'a', amount: 0.5 })).toThrow();
  });
});
