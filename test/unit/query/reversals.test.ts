// Reversals in the query views (DESIGN §10, §11): each reversal event is a history entry; the
// account-level ones and the transfer reversal's debit and credit move the balance, the request
// and the failure at the source do not; a transfer's own view is left as it was.
import { describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../schemas/types.ts';
import { A, B, T, ev, fold, history } from './given.ts';

const events: EventPayload[] = [
  ev.opened(1000),
  ev.deposited(500, 1500),
  { type: 'TransactionReversed', reversedCommandId: 'dep-1', amount: 500, direction: 'DEBIT', balanceAfter: 1000, reason: 'duplicate' },
  ev.withdrawn(200, 800),
  { type: 'TransactionReversed', reversedCommandId: 'wd-1', amount: 200, direction: 'CREDIT', balanceAfter: 1000, reason: null },
  { type: 'TransferReversalRequested', transferId: T, toAccountId: B, amount: 300, reason: 'fraud' },
  { type: 'TransferReversalFailed', transferId: T, toAccountId: B, amount: 300, reason: 'INSUFFICIENT_FUNDS' },
  { type: 'TransferReversalRequested', transferId: T, toAccountId: B, amount: 300, reason: null },
  { type: 'TransferReversalCredited', transferId: T, fromAccountId: B, amount: 300, balanceAfter: 1300 },
];

describe('reversals in the views', () => {
  it('move the balance as their events say, and every one is a history entry', () => {
    const { rows, changes } = fold(history(A, events));
    expect(rows.get(A)).toMatchObject({ balance: 1300, version: events.length });
    expect(changes.parked).toEqual([]);
    expect(changes.transferFacts).toEqual([]);
    const entries = changes.history.map((h) => h.entry);
    expect(entries.slice(2).map((e) => [e.type, e.amount, e.balanceAfter, e.transferId, e.counterpartyAccountId, e.reason])).toEqual([
      ['TransactionReversed', 500, 1000, null, null, 'reverses dep-1: duplicate'],
      ['MoneyWithdrawn', 200, 800, null, null, null],
      ['TransactionReversed', 200, 1000, null, null, 'reverses wd-1'],
      ['TransferReversalRequested', 300, 1000, T, B, 'reversal requested: fraud'],
      ['TransferReversalFailed', 300, 1000, T, B, 'INSUFFICIENT_FUNDS'],
      ['TransferReversalRequested', 300, 1000, T, B, 'reversal requested'],
      ['TransferReversalCredited', 300, 1300, T, B, 'transfer reversed'],
    ]);
  });

  it("a transfer reversal's debit at the destination takes the money out", () => {
    const { rows, changes } = fold(history(B, [ev.opened(0), ev.credited(300, 300), { type: 'TransferReversed', transferId: T, toAccountId: A, amount: 300, balanceAfter: 0, reason: 'fraud' }]));
    expect(rows.get(B)).toMatchObject({ balance: 0, version: 3 });
    expect(changes.history.at(-1)?.entry).toMatchObject({ type: 'TransferReversed', amount: 300, balanceAfter: 0, transferId: T, counterpartyAccountId: A, reason: 'transfer reversed: fraud' });
  });

  it('a reversal whose balanceAfter does not add up is parked, not applied', () => {
    const { rows, changes } = fold(history(A, [ev.opened(100), { type: 'TransactionReversed', reversedCommandId: 'x', amount: 50, direction: 'CREDIT', balanceAfter: 50, reason: null }]));
    expect(rows.get(A)).toMatchObject({ balance: 100, version: 1 });
    expect(changes.parked).toMatchObject([{ reason: 'INVALID_EVENT' }]);
  });
});
