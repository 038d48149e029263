import { describe, expect, it } from 'vitest';
import { accountsOf, applyEvent, applyEvents, entryRef, factFromEntry, parkedKey, parkedKeyCharsMax, storedDuplicates, UnapplicableEvent } from '../../../processors/query/views/index.ts';
import type { AccountSummary, HistoryEntry } from '../../../processors/query/views/index.ts';
import type { AccountEvent } from '../../../schemas/types.ts';
import { A, B, T, t0, ev, event, fold, history } from './given.ts';

describe('account summary', () => {
  it('an opened account has its owner, currency, opening balance and version 1', () => {
    const { rows } = fold(history(A, [ev.opened(500)]));
    expect(rows.get(A)).toEqual({
      accountId: A, ownerName: 'Ada Lovelace', currency: 'EUR', balance: 500, status: 'OPEN', version: 1, openedAt: t0 + 1, updatedAt: t0 + 1, heldBalance: 0, overdraftLimit: 0, metadata: {},
    });
  });

  it('holds and overdraft limits show in the row: heldBalance follows the active holds, overdraftLimit the last limit set', () => {
    const events = [
      ev.opened(500),
      { type: 'OverdraftLimitSet', limit: 200 } as const,
      { type: 'HoldPlaced', holdId: 'h1', amount: 300, expiresAt: t0 + 60_000, reference: null } as const,
      { type: 'HoldPlaced', holdId: 'h2', amount: 100, expiresAt: t0 + 60_000, reference: null } as const,
      { type: 'HoldCaptured', holdId: 'h1', amount: 120, balanceAfter: 380, released: 300 } as const,
      { type: 'HoldExpired', holdId: 'h2', amount: 100 } as const,
    ];
    const { rows } = fold(history(A, events));
    expect(rows.get(A)).toMatchObject({ balance: 380, heldBalance: 0, overdraftLimit: 200, version: 6 });
    const partial = fold(history(A, events.slice(0, 4)));
    expect(partial.rows.get(A)).toMatchObject({ balance: 500, heldBalance: 400, overdraftLimit: 200 });
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

describe('idempotence', () => {
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
    expect(changes.parked).toEqual([]);
  });

  it('a replayed event equal to the stored entry at its sequence is a duplicate, also for AccountClosed', () => {
    const events = history(A, [ev.opened(10), ev.withdrawn(10, 0), ev.closed()]);
    const { rows, changes } = fold(events);
    const stored = new Map(changes.history.map(({ accountId, entry }) => [entryRef(accountId, entry.sequence), entry]));
    expect(storedDuplicates(rows, events)).toEqual(events.map((e) => ({ accountId: A, sequence: e.sequence })));
    const replay = applyEvents(rows, events, stored);
    expect([replay.duplicates, replay.parked]).toEqual([3, []]);
  });
});

describe('unapplicable events are parked, never fatal', () => {
  const parkedBy = (events: AccountEvent[], rows?: Map<string, AccountSummary | undefined>, stored?: Map<string, HistoryEntry>) => {
    const current = new Map(rows);
    for (const id of accountsOf(events)) if (!current.has(id)) current.set(id, undefined);
    return applyEvents(current, events, stored);
  };

  it('a gap parks the event, and the account\'s later events park too since they no longer follow', () => {
    const changes = parkedBy([...history(A, [ev.opened(100)]), event(A, 3, ev.deposited(1, 101)), event(A, 4, ev.deposited(1, 102))]);
    expect(changes.accounts.get(A)).toMatchObject({ version: 1, balance: 100 });
    expect(changes.parked.map((p) => [p.index, p.reason])).toEqual([
      [1, 'SEQUENCE_GAP'],
      [2, 'SEQUENCE_GAP'],
    ]);
    expect(changes.parked[0]?.detail).toBe(`SEQUENCE_GAP: event ${A}:3 (MoneyDeposited): gap: sequence does not follow version 1`);
  });

  it('other accounts of the batch are applied around a parked event', () => {
    const changes = parkedBy([event(A, 2, ev.deposited(1, 1)), ...history(B, [ev.opened(5), ev.deposited(1, 6)])]);
    expect(changes.parked.map((p) => p.index)).toEqual([0]);
    expect(changes.accounts.get(B)).toMatchObject({ version: 2, balance: 6 });
    expect(changes.accounts.has(A)).toBe(false);
  });

  it('an event of an account the view never saw parks UNKNOWN_ACCOUNT unless it is sequence 1 AccountOpened', () => {
    expect(() => applyEvent(undefined, event(A, 2, ev.deposited(1, 1)))).toThrow(/^UNKNOWN_ACCOUNT: .*gap/);
    expect(() => applyEvent(undefined, event(A, 1, ev.deposited(1, 1)))).toThrow(/^UNKNOWN_ACCOUNT: .*AccountOpened/);
    expect(parkedBy([event(A, 1, ev.deposited(1, 1))]).parked.map((p) => p.reason)).toEqual(['UNKNOWN_ACCOUNT']);
  });

  it('a second AccountOpened for an existing account parks ALREADY_OPEN and does not reset it', () => {
    const changes = parkedBy([...history(A, [ev.opened(100), ev.deposited(5, 105)]), event(A, 3, ev.opened(7)), event(A, 3, ev.withdrawn(5, 100))]);
    expect(changes.parked.map((p) => [p.index, p.reason])).toEqual([[2, 'ALREADY_OPEN']]);
    expect(changes.accounts.get(A)).toMatchObject({ version: 3, balance: 100, openedAt: t0 + 1 });
  });

  it('an applied sequence written again with another content parks CONFLICTING_DUPLICATE, from the store or from the batch', () => {
    const applied = history(A, [ev.opened(100), ev.deposited(50, 150)]);
    const { rows, changes } = fold(applied);
    const stored = new Map(changes.history.map(({ accountId, entry }) => [entryRef(accountId, entry.sequence), entry]));
    const other = { ...applied[1]!, commandId: 'cmd-forged' };
    const fromStore = parkedBy([other, event(A, 1, ev.opened(999))], rows, stored);
    expect(fromStore.parked.map((p) => p.reason)).toEqual(['CONFLICTING_DUPLICATE', 'CONFLICTING_DUPLICATE']);
    expect(fromStore.parked[0]?.detail).toBe(`CONFLICTING_DUPLICATE: event ${A}:2 (MoneyDeposited): sequence 2 was applied with command cmd-${A}-2 (MoneyDeposited 50)`);
    const inBatch = parkedBy([...applied, event(A, 2, ev.deposited(51, 151))]);
    expect(inBatch.parked.map((p) => [p.index, p.reason])).toEqual([[2, 'CONFLICTING_DUPLICATE']]);
    expect(inBatch.accounts.get(A)).toMatchObject({ version: 2, balance: 150 });
  });

  it('a balanceAfter that does not add up parks INVALID_EVENT', () => {
    const { rows } = fold(history(A, [ev.opened(100)]));
    expect(() => applyEvent(rows.get(A), event(A, 2, ev.deposited(50, 160)))).toThrow(/^INVALID_EVENT: .*balanceAfter 160 is not 100 \+ 50/);
    expect(() => applyEvent(rows.get(A), event(A, 2, ev.debited(50, 150)))).toThrow(/is not 100 - 50/);
    expect(() => applyEvent(rows.get(A), event(A, 2, ev.debited(50, 150)))).toThrow(UnapplicableEvent);
  });

  it('an id holding NUL parks INVALID_EVENT, since store keys are NUL-separated', () => {
    expect(() => applyEvent(undefined, event('a\u0000b', 1, ev.opened(0)))).toThrow(/^INVALID_EVENT: .*NUL/);
  });

  it('a parked record keeps at most parkedKeyCharsMax characters of its key', () => {
    expect(parkedKey('k'.repeat(parkedKeyCharsMax))).toBe('k'.repeat(parkedKeyCharsMax));
    expect(parkedKey('k'.repeat(parkedKeyCharsMax + 1))).toBe(`${'k'.repeat(parkedKeyCharsMax)}…`);
    expect(parkedKey(null)).toBeNull();
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
