// Folds a batch of one partition's events into view changes. Accounts are read from the store
// once per batch; later events of the same account see the row the earlier ones produced, so
// the batch needs one read and one write per account however many events it holds.
import type { AccountEvent } from '../../../schemas/types.ts';
import { applyEvent } from './apply.ts';
import type { AccountSummary, HistoryEntry, TransferFact } from './types.ts';

export interface BatchChanges {
  /** Final row of every account the batch changed. */
  accounts: Map<string, AccountSummary>;
  history: Array<{ accountId: string; entry: HistoryEntry }>;
  /** Each with the history entry that records it. */
  transferFacts: Array<{ fact: TransferFact; accountId: string; sequence: number }>;
  /** Events at or below their account's version: already applied, changed nothing. */
  duplicates: number;
}

/** The distinct accounts a batch touches, whose current rows the fold needs. */
export function accountsOf(events: readonly AccountEvent[]): string[] {
  return [...new Set(events.map((e) => e.accountId))];
}

/** `current` holds the stored row (or undefined) of every account in accountsOf(events). */
export function applyEvents(current: ReadonlyMap<string, AccountSummary | undefined>, events: readonly AccountEvent[]): BatchChanges {
  const rows = new Map(current);
  const changes: BatchChanges = { accounts: new Map(), history: [], transferFacts: [], duplicates: 0 };
  for (const event of events) {
    const change = applyEvent(rows.get(event.accountId), event);
    if (change === null) {
      changes.duplicates += 1;
      continue;
    }
    rows.set(event.accountId, change.account);
    changes.accounts.set(event.accountId, change.account);
    changes.history.push({ accountId: event.accountId, entry: change.history });
    if (change.transferFact !== null) changes.transferFacts.push({ fact: change.transferFact, accountId: event.accountId, sequence: event.sequence });
  }
  return changes;
}
