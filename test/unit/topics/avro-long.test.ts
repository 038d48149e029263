// Longs on the ledger's topics and in its store are exact over JS's whole safe range. avsc's own
// long type zigzag-encoded negatives below -2^52 in floating point: an account drawn on an
// overdraft limit the ledger allows (up to the money maximum) read back with a positive balance.
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { TopicCodec } from '../../../schemas/codec.ts';
import { ledgerAvroType } from '../../../schemas/avro-long.ts';
import { schemaText } from '../../../schemas/registry.ts';
import { stateMapping } from '../../../schemas/records.ts';
import { moneyMax, type AccountState } from '../../../schemas/types.ts';

const state = (balance: number, overdraftLimit: number): AccountState => ({
  accountId: 'acc-1',
  ownerName: 'Ada',
  currency: 'EUR',
  balance,
  status: 'OPEN',
  version: 2,
  openedAt: 1,
  updatedAt: 2,
  outgoingInFlight: 0,
  heldBalance: 0,
  overdraftLimit,
});

const text = schemaText(stateMapping.schemaFile);
/** The same schema under another id: decoding then goes through a resolver built from the registry's text. */
const source = { schemaById: async (id: number) => (id === 99 ? text : undefined) };

const edges = [0, 1, -1, 2 ** 52, -(2 ** 52), -(2 ** 52 + 1), -(2 ** 52 + 5), -moneyMax, moneyMax];

describe('Avro longs (schemas/avro-long.ts)', () => {
  it.each(edges)('a balance of %d comes back exactly from the changelog codec, with our schema id or another', async (balance) => {
    const ours = new TopicCodec('s', ledgerAvroType(JSON.parse(text)), 7, stateMapping, source);
    const theirs = new TopicCodec('s', ledgerAvroType(JSON.parse(text)), 99, stateMapping, source);
    const value = state(balance, moneyMax);
    expect(await ours.decode(ours.encode(value))).toStrictEqual(value);
    expect(await ours.decode(theirs.encode(value))).toStrictEqual(value);
  });

  it("writes the bytes avsc's own long type wrote for every value it got right", () => {
    const exact = ledgerAvroType(JSON.parse(text));
    // avsc's default type, kept only as the reference for the wire bytes.
    const plainType = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    for (const balance of [0, 1, -1, 300, -300, 2 ** 40, -(2 ** 40), 2 ** 52, -(2 ** 52), moneyMax]) {
      expect(exact.toBuffer(state(balance, 0)).equals(plainType.toBuffer(state(balance, 0)))).toBe(true);
    }
  });

  it('refuses a long that is not a safe integer, as before', () => {
    const exact = ledgerAvroType(JSON.parse(text));
    expect(() => exact.toBuffer(state(0.5, 0))).toThrow();
    expect(() => exact.toBuffer(state(2 ** 53, 0))).toThrow();
  });

  // An independent reference: Avro's zigzag varint in BigInt arithmetic, exact by construction.
  const varint = (value: number): Buffer => {
    const n = BigInt(value);
    let zigzag = n >= 0n ? n << 1n : ((-n) << 1n) - 1n;
    const bytes: number[] = [];
    do {
      let byte = Number(zigzag & 0x7fn);
      zigzag >>= 7n;
      if (zigzag > 0n) byte |= 0x80;
      bytes.push(byte);
    } while (zigzag > 0n);
    return Buffer.from(bytes);
  };
  // Both sides of every boundary the encoding has: avsc's integer path (2^30), its exact float
  // range (2^51, 2^52), and the safe-integer end; and powers of two with neighbours in between.
  const probes = [...new Set([0, 1, 2, 30, 51, 52].flatMap((k) => [-2, -1, 0, 1, 2].flatMap((d) => [2 ** k + d, -(2 ** k) + d]))
    .concat(Array.from({ length: 54 }, (_, k) => [2 ** k - 1, -(2 ** k) + 1, 2 ** k, -(2 ** k)]).flat())
    .concat([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, -Number.MAX_SAFE_INTEGER + 1, moneyMax, -moneyMax]))]
    .filter((value) => Number.isSafeInteger(value));

  it('writes Avro zigzag varints, and reads them back, for every long on both sides of each boundary', () => {
    const longs = ledgerAvroType({ type: 'record', name: 'Longs', fields: [{ name: 'plain', type: 'long' }, { name: 'optional', type: ['null', 'long'] }, { name: 'many', type: { type: 'array', items: 'long' } }] });
    for (const value of probes) {
      const negated = 0 - value;
      const bytes = longs.toBuffer({ plain: value, optional: value, many: [value, negated] });
      const expected = Buffer.concat([varint(value), Buffer.from([2]), varint(value), varint(2), varint(value), varint(negated), Buffer.from([0])]);
      expect(bytes.toString('hex'), `value ${value}`).toBe(expected.toString('hex'));
      expect({ ...longs.fromBuffer(bytes) }, `value ${value}`).toStrictEqual({ plain: value, optional: value, many: [value, negated] });
    }
  });

  it('reports a truncated long as truncated, on either side of 2^51', () => {
    const longs = ledgerAvroType({ type: 'record', name: 'One', fields: [{ name: 'v', type: 'long' }] });
    for (const value of [2 ** 40, -(2 ** 52 + 5), moneyMax]) {
      const bytes = longs.toBuffer({ v: value });
      expect(() => longs.fromBuffer(bytes.subarray(0, bytes.length - 1))).toThrow(/truncated/);
    }
  });
});
