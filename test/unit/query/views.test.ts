import { describe, expect, it } from 'vitest';
import { applyEvent, applyEvents, factFromEntry, ViewInvariantViolation } from '../../../processors/query/views/index.ts';
import { A, B, T, t0, ev, event, fold, history } from './given.ts';

describe('account summary', () => {
  it('an opened account has its owner, currency, opening balance and version 1', () => {
    const { rows } = fold(history(A, [ev.opened(500)]));
    expect(rows.get(A)).toEqual({
      accountId: A, ownerName: 'Ada Lovelace', currency: 'EUR', balance: 500, status: 'OPEN', version: 1, openedAt: t0 + 1, updatedAt: t0 + 1,
    });
  });

  it('deposits, withdrawals, debits, credits and refunds move the balance to balanceAfter', () => {
    const { rows } = fold(history(A, [ev.opened(100), ev.deposited(50, 150), ev.withdrawn(30, 120), ev.debited(20, 100), ev.refunded(20, 120), ev.credited(5, 125)]));
    expect(rows.get(A)).toMatchObject({ balance: 125, version: 6, status: 'OPEN', openedAt: t0 + 1, updatedAt: t0 + 6 });
  });

  it('a closed account is CLOSED and keeps its last balance', () => {
    const { rows } = fold(history(A, [ev.opened(10), ev.withdrawn(10, 0), ev.closed()]));
    expect(rows.get(A)).toMatchObject({ status: 'CLOSED', balance: 0, version: 3 });
  });

  it('a refund may land on a closed account', () => {
    const { rows } = fold(history(A, [ev.opened(10), ev.debited(10, 0), ev.closed(), ev.refunded(10, 10)]));
    expect(rows.get(A)).toMatchObject({ status: 'CLOSED', balance: 10, version: 4 });
  });
});

describe('idempotence and gaps', () => {
  it('an event at or below the applied version changes nothing', () => {
    const events = history(A, [ev.opened(100), ev.deposited(50, 150)]);
    const { rows } = fold(events);
    for (const replayed of events) expect(applyEvent(rows.get(A), replayed)).toBeNull();
  });

  it('a batch holding the same event twice applies it once and counts the duplicate', () => {
    const events = history(A, [ev.opened(100), ev.deposited(50, 150)]);
    const { rows, changes } = fold([...events, events[1]!, events[0]!]);
    expect(rows.get(A)).toMatchObject({ balance: 150, version: 2 });
    expect(changes.history).toHaveLength(2);
    expect(changes.duplicates).toBe(2);
  });

  it('a gap in sequences is a broken invariant', () => {
    const { rows } = fold(history(A, [ev.opened(100)]));
    expect(() => applyEvent(rows.get(A), event(A, 3, ev.deposited(1, 101)))).toThrow(ViewInvariantViolation);
  });

  it('an unknown account must start at sequence 1 with AccountOpened', () => {
    expect(() => applyEvent(undefined, event(A, 2, ev.deposited(1, 1)))).toThrow(/gap/);
    expect(() => applyEvent(undefined, event(A, 1, ev.deposited(1, 1)))).toThrow(/AccountOpened/);
  });

  it('a balanceAfter that does not add up is a broken invariant', () => {
    const { rows } = fold(history(A, [ev.opened(100)]));
    expect(() => applyEvent(rows.get(A), event(A, 2, ev.deposited(50, 160)))).toThrow(/balanceAfter 160 is not 100 \+ 50/);
    expect(() => applyEvent(rows.get(A), event(A, 2, ev.debited(50, 150)))).toThrow(/is not 100 - 50/);
  });

  it('an id holding NUL is refused, since store keys are NUL-separated', () => {
    expect(() => applyEvent(undefined, event('a\u0000b', 1, ev.opened(0)))).toThrow(/NUL/);
  });
});

describe('history entries', () => {
  it('carry sequence, type, amount, balanceAfter, time, command and the optional details', () => {
    const { changes } = fold(history(A, [ev.opened(100), ev.deposited(50, 150, 'salary'), ev.debited(20, 130), ev.refunded(20, 150, 'ACCOUNT_CLOSED'), ev.withdrawn(150, 0), ev.closed()]));
    const entries = changes.history.map((h) => h.entry);
    expect(entries.map((e) => [e.sequence, e.type, e.amount, e.balanceAfter])).toEqual([
      [1, 'AccountOpened', 100, 100],
      [2, 'MoneyDeposited', 50, 150],
      [3, 'TransferDebited', 20, 130],
      [4, 'TransferRefunded', 20, 150],
      [5, 'MoneyWithdrawn', 150, 0],
      [6, 'AccountClosed', 0, 0],
    ]);
    expect(entries[1]).toMatchObject({ reference: 'salary', transferId: null, counterpartyAccountId: null, reason: null, commandId: `cmd-${A}-2`, occurredAt: t0 + 2 });
    expect(entries[2]).toMatchObject({ transferId: T, counterpartyAccountId: B, reason: null, reference: null });
    expect(entries[3]).toMatchObject({ transferId: T, counterpartyAccountId: B, reason: 'ACCOUNT_CLOSED' });
  });

  it('a credit names the source account as counterparty', () => {
    const { changes } = fold(history(B, [ev.opened(0), ev.credited(20, 20, A)]));
    expect(changes.history[1]?.entry).toMatchObject({ type: 'TransferCredited', transferId: T, counterpartyAccountId: A, amount: 20 });
  });
});

describe('transfer facts', () => {
  it('the source records debited and refunded, the destination credited, each with its currency', () => {
    const source = fold(history(A, [ev.opened(100, 'USD'), ev.debited(30, 70), ev.refunded(30, 100, 'CURRENCY_MISMATCH')]));
    const destination = fold(history(B, [ev.opened(0, 'USD'), ev.credited(30, 30)]));
    expect(source.changes.transferFacts.map((t) => t.fact)).toEqual([
      { role: 'debited', transferId: T, fromAccountId: A, toAccountId: B, amount: 30, currency: 'USD', reason: null, occurredAt: t0 + 2 },
      { role: 'refunded', transferId: T, fromAccountId: A, toAccountId: B, amount: 30, currency: 'USD', reason: 'CURRENCY_MISMATCH', occurredAt: t0 + 3 },
    ]);
    expect(destination.changes.transferFacts.map((t) => t.fact)).toEqual([
      { role: 'credited', transferId: T, fromAccountId: A, toAccountId: B, amount: 30, currency: 'USD', reason: null, occurredAt: t0 + 2 },
    ]);
  });

  it('each fact can be rebuilt from the history entry that records it (the store keeps only a pointer)', () => {
    for (const { changes } of [
      fold(history(A, [ev.opened(100, 'USD'), ev.debited(30, 70), ev.refunded(30, 100, 'CURRENCY_MISMATCH')])),
      fold(history(B, [ev.opened(0, 'GBP'), ev.credited(30, 30)])),
    ]) {
      for (const { fact, accountId, sequence } of changes.transferFacts) {
        const entry = changes.history.find((h) => h.accountId === accountId && h.entry.sequence === sequence)!.entry;
        expect(factFromEntry(accountId, fact.currency, entry)).toEqual(fact);
      }
    }
  });

  it('events of other types record no transfer fact', () => {
    expect(fold(history(A, [ev.opened(1), ev.deposited(1, 2), ev.withdrawn(2, 0), ev.closed()])).changes.transferFacts).toEqual([]);
  });
});

describe('batches', () => {
  it('one row per account however many events, each event one history entry', () => {
    const events = [...history(A, [ev.opened(1), ev.deposited(1, 2), ev.deposited(1, 3)]), ...history(B, [ev.opened(5)])];
    const changes = applyEvents(new Map(), events);
    expect([...changes.accounts.keys()].sort()).toEqual([A, B]);
    expect(changes.accounts.get(A)?.version).toBe(3);
    expect(changes.history).toHaveLength(4);
  });

  it('a batch continues from the rows the store already holds', () => {
    const first = fold(history(A, [ev.opened(1), ev.deposited(1, 2)]));
    const second = fold([event(A, 2, ev.deposited(1, 2)), event(A, 3, ev.deposited(5, 7))], first.rows);
    expect(second.rows.get(A)).toMatchObject({ balance: 7, version: 3 });
    expect(second.changes.duplicates).toBe(1);
  });
});
