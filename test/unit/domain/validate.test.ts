import { describe, expect, it } from 'vitest';
import type { Command, CommandPayload } from '../../../schemas/types.ts';
import { limits, validateCommand } from '../../../processors/account/domain/index.ts';
import { A, B, cmd, commandFor } from './given.ts';

const valid: CommandPayload[] = [
  cmd.open(0, 'USD', 'A'),
  cmd.open(limits.amountMax, 'JPY', 'x'.repeat(200)),
  cmd.open(10, 'EUR', '😀'.repeat(200)),
  cmd.deposit(1),
  cmd.deposit(limits.amountMax, 'r'.repeat(500)),
  cmd.withdraw(1, ''),
  cmd.transfer(B, 1),
  // A transfer to itself is a business refusal (SAME_ACCOUNT_TRANSFER), not a malformed command.
  cmd.transfer(A, 1),
  cmd.credit(B, 1, 'GBP'),
  cmd.refund(B, 1, 'CURRENCY_MISMATCH'),
  cmd.close(),
];

const withEnvelope = (patch: Partial<Command>): Command => ({ ...commandFor(A, cmd.deposit(1)), ...patch });
const withPayload = (payload: unknown): Command => commandFor(A, payload as CommandPayload);
const deposit = (amount: unknown): Command => withPayload({ type: 'Deposit', amount, reference: null });

const invalid: { name: string; command: Command; reason: RegExp }[] = [
  { name: 'an empty commandId', command: withEnvelope({ commandId: '' }), reason: /commandId must not be empty/ },
  { name: 'a 256-character commandId', command: withEnvelope({ commandId: 'c'.repeat(256) }), reason: /commandId must be at most 255/ },
  { name: 'an empty accountId', command: withEnvelope({ accountId: '' }), reason: /accountId must not be empty/ },
  { name: 'a 256-character accountId', command: withEnvelope({ accountId: 'a'.repeat(256) }), reason: /accountId must be at most 255/ },
  { name: 'a numeric accountId', command: withEnvelope({ accountId: 7 as unknown as string }), reason: /accountId must be a string, got 7/ },
  { name: 'an empty fingerprint', command: withEnvelope({ fingerprint: '' }), reason: /fingerprint must not be empty/ },
  { name: 'an amount of 0', command: deposit(0), reason: /amount must be a positive integer up to 9007199254740990, got 0/ },
  { name: 'an amount of MAX_SAFE_INTEGER, past what Avro carries', command: deposit(Number.MAX_SAFE_INTEGER), reason: /amount must be a positive integer up to 9007199254740990/ },
  { name: 'a negative amount', command: deposit(-5), reason: /got -5/ },
  { name: 'a fractional amount', command: deposit(1.5), reason: /got 1.5/ },
  { name: 'a NaN amount', command: deposit(Number.NaN), reason: /got NaN/ },
  { name: 'an infinite amount', command: deposit(Number.POSITIVE_INFINITY), reason: /got Infinity/ },
  { name: 'an amount of 2**53', command: deposit(2 ** 53), reason: /got 9007199254740992/ },
  { name: 'an amount given as a string', command: deposit('10'), reason: /got "10"/ },
  { name: 'a withdrawal of 0', command: withPayload(cmd.withdraw(0)), reason: /amount/ },
  { name: 'a transfer of 0', command: withPayload(cmd.transfer(B, 0)), reason: /amount/ },
  { name: 'a credit of 0', command: withPayload(cmd.credit(B, 0)), reason: /amount/ },
  { name: 'a refund of 0', command: withPayload(cmd.refund(B, 0)), reason: /amount/ },
  { name: 'a lower-case currency', command: withPayload(cmd.open(0, 'usd')), reason: /currency must be three upper-case letters/ },
  { name: 'a two-letter currency', command: withPayload(cmd.open(0, 'US')), reason: /currency/ },
  { name: 'a four-letter currency', command: withPayload(cmd.open(0, 'USDD')), reason: /currency/ },
  { name: 'a currency with a digit', command: withPayload(cmd.open(0, 'U5D')), reason: /currency/ },
  { name: 'an empty currency', command: withPayload(cmd.open(0, '')), reason: /currency/ },
  { name: 'a credit in a malformed currency', command: withPayload(cmd.credit(B, 1, 'eur')), reason: /currency/ },
  { name: 'an empty ownerName', command: withPayload(cmd.open(0, 'USD', '')), reason: /ownerName must not be empty/ },
  { name: 'a 201-character ownerName', command: withPayload(cmd.open(0, 'USD', 'x'.repeat(201))), reason: /ownerName must be at most 200/ },
  { name: 'a 201-emoji ownerName', command: withPayload(cmd.open(0, 'USD', '😀'.repeat(201))), reason: /ownerName must be at most 200/ },
  { name: 'a negative initialBalance', command: withPayload(cmd.open(-1)), reason: /initialBalance must be a non-negative integer up to 9007199254740990, got -1/ },
  { name: 'a fractional initialBalance', command: withPayload(cmd.open(0.5)), reason: /initialBalance/ },
  { name: 'an unsafe initialBalance', command: withPayload(cmd.open(2 ** 53)), reason: /initialBalance/ },
  { name: 'a 501-character reference', command: withPayload(cmd.deposit(1, 'r'.repeat(501))), reason: /reference must be at most 500/ },
  { name: 'a huge reference', command: withPayload(cmd.withdraw(1, 'r'.repeat(1_000_000))), reason: /reference must be at most 500/ },
  { name: 'an empty transferId', command: withPayload(cmd.transfer(B, 1, '')), reason: /transferId must not be empty/ },
  { name: 'an empty toAccountId', command: withPayload(cmd.transfer('', 1)), reason: /toAccountId must not be empty/ },
  { name: 'an empty fromAccountId', command: withPayload(cmd.credit('', 1)), reason: /fromAccountId must not be empty/ },
  { name: 'an empty credit transferId', command: withPayload(cmd.credit(B, 1, 'USD', '')), reason: /transferId/ },
  { name: 'an empty refund toAccountId', command: withPayload(cmd.refund('', 1)), reason: /toAccountId must not be empty/ },
  { name: 'an empty refund reason', command: withPayload(cmd.refund(B, 1, '')), reason: /reason must not be empty/ },
  { name: 'an issuedAt whose hold expiry would pass 2**53 (the partition could not encode it)', command: withEnvelope({ issuedAt: 2 ** 53 - 2 }), reason: /issuedAt must be an integer from 0 to 253402300799999 \(epoch ms\), got 9007199254740990/ },
  { name: 'an issuedAt past the year 9999', command: withEnvelope({ issuedAt: limits.issuedAtMax + 1 }), reason: /issuedAt/ },
  { name: 'a negative issuedAt', command: withEnvelope({ issuedAt: -1 }), reason: /issuedAt.*got -1/ },
  { name: 'a fractional issuedAt', command: withEnvelope({ issuedAt: 1.5 }), reason: /issuedAt.*got 1.5/ },
  { name: 'a NaN issuedAt', command: withEnvelope({ issuedAt: Number.NaN }), reason: /issuedAt.*got NaN/ },
  { name: 'an issuedAt given as a string', command: withEnvelope({ issuedAt: '1' as unknown as number }), reason: /issuedAt.*got "1"/ },
  { name: 'a 256-character actor (copied onto every event it causes)', command: withEnvelope({ actor: 'k'.repeat(256) }), reason: /actor must be at most 255/ },
  { name: 'a megabyte actor', command: withEnvelope({ actor: 'k'.repeat(1_000_000) }), reason: /actor must be at most 255/ },
  { name: 'an empty actor', command: withEnvelope({ actor: '' }), reason: /actor must not be empty/ },
  { name: 'a numeric actor', command: withEnvelope({ actor: 7 as unknown as string }), reason: /actor must be a string, got 7/ },
  { name: 'an unknown command type', command: withPayload({ type: 'PrintMoney', amount: 1 }), reason: /unknown command type "PrintMoney"/ },
  { name: 'a missing payload', command: withPayload(null), reason: /payload must be an object/ },
];

describe('validateCommand', () => {
  it.each(valid.map((payload) => ({ type: payload.type, payload })))('accepts a well-formed $type', ({ payload }) => {
    expect(validateCommand(commandFor(A, payload))).toBeNull();
  });

  it.each(invalid)('refuses $name', ({ command, reason }) => {
    expect(validateCommand(command)).toMatch(reason);
  });

  it('accepts an actor that is null, absent or a key id, and issuedAt at its bounds', () => {
    for (const patch of [{ actor: null }, { actor: undefined }, { actor: 'k3y1d0000000' }, { actor: 'k'.repeat(255) }, { issuedAt: 0 }, { issuedAt: limits.issuedAtMax }]) {
      expect(validateCommand(withEnvelope(patch)), JSON.stringify(patch)).toBeNull();
    }
    // The latest expiry a valid hold can have is still a safe integer.
    expect(Number.isSafeInteger(limits.issuedAtMax + limits.holdSecondsMax * 1000)).toBe(true);
  });

  it('never echoes a long string back in its reason', () => {
    const reason = validateCommand(withPayload(cmd.open(0, 'x'.repeat(10_000))));
    expect(reason!.length).toBeLessThan(100);
  });

  it('publishes its bounds by name', () => {
    expect(limits).toMatchObject({ ownerNameLengthMax: 200, referenceLengthMax: 500, idLengthMax: 255 });
  });
});
