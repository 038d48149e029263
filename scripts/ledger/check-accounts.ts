// Per-account checks: every account's events fold with the domain's own evolve() from sequence 1
// (AccountOpened) without a gap, a fork, a wrong balanceAfter or a negative balance; and the
// account-state changelog's latest record agrees with that fold. An account whose history breaks
// is folded only up to the first bad event, and later checks use that verified prefix.
import { eventIdOf, evolve } from '../../processors/account/domain/index.ts';
import type { AccountEvent, AccountState } from '../../schemas/types.ts';
import type { Located } from './read.ts';
import type { Violations } from './violations.ts';

export interface AccountFold {
  /** The state each account's events fold to (its verified prefix, for a broken account). */
  folded: Map<string, AccountState>;
  /** Accounts whose history is broken: folding stopped at the first bad event. */
  broken: Set<string>;
  /** Events that folded cleanly, one per (account, sequence), in sequence order per account. */
  verified: AccountEvent[];
  /** Every event once (a re-publish under the same key collapsed), wherever the fold stopped. */
  unique: Located<AccountEvent>[];
  /** The account's balance after each verified event, by eventId. */
  balanceAfter: Map<string, number>;
}

function groupByAccount(events: Located<AccountEvent>[], violations: Violations): Map<string, Located<AccountEvent>[]> {
  const byAccount = new Map<string, Located<AccountEvent>[]>();
  for (const located of events) {
    const { accountId, sequence } = located.value;
    const expectedKey = eventIdOf(accountId, sequence);
    // The key is what compaction keeps one record per: a wrong one lets it drop a different event.
    if (located.key !== expectedKey) violations.add('history', `event at partition ${located.partition} offset ${located.offset}: key ${located.key} is not ${expectedKey}`);
    const list = byAccount.get(accountId) ?? [];
    list.push(located);
    byAccount.set(accountId, list);
  }
  return byAccount;
}

const describeMissing = (from: number, to: number): string => (from === to ? `${from} is missing` : `${from}..${to} are missing`);

function foldOne(accountId: string, list: Located<AccountEvent>[], fold: AccountFold, violations: Violations): void {
  const partitions = [...new Set(list.map((l) => l.partition))];
  // Every record of an account goes to the partition of its commands: two mean two writers.
  if (partitions.length > 1) violations.add('history', `account ${accountId}: events in partitions ${partitions.join(', ')}; an account's records belong to one partition`);
  // Stable sort: offset order among equal sequences, so the first copy of an event is kept.
  const ordered = [...list].sort((a, b) => a.value.sequence - b.value.sequence);
  const stop = (message: string) => {
    violations.add('history', `account ${accountId}: ${message}`);
    fold.broken.add(accountId);
  };
  let state: AccountState | undefined;
  let previous: AccountEvent | undefined;
  for (const { value: event } of ordered) {
    if (previous !== undefined && previous.sequence === event.sequence) {
      // A re-publish under the same key is harmless when identical (compaction collapses it); anything else is a fork.
      if (JSON.stringify(previous) !== JSON.stringify(event)) {
        stop(`two different events with sequence ${event.sequence} (${previous.payload.type} and ${event.payload.type})`);
        break;
      }
      continue;
    }
    const expected = (previous?.sequence ?? 0) + 1;
    if (event.sequence !== expected) {
      stop(previous === undefined
        ? `history starts at sequence ${event.sequence} (${event.payload.type}), not at 1 with AccountOpened`
        : `sequence gap: ${previous.sequence} is followed by ${event.sequence}; ${describeMissing(expected, event.sequence - 1)}`);
      break;
    }
    if (event.sequence === 1 && event.payload.type !== 'AccountOpened') {
      stop(`sequence 1 is ${event.payload.type}, not AccountOpened`);
      break;
    }
    try {
      state = evolve(state, event);
    } catch (error) {
      stop(`event ${event.sequence} (${event.payload.type}) breaks the fold: ${(error as Error).message}`);
      break;
    }
    fold.verified.push(event);
    fold.balanceAfter.set(event.eventId, state.balance);
    previous = event;
  }
  if (state !== undefined) fold.folded.set(accountId, state);
}

export function foldAccounts(events: Located<AccountEvent>[], violations: Violations): AccountFold {
  const fold: AccountFold = { folded: new Map(), broken: new Set(), verified: [], unique: [], balanceAfter: new Map() };
  const seen = new Set<string>();
  for (const located of events) {
    if (seen.has(located.value.eventId)) continue;
    seen.add(located.value.eventId);
    fold.unique.push(located);
  }
  for (const [accountId, list] of groupByAccount(events, violations)) foldOne(accountId, list, fold, violations);
  return fold;
}

/** The changelog's latest state per account against the fold (accounts with a broken history excepted: already reported). */
export function checkStates(states: Located<AccountState>[], fold: AccountFold, violations: Violations): void {
  const latest = new Map<string, Located<AccountState>>();
  for (const located of states) {
    const { value } = located;
    if (located.key !== value.accountId) violations.add('changelog', `account-state at partition ${located.partition} offset ${located.offset}: key ${located.key} holds account ${value.accountId}`);
    const previous = latest.get(value.accountId);
    if (previous !== undefined && previous.partition !== located.partition) violations.add('changelog', `account-state ${value.accountId}: records in partitions ${previous.partition} and ${located.partition}`);
    if (previous !== undefined && value.version < previous.value.version) violations.add('changelog', `account-state ${value.accountId}: version went back from ${previous.value.version} to ${value.version}`);
    latest.set(value.accountId, located);
  }
  for (const [accountId, fromEvents] of fold.folded) {
    if (fold.broken.has(accountId)) continue;
    const state = latest.get(accountId)?.value;
    if (state === undefined) {
      violations.add('changelog', `account ${accountId}: no record in the account-state changelog`);
      continue;
    }
    const fields = ['balance', 'version', 'status', 'currency', 'ownerName', 'heldBalance', 'overdraftLimit', 'outgoingInFlight'] as const;
    const differing = fields.filter((field) => state[field] !== fromEvents[field]);
    if (differing.length > 0) {
      const show = (s: AccountState) => differing.map((field) => `${field} ${String(s[field])}`).join(', ');
      violations.add('changelog', `account ${accountId}: the account-state changelog says ${show(state)}; its events fold to ${show(fromEvents)}`);
    }
  }
  for (const accountId of latest.keys()) if (!fold.folded.has(accountId)) violations.add('changelog', `account-state has account ${accountId}, which has no events`);
}
