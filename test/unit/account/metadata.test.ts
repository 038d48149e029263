// Metadata in the account processor (DESIGN §10): a command past the bounds (written straight onto
// the topic by another tool: the gateway would have refused it) is dead-lettered with a reason and
// changes nothing; within them, the events the command causes carry its metadata, and so do the
// internal legs of a transfer (credit, refund, settlement carry the initiation's).
import { describe, expect, it } from 'vitest';
import { processBatch, type BatchLookups, type DecodedRecord } from '../../../processors/account/batch.ts';
import { validateCommand } from '../../../processors/account/domain/index.ts';
import { metadataBounds } from '../../../schemas/metadata.ts';
import { creditCommandId } from '../../../schemas/ids.ts';
import type { AccountState, Command, CommandPayload, Metadata } from '../../../schemas/types.ts';

const now = 1_700_000_000_000;
const A = 'account-a';
const B = 'account-b';

const deposit: CommandPayload = { type: 'Deposit', amount: 5, reference: null };
const command = (commandId: string, accountId: string, payload: CommandPayload, metadata?: unknown): Command =>
  ({ commandId, accountId, issuedAt: now, fingerprint: `fp-${commandId}`, payload, ...(metadata === undefined ? {} : { metadata }) }) as Command;
const records = (...commands: Command[]): DecodedRecord[] =>
  commands.map((c, i) => ({ kind: 'command', offset: String(i), key: Buffer.from(c.accountId), value: Buffer.from('x'), command: c }));
const stateOf = (accountId: string, balance: number): AccountState => ({
  accountId, ownerName: 'Ada', currency: 'EUR', balance, status: 'OPEN', version: 1, openedAt: now, updatedAt: now, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0,
});
const lookups = (states: AccountState[]): BatchLookups => ({
  state: (id) => states.find((s) => s.accountId === id),
  outcome: () => undefined,
  initiation: () => undefined,
  hold: () => undefined,
});
const keys = (count: number): Record<string, string> => Object.fromEntries(Array.from({ length: count }, (_, i) => [`key${i}`, 'v']));

const valid: Array<[string, unknown]> = [
  ['no metadata (a record from before it existed)', undefined],
  ['empty metadata', {}],
  [`${metadataBounds.keysMax} keys`, keys(32)],
  ['a key of 40 characters', { ['k'.repeat(40)]: 'v' }],
  ['a key of one character', { k: 'v' }],
  ['every key character', { 'Az09_.-': 'v' }],
  ['a value of 500 characters', { k: 'x'.repeat(500) }],
  ['a value of 500 emoji', { k: '😀'.repeat(500) }],
  ['an empty value', { k: '' }],
];

const invalid: Array<[string, unknown, RegExp]> = [
  ['33 keys', keys(33), /metadata has 33 keys; at most 32/],
  ['a key of 41 characters', { ['k'.repeat(41)]: 'v' }, /metadata key "k{41}" must be 1 to 40 characters/],
  ['an empty key', { '': 'v' }, /metadata key "" must be 1 to 40 characters/],
  ['a key with a space', { 'a b': 'v' }, /metadata key "a b" may hold only the characters \[A-Za-z0-9_.-\]/],
  ['a key with a non-ASCII letter', { café: 'v' }, /may hold only the characters/],
  ['a key with NUL', { 'a\u0000': 'v' }, /may hold only the characters/],
  ['a value of 501 characters', { k: 'x'.repeat(501) }, /metadata value of "k" must be at most 500 characters/],
  ['a value of a million characters', { k: 'x'.repeat(1_000_000) }, /must be at most 500 characters/],
  ['a numeric value', { k: 7 }, /metadata value of "k" must be a string, got number/],
  ['a null value', { k: null }, /must be a string, got null/],
  ['an array', ['a'], /metadata must be an object of strings/],
  ['null', null, /metadata must be an object of strings/],
  ['a string', 'tags', /metadata must be an object of strings/],
];

describe('validateCommand: metadata bounds', () => {
  it.each(valid)('accepts %s', (_name, metadata) => {
    expect(validateCommand(command('c1', A, deposit, metadata))).toBeNull();
  });

  it.each(invalid)('refuses %s', (_name, metadata, reason) => {
    expect(validateCommand(command('c1', A, deposit, metadata))).toMatch(reason);
  });

  it('checks metadata on every command type, internal ones included', () => {
    const credit: CommandPayload = { type: 'CreditTransfer', transferId: 't1', fromAccountId: A, amount: 1, currency: 'EUR' };
    expect(validateCommand(command('c1', B, credit, keys(33)))).toMatch(/at most 32/);
    expect(validateCommand(command('c1', A, { type: 'CloseAccount' }, { k: 1 }))).toMatch(/must be a string/);
  });

  it('never echoes a long key back in its reason', () => {
    expect(validateCommand(command('c1', A, deposit, { ['k'.repeat(10_000)]: 'v' }))!.length).toBeLessThan(120);
  });
});

describe('processBatch: metadata', () => {
  const tags: Metadata = { invoice: 'INV-7', 'customer.id': 'c-42' };

  it('dead-letters a command past the bounds with its reason, and nothing else happens', () => {
    const result = processBatch(records(command('c1', A, deposit, { k: 'x'.repeat(501) })), lookups([stateOf(A, 10)]), now);
    expect(result.deadLetters.map((d) => d.reason)).toEqual(['invalid command: metadata value of "k" must be at most 500 characters (metadata valueLengthMax)']);
    expect(result.events).toEqual([]);
    expect(result.outcomes).toEqual([]);
    expect(result.states.size).toBe(0);
  });

  it("puts the command's metadata on the event it causes, and {} when it has none", () => {
    const result = processBatch(records(command('c1', A, deposit, tags), command('c2', A, deposit)), lookups([stateOf(A, 10)]), now);
    expect(result.events.map((e) => e.metadata)).toEqual([tags, {}]);
  });

  it("carries a transfer's metadata from its initiation to the credit, and from the credit to the refund", () => {
    const initiate: CommandPayload = { type: 'InitiateTransfer', transferId: 't1', toAccountId: B, amount: 4, reference: null };
    const source = processBatch(records(command('c1', A, initiate, tags)), lookups([stateOf(A, 10)]), now);
    expect(source.events[0]?.metadata).toEqual(tags);
    const [credit] = source.followUps;
    expect(credit).toMatchObject({ commandId: creditCommandId(`${A}:2`), metadata: tags });
    // The destination credits: its event carries the initiation's metadata, and so does the settlement it sends back.
    const destination = processBatch(records(credit!), lookups([stateOf(B, 0)]), now);
    expect(destination.events.map((e) => [e.payload.type, e.metadata])).toEqual([['TransferCredited', tags]]);
    expect(destination.followUps.map((c) => [c.payload.type, c.metadata])).toEqual([['SettleTransfer', tags]]);
    // A destination that does not exist refuses: the refund back to the source carries it too.
    const refused = processBatch(records(credit!), lookups([]), now);
    expect(refused.followUps.map((c) => [c.payload.type, c.metadata])).toEqual([['RefundTransfer', tags]]);
    const refund = processBatch(records(refused.followUps[0]!), lookups([{ ...stateOf(A, 6), version: 2, outgoingInFlight: 4 }]), now);
    expect(refund.events.map((e) => [e.payload.type, e.metadata])).toEqual([['TransferRefunded', tags]]);
  });
});
