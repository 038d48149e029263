import { describe, expect, it } from 'vitest';
import type { AccountEvent, AccountState, EventPayload } from '../../../schemas/types.ts';
import { evolve, InvariantViolation } from '../../../processors/account/domain/index.ts';
import { A, B, MAX, ev, given, histories as h, numbered, t0 } from './given.ts';

/** The next event after a history, numbered as the processor would, with optional tampering. */
function next(history: EventPayload[], payload: EventPayload, tamper: Partial<AccountEvent> = {}): AccountEvent {
  const sequence = history.length + 1;
  return {
    eventId: `${A}:${sequence}`,
    accountId: A,
    sequence,
    commandId: 'cmd-next',
    occurredAt: t0 + 1_000,
    payload,
    ...tamper,
  };
}

describe('evolve', () => {
  it('AccountOpened creates an open account at version 1', () => {
    const [event] = numbered([ev.opened(250, 'EUR')]);
    expect(evolve(undefined, event!)).toEqual<AccountState>({
      accountId: A,
      ownerName: 'Ada Lovelace',
      currency: 'EUR',
      balance: 250,
      status: 'OPEN',
      version: 1,
      openedAt: t0,
      updatedAt: t0,
      outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0,
    });
  });

  const moves: { name: string; history: EventPayload[]; event: EventPayload; balance: number; outgoingInFlight?: number }[] = [
    { name: 'MoneyDeposited adds', history: h.open500, event: ev.deposited(200, 700), balance: 700 },
    { name: 'MoneyWithdrawn subtracts', history: h.open500, event: ev.withdrawn(200, 300), balance: 300 },
    { name: 'TransferDebited subtracts and puts the amount in flight', history: h.open500, event: ev.debited(B, 500, 0), balance: 0, outgoingInFlight: 500 },
    { name: 'TransferCredited adds', history: h.open500, event: ev.credited(B, 1, 501), balance: 501 },
    { name: 'TransferRefunded adds', history: h.open500, event: ev.legacyRefunded(B, 1, 501), balance: 501 },
    { name: 'TransferRefunded lands on a closed account', history: h.closedEmpty, event: ev.legacyRefunded(B, 9, 9), balance: 9 },
    { name: 'MoneyDeposited reaches the money maximum', history: h.nearMax, event: ev.deposited(10, MAX), balance: MAX },
  ];

  it.each(moves)('$name, and advances version and updatedAt', ({ history, event, balance, outgoingInFlight = 0 }) => {
    const before = given(history)!;
    const after = evolve(before, next(history, event));
    expect(after).toEqual({ ...before, balance, outgoingInFlight, version: history.length + 1, updatedAt: t0 + 1_000 });
  });

  it('AccountClosed closes an empty account and keeps its balance', () => {
    const after = evolve(given(h.openEmpty), next(h.openEmpty, ev.closed()));
    expect(after).toMatchObject({ status: 'CLOSED', balance: 0, version: 2, openedAt: t0, updatedAt: t0 + 1_000 });
  });

  it('does not modify the state it is given', () => {
    const before = given(h.open500)!;
    const copy = structuredClone(before);
    evolve(before, next(h.open500, ev.deposited(1, 501)));
    expect(before).toEqual(copy);
  });
});

describe('evolve invariant violations', () => {
  const violations: { name: string; history: EventPayload[]; event: AccountEvent }[] = [
    { name: 'AccountOpened for an account that exists', history: h.open500, event: next(h.open500, ev.opened(0)) },
    { name: 'AccountOpened with sequence 2', history: h.none, event: next(h.none, ev.opened(0), { sequence: 2, eventId: `${A}:2` }) },
    { name: 'AccountOpened with a negative initial balance', history: h.none, event: next(h.none, ev.opened(-1)) },
    { name: 'AccountOpened with a fractional initial balance', history: h.none, event: next(h.none, ev.opened(1.5)) },
    { name: 'AccountOpened with an unsafe initial balance', history: h.none, event: next(h.none, ev.opened(2 ** 53)) },
    { name: 'an event for an account with no state', history: h.none, event: next(h.none, ev.deposited(1, 1)) },
    { name: 'a gap in sequences', history: h.open500, event: next(h.open500, ev.deposited(1, 501), { sequence: 3, eventId: `${A}:3` }) },
    { name: 'a repeated sequence', history: h.open500, event: next(h.open500, ev.deposited(1, 501), { sequence: 1, eventId: `${A}:1` }) },
    { name: "another account's event", history: h.open500, event: next(h.open500, ev.deposited(1, 501), { accountId: B, eventId: `${B}:2` }) },
    { name: 'an eventId that is not accountId:sequence', history: h.open500, event: next(h.open500, ev.deposited(1, 501), { eventId: 'x' }) },
    { name: 'a non-integer sequence', history: h.open500, event: next(h.open500, ev.deposited(1, 501), { sequence: 1.5 }) },
    { name: 'a non-integer occurredAt', history: h.open500, event: next(h.open500, ev.deposited(1, 501), { occurredAt: Number.NaN }) },
    { name: 'a deposit whose balanceAfter is off by one', history: h.open500, event: next(h.open500, ev.deposited(1, 502)) },
    { name: 'a withdrawal that adds', history: h.open500, event: next(h.open500, ev.withdrawn(100, 600)) },
    { name: 'a debit that adds', history: h.open500, event: next(h.open500, ev.debited(B, 100, 600)) },
    { name: 'a credit that subtracts', history: h.open500, event: next(h.open500, ev.credited(B, 100, 400)) },
    { name: 'a refund that subtracts', history: h.open500, event: next(h.open500, ev.legacyRefunded(B, 100, 400)) },
    { name: 'a withdrawal to a negative balance', history: h.open500, event: next(h.open500, ev.withdrawn(600, -100)) },
    { name: 'a deposit past the money maximum', history: h.atMax, event: next(h.atMax, ev.deposited(1, MAX + 1)) },
    { name: 'a deposit of zero', history: h.open500, event: next(h.open500, ev.deposited(0, 500)) },
    { name: 'a deposit of a negative amount', history: h.open500, event: next(h.open500, ev.deposited(-1, 499)) },
    { name: 'a deposit of a fractional amount', history: h.open500, event: next(h.open500, ev.deposited(0.5, 500.5)) },
    { name: 'a deposit on a closed account', history: h.closedEmpty, event: next(h.closedEmpty, ev.deposited(1, 1)) },
    { name: 'a withdrawal on a closed account', history: h.closedHolding300, event: next(h.closedHolding300, ev.withdrawn(1, 299)) },
    { name: 'a debit on a closed account', history: h.closedHolding300, event: next(h.closedHolding300, ev.debited(B, 1, 299)) },
    { name: 'a credit on a closed account', history: h.closedEmpty, event: next(h.closedEmpty, ev.credited(B, 1, 1)) },
    { name: 'closing a closed account', history: h.closedEmpty, event: next(h.closedEmpty, ev.closed()) },
    { name: 'closing an account that holds money', history: h.open500, event: next(h.open500, ev.closed()) },
  ];

  it.each(violations)('throws InvariantViolation for $name', ({ history, event }) => {
    const state = given(history);
    expect(() => evolve(state, event)).toThrow(InvariantViolation);
  });

  it('throws InvariantViolation for an unknown event type', () => {
    const forged = next(h.open500, { type: 'MoneyPrinted' } as unknown as EventPayload);
    expect(() => evolve(given(h.open500), forged)).toThrow(/unknown event type MoneyPrinted/);
  });

  it('names what broke', () => {
    const event = next(h.open500, ev.deposited(1, 501), { sequence: 3, eventId: `${A}:3` });
    expect(() => evolve(given(h.open500), event)).toThrow('sequence 3 does not follow version 1');
  });
});
