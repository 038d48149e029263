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
});
