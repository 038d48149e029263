// When several refusals apply, the one earliest in REJECTION_CODES wins (decide.ts documents it).
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES, type CommandPayload, type EventPayload, type RejectionCode } from '../../../schemas/types.ts';
import { A, B, MAX, cmd, ev, histories as h, when } from './given.ts';

/** The order decide.ts documents; IDEMPOTENCY_KEY_REUSED is the processing loop's, checked first of all. */
const documentedPrecedence: RejectionCode[] = [
  'IDEMPOTENCY_KEY_REUSED',
  'SAME_ACCOUNT_TRANSFER',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_ALREADY_EXISTS',
  'ACCOUNT_CLOSED',
  'CURRENCY_MISMATCH',
  'ACCOUNT_NOT_EMPTY',
  'HOLD_NOT_FOUND',
  'HOLD_NOT_ACTIVE',
  'AMOUNT_EXCEEDS_HOLD',
  'TRANSACTION_NOT_FOUND',
  'NOT_REVERSIBLE',
  'ALREADY_REVERSED',
  'INSUFFICIENT_FUNDS',
  'AMOUNT_TOO_LARGE',
];

/** A closed account at the top of the safe range: only a refund can leave it so. */
const closedAtMax: EventPayload[] = [ev.opened(0), ev.closed(), ev.legacyRefunded(B, MAX, MAX)];

type Case = { name: string; given: EventPayload[]; when: CommandPayload; wins: RejectionCode; over: RejectionCode[] };

const cases: Case[] = [
  { name: 'a transfer to itself from a missing account', given: h.none, when: cmd.transfer(A, 1), wins: 'SAME_ACCOUNT_TRANSFER', over: ['ACCOUNT_NOT_FOUND'] },
  { name: 'a transfer to itself from a closed account', given: h.closedEmpty, when: cmd.transfer(A, 1), wins: 'SAME_ACCOUNT_TRANSFER', over: ['ACCOUNT_CLOSED'] },
  { name: 'a transfer to itself of more than the balance', given: h.open500, when: cmd.transfer(A, 501), wins: 'SAME_ACCOUNT_TRANSFER', over: ['INSUFFICIENT_FUNDS'] },
  { name: 'a withdrawal beyond the balance of a closed account', given: h.closedHolding300, when: cmd.withdraw(301), wins: 'ACCOUNT_CLOSED', over: ['INSUFFICIENT_FUNDS'] },
  { name: 'a transfer beyond the balance of a closed account', given: h.closedHolding300, when: cmd.transfer(B, 301), wins: 'ACCOUNT_CLOSED', over: ['INSUFFICIENT_FUNDS'] },
  { name: 'a deposit that overflows a closed account', given: closedAtMax, when: cmd.deposit(1), wins: 'ACCOUNT_CLOSED', over: ['AMOUNT_TOO_LARGE'] },
  { name: 'closing a closed account that holds money', given: h.closedHolding300, when: cmd.close(), wins: 'ACCOUNT_CLOSED', over: ['ACCOUNT_NOT_EMPTY'] },
  { name: 'a credit in another currency to a closed account', given: [ev.opened(0, 'EUR'), ev.closed()], when: cmd.credit(B, 1, 'USD'), wins: 'ACCOUNT_CLOSED', over: ['CURRENCY_MISMATCH'] },
  { name: 'a credit that overflows a closed account', given: closedAtMax, when: cmd.credit(B, 1), wins: 'ACCOUNT_CLOSED', over: ['AMOUNT_TOO_LARGE'] },
  { name: 'a credit in another currency that would overflow', given: [ev.opened(MAX, 'EUR')], when: cmd.credit(B, 1, 'USD'), wins: 'CURRENCY_MISMATCH', over: ['AMOUNT_TOO_LARGE'] },
];

describe('rejection precedence', () => {
  it('decide.ts documents the order of REJECTION_CODES', () => {
    expect(documentedPrecedence).toEqual([...REJECTION_CODES]);
  });

  it.each(cases)('$wins wins for $name', (c) => {
    const decision = when(c.given, c.when);
    expect(decision).toMatchObject({ kind: 'rejected', code: c.wins });
    for (const loser of c.over) {
      expect(documentedPrecedence.indexOf(c.wins)).toBeLessThan(documentedPrecedence.indexOf(loser));
    }
  });

  it('a refund still lands on a closed account', () => {
    expect(when(h.closedEmpty, cmd.refund(B, 1))).toMatchObject({ kind: 'accepted' });
  });
});
