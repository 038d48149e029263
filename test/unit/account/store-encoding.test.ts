// The partition store's value encoding (store-encoding.ts): states and outcomes in Avro, tagged;
// everything else JSON, as the previous format wrote it. The store is a cache of the changelogs
// and holds the idempotency records, so a value must come back exactly as it went in.
import { describe, expect, it } from 'vitest';
import { decodeStoreValue, encodeStoreValue } from '../../../processors/account/store-encoding.ts';
import { outcomeOf } from '../../../processors/account/outcome-records.ts';
import { readFileSync } from 'node:fs';
import { moneyMax, type AccountState, type CommandOutcome } from '../../../schemas/types.ts';

const state: AccountState = {
  accountId: '54d0f835-533f-5a36-b488-06ed1735e50d',
  ownerName: 'Zoë Øster 🏦',
  currency: 'EUR',
  balance: 9_007_199_254_740_990,
  status: 'CLOSED',
  version: 17,
  openedAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_123,
  outgoingInFlight: 5,
  heldBalance: 7,
  overdraftLimit: 11,
};

/** Every field set, none null: a field the encoding dropped or mangled shows. */
const full: CommandOutcome = {
  commandId: '4c4cae5f-ffa4-5088-9924-c96ab50ee04f',
  accountId: state.accountId,
  status: 'REJECTED',
  code: 'INSUFFICIENT_FUNDS',
  message: 'available balance 3 is less than the requested 5',
  fingerprint: 'f'.repeat(64),
  version: 17,
  balance: -3,
  transferId: 'c4afa084-18ea-5ced-8f1e-394cba5b0842',
  eventSequences: [15, 16, 17],
  processedAt: 1_700_000_000_456,
  transferStatus: 'pending',
  transferCode: 'ACCOUNT_CLOSED',
  availableBalance: 8,
  overdraftLimit: 11,
  holdId: '27bd0482-f3b7-5f3e-ad01-ae63e0756d6b',
  holdStatus: 'ACTIVE',
  holdAmount: 42,
  expiresAt: 1_700_000_060_000,
  capturedAmount: 40,
  reversalId: '732962ba-3694-5ba5-9c67-07c5a5b440a3',
  reversedCommandId: 'e596b63c-bd43-506a-9acf-657eeca42b38',
  reversalStatus: 'failed',
  reversalCode: 'INSUFFICIENT_FUNDS',
  amount: 5,
  postingType: 'TransferDebited',
  counterpartyAccountId: 'c702f259-a531-5110-a283-c9e2c59911c5',
};

/** As the processing loop first writes an outcome: every optional field null. */
const sparse: CommandOutcome = outcomeOf(
  { commandId: full.commandId, accountId: full.accountId, issuedAt: 1_700_000_000_000, fingerprint: full.fingerprint, payload: { type: 'Deposit', amount: 5, reference: null } },
  1_700_000_000_456,
  'ACCEPTED',
  null,
  null,
  undefined,
);

describe('partition store value encoding', () => {
  it('the test records set every field of the schemas (a field added later must be added here)', () => {
    const fields = (file: string) => (JSON.parse(readFileSync(new URL(`../../../schemas/${file}`, import.meta.url), 'utf8')) as { fields: Array<{ name: string }> }).fields.map((f) => f.name).sort();
    expect(Object.keys(state).sort()).toEqual(fields('account-state.avsc'));
    expect(Object.keys(full).sort()).toEqual(fields('command-outcome.avsc'));
  });

  it('gives back negative balances exactly, past -2^52 to minus the money maximum', () => {
    for (const balance of [-1, -(2 ** 52), -(2 ** 52 + 1), -(2 ** 52 + 5), -moneyMax]) {
      const drawn = { ...state, balance, overdraftLimit: moneyMax };
      expect(decodeStoreValue(encodeStoreValue(drawn))).toStrictEqual(drawn);
      const outcome = { ...full, balance, availableBalance: balance + moneyMax };
      expect(decodeStoreValue(encodeStoreValue(outcome))).toStrictEqual(outcome);
    }
  });

  it('gives back every state and outcome field exactly, in fewer bytes than JSON', () => {
    for (const value of [state, full, sparse]) {
      const encoded = encodeStoreValue(value);
      expect(decodeStoreValue(encoded)).toStrictEqual(value);
      expect(encoded[0]).toBeLessThan(0x03);
      expect(encoded.length).toBeLessThan(JSON.stringify(value).length);
    }
  });

  it('writes the checkpoint, the identity and index entries as JSON, as the previous format did', () => {
    const checkpoint = { stateOffset: '12', outcomesOffset: '0', movementsOffset: '7', format: 3 };
    const identity = { clusterId: 'abc', topics: ['bank.account-state', 'bank.outcomes'], partition: 3 };
    for (const value of [checkpoint, identity, '', '4c4cae5f-ffa4-5088-9924-c96ab50ee04f']) {
      const encoded = encodeStoreValue(value);
      expect(encoded.toString('utf8')).toBe(JSON.stringify(value));
      expect(decodeStoreValue(encoded)).toStrictEqual(value);
    }
  });

  it("reads the previous format's JSON values, so an old store opens and its format gets it rebuilt", () => {
    expect(decodeStoreValue(Buffer.from(JSON.stringify({ stateOffset: '5', outcomesOffset: '5', movementsOffset: '5', format: 2 })))).toStrictEqual({ stateOffset: '5', outcomesOffset: '5', movementsOffset: '5', format: 2 });
    expect(decodeStoreValue(Buffer.from(JSON.stringify(full)))).toStrictEqual(full);
    // classic-level may hand back a Uint8Array view rather than a Buffer.
    const encoded = encodeStoreValue(full);
    expect(decodeStoreValue(new Uint8Array(encoded.buffer, encoded.byteOffset, encoded.length))).toStrictEqual(full);
  });
});
