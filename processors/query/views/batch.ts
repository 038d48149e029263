// Folds a batch of one partition's events into view changes. Accounts are read from the store
// once per batch; later events of the same account see the row the earlier ones produced, so
// the batch needs one read and one write per account however many events it holds. An event
// that cannot be applied is parked (parked.ts) and the fold goes on: the account's row stays at
// its last applied event, so that account's later events park too (they no longer follow), and
// every other account is unaffected.
import { eventKey } from '../../../topics/record-keys.ts';
import type { AccountEvent } from '../../../schemas/types.ts';
import { applyEvent } from './apply.ts';
import { UnapplicableEvent, type ParkReason } from './parked.ts';
import { applyHoldEvent, holdIdOf, holdRef, type HoldChange, type HoldRecord } from './holds.ts';
import type { AccountSummary, HistoryEntry, TransferFact } from './types.ts';

export interface BatchChanges {
  /** Final row of every account the batch changed. */
  accounts: Map<string, AccountSummary>;
  history: Array<{ accountId: string; entry: HistoryEntry }>;
  /** Each with the history entry that records it. */
  transferFacts: Array<{ fact: TransferFact; accountId: string; sequence: number }>;
  /** Final record of every hold the batch changed, by holdRef. */
  holds: Map<string, HoldChange>;
  /** Events at or below their account's version: already applied, changed nothing. */
  duplicates: number;
  /** Events left out of the views, by their index in the folded events. */
  parked: Array<{ index: number; reason: ParkReason; detail: string }>;
}

/** The distinct accounts a batch touches, whose current rows the fold needs. */
export function accountsOf(events: readonly AccountEvent[]): string[] {
  return [...new Set(events.map((e) => e.accountId))];
}

/** `accountId:sequence`: how applied history entries are looked up for duplicates. */
export const entryRef = (accountId: string, sequence: number): string => eventKey(accountId, sequence);

/** Events at or below their account's stored version: the stored entries the fold compares them with. */
export function storedDuplicates(current: ReadonlyMap<string, AccountSummary | undefined>, events: readonly AccountEvent[]): Array<{ accountId: string; sequence: number }> {
  return events.filter((e) => e.sequence <= (current.get(e.accountId)?.version ?? 0)).map((e) => ({ accountId: e.accountId, sequence: e.sequence }));
}

/**
 * `current` holds the stored row (or undefined) of every account in accountsOf(events);
 * `stored` the history entries of storedDuplicates(current, events) by entryRef;
 * `storedHolds` the stored records of holdsNamedBy(events) by holdRef.
 */
export function applyEvents(
  current: ReadonlyMap<string, AccountSummary | undefined>,
  events: readonly AccountEvent[],
  stored: ReadonlyMap<string, HistoryEntry> = new Map(),
  storedHolds: ReadonlyMap<string, HoldRecord | undefined> = new Map(),
): BatchChanges {
  const rows = new Map(current);
  const changes: BatchChanges = { accounts: new Map(), history: [], transferFacts: [], holds: new Map(), duplicates: 0, parked: [] };
  events.forEach((event, index) => {
    const row = rows.get(event.accountId);
    // Looked up only for a duplicate: no string building per event on the rebuild's hot path.
    const applied = row !== undefined && event.sequence <= row.version ? (stored.get(entryRef(event.accountId, event.sequence)) ?? appliedInBatch(changes, event)) : undefined;
    let change;
    let hold: HoldChange | null = null;
    try {
      change = applyEvent(row, event, applied);
      // Inside the try: a hold event that does not add up parks its event, account row included.
      if (change !== null) hold = holdChange(changes, storedHolds, event);
    } catch (error) {
      if (!(error instanceof UnapplicableEvent)) throw error;
      changes.parked.push({ index, reason: error.reason, detail: error.message });
      return;
    }
    if (change === null) {
      changes.duplicates += 1;
      return;
    }
    rows.set(event.accountId, change.account);
    changes.accounts.set(event.accountId, change.account);
    changes.history.push({ accountId: event.accountId, entry: change.history });
    if (change.transferFact !== null) changes.transferFacts.push({ fact: change.transferFact, accountId: event.accountId, sequence: event.sequence });
    if (hold !== null) changes.holds.set(holdRef(event.accountId, hold.hold.holdId), hold);
  });
  return changes;
}

/** The hold after the event, from the record an earlier event of the batch left or the stored one; null for other events. */
function holdChange(changes: BatchChanges, storedHolds: ReadonlyMap<string, HoldRecord | undefined>, event: AccountEvent): HoldChange | null {
  const holdId = holdIdOf(event);
  if (holdId === null) return null;
  const ref = holdRef(event.accountId, holdId);
  const inBatch = changes.holds.get(ref);
  const before = inBatch?.hold ?? storedHolds.get(ref);
  const hold = applyHoldEvent(before, event);
  return hold === null ? null : { hold, storedStatus: inBatch === undefined ? (before?.status ?? null) : inBatch.storedStatus };
}

/** The entry this batch already applied at the event's place, if any: searched only for an event at or below its version, which is rare. */
function appliedInBatch(changes: BatchChanges, event: AccountEvent): HistoryEntry | undefined {
  const row = changes.accounts.get(event.accountId);
  if (row === undefined || event.sequence > row.version) return undefined;
  for (let i = changes.history.length - 1; i >= 0; i -= 1) {
    const h = changes.history[i];
    if (h !== undefined && h.accountId === event.accountId && h.entry.sequence === event.sequence) return h.entry;
  }
  return undefined;
}
