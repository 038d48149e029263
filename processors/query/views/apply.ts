// applyEvent(account, event): what one event changes in the views. Applying is idempotent by
// sequence: an event at or below the account's version was applied before (a re-published
// record, or a replay after a crash between the store write and the offset commit) and changes
// nothing, provided it is the event that was applied. Anything else must be exactly the next
// sequence. An event that breaks these rules is unapplicable (parked.ts): it throws
// UnapplicableEvent with its reason, and applyEvents parks it rather than stop the views.
import type { AccountEvent, EventPayload } from '../../../schemas/types.ts';
import { metadataOf } from '../../../schemas/metadata.ts';
import { ViewInvariantViolation } from './assert.ts';
import { UnapplicableEvent, type ParkReason } from './parked.ts';
import type { AccountSummary, HistoryEntry, TransferFact, TransferRole, ViewChange } from './types.ts';

/** Store keys join ids with NUL (see store.ts), so an id holding one could read another's rows. */
const keySeparator = '\u0000';

/**
 * `applied` is the history entry already stored at this event's sequence, when the caller has it:
 * a duplicate that differs from it is parked, not skipped (two events claim one place).
 */
export function applyEvent(account: AccountSummary | undefined, event: AccountEvent, applied?: HistoryEntry): ViewChange | null {
  // Messages are built only when a check fails: this runs once per event of a million-event rebuild.
  if (!Number.isSafeInteger(event.sequence)) fail(event, 'INVALID_EVENT', 'sequence must be a safe integer');
  if (event.sequence < 1) fail(event, 'INVALID_EVENT', 'sequence must be at least 1');
  if (!Number.isSafeInteger(event.occurredAt)) fail(event, 'INVALID_EVENT', 'occurredAt must be a safe integer');
  if (event.accountId.includes(keySeparator)) fail(event, 'INVALID_EVENT', 'accountId must not contain NUL');
  if (account !== undefined && event.sequence <= account.version) {
    if (applied !== undefined && !sameEntry(applied, historyEntry(event, balanceAfterOf(event, applied.balanceAfter)))) {
      fail(event, 'CONFLICTING_DUPLICATE', `sequence ${event.sequence} was applied with command ${applied.commandId} (${applied.type} ${applied.amount})`);
    }
    return null;
  }
  if (account === undefined) {
    if (event.sequence !== 1) fail(event, 'UNKNOWN_ACCOUNT', 'the account is unknown, so its next sequence is 1 (gap)');
    if (event.payload.type !== 'AccountOpened') fail(event, 'UNKNOWN_ACCOUNT', 'the first event of an account must be AccountOpened');
  } else {
    if (event.sequence !== account.version + 1) fail(event, 'SEQUENCE_GAP', `gap: sequence does not follow version ${account.version}`);
    if (account.accountId !== event.accountId) fail(event, 'INVALID_EVENT', `applied to the row of ${account.accountId}`);
    if (event.payload.type === 'AccountOpened') fail(event, 'ALREADY_OPEN', `the account was opened at sequence 1 and is at version ${account.version}`);
  }
  const next = nextSummary(account, event);
  return { account: next, history: historyEntry(event, next.balance), transferFact: transferFact(next, event) };
}

/** An event that cannot be applied, named by the event and the reason. */
function fail(event: AccountEvent, reason: ParkReason, message: string): never {
  throw new UnapplicableEvent(reason, `event ${event.accountId}:${event.sequence} (${event.payload.type}): ${message}`);
}

/** The balance after the event as its payload states it; an event that states none (AccountClosed) leaves the stored one standing. */
function balanceAfterOf(event: AccountEvent, stored: number): number {
  const payload = event.payload;
  if (payload.type === 'AccountOpened') return payload.initialBalance;
  return 'balanceAfter' in payload ? payload.balanceAfter : stored;
}

/** Field by field over every field of a history entry, so a field added later is compared too (objects by their JSON). */
function sameEntry(a: HistoryEntry, b: HistoryEntry): boolean {
  const keys = Object.keys(a) as Array<keyof HistoryEntry>;
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k] || JSON.stringify(a[k]) === JSON.stringify(b[k]));
}

/** Literal objects, no spreads: every row has one hidden class, which keeps the fold fast. */
function summary(
  account: AccountSummary,
  event: AccountEvent,
  balance: number,
  status: AccountSummary['status'],
  heldBalance: number = account.heldBalance,
  overdraftLimit: number = account.overdraftLimit,
): AccountSummary {
  return {
    accountId: account.accountId,
    ownerName: account.ownerName,
    currency: account.currency,
    balance,
    status,
    version: event.sequence,
    openedAt: account.openedAt,
    updatedAt: event.occurredAt,
    heldBalance,
    overdraftLimit,
    metadata: account.metadata,
  };
}

function nextSummary(account: AccountSummary | undefined, event: AccountEvent): AccountSummary {
  const payload = event.payload;
  if (payload.type === 'AccountOpened') {
    if (!Number.isSafeInteger(payload.initialBalance)) fail(event, 'INVALID_EVENT', 'initialBalance must be a safe integer');
    // The account's metadata is its opening's (DESIGN §10); later commands' metadata is on their entries.
    const opened = { accountId: event.accountId, ownerName: payload.ownerName, currency: payload.currency, openedAt: event.occurredAt, metadata: metadataOf(event) } as AccountSummary;
    return summary(opened, event, payload.initialBalance, 'OPEN', 0, payload.overdraftLimit ?? 0);
  }
  if (account === undefined) return fail(event, 'UNKNOWN_ACCOUNT', 'the account has no row');
  if (payload.type === 'AccountClosed') return summary(account, event, account.balance, 'CLOSED');
  // A settlement ends a transfer's flight at the source; the balance moved at its debit.
  if (payload.type === 'TransferSettled') return summary(account, event, account.balance, account.status);
  if (payload.type === 'OverdraftLimitSet') return summary(account, event, account.balance, account.status, account.heldBalance, payload.limit);
  if (payload.type === 'HoldPlaced') return summary(account, event, account.balance, account.status, account.heldBalance + payload.amount);
  if (payload.type === 'HoldVoided' || payload.type === 'HoldExpired') return summary(account, event, account.balance, account.status, Math.max(0, account.heldBalance - payload.amount));
  // A transfer reversal's request and failure at the source move no money.
  if (payload.type === 'TransferReversalRequested' || payload.type === 'TransferReversalFailed') return summary(account, event, account.balance, account.status);
  const sign = isDebit(payload) ? -1 : 1;
  if (!Number.isSafeInteger(payload.amount)) fail(event, 'INVALID_EVENT', 'amount must be a safe integer');
  if (payload.amount <= 0) fail(event, 'INVALID_EVENT', 'amount must be positive');
  // Both operands are safe integers, so an out-of-range sum rounds to at least 2**53 and can
  // never equal the safe balanceAfter: the comparison is exact.
  if (payload.balanceAfter !== account.balance + sign * payload.amount) {
    fail(event, 'INVALID_EVENT', `balanceAfter ${payload.balanceAfter} is not ${account.balance} ${sign > 0 ? '+' : '-'} ${payload.amount}`);
  }
  // A capture releases the whole hold (its `released`), whatever part of it was taken.
  const heldBalance = payload.type === 'HoldCaptured' ? Math.max(0, account.heldBalance - payload.released) : account.heldBalance;
  return summary(account, event, payload.balanceAfter, account.status, heldBalance);
}

function isDebit(payload: EventPayload): boolean {
  if (payload.type === 'TransactionReversed') return payload.direction === 'DEBIT';
  return payload.type === 'MoneyWithdrawn' || payload.type === 'TransferDebited' || payload.type === 'HoldCaptured' || payload.type === 'TransferReversed';
}

/** A reversal's entry names what it reverses, then the client's reason. */
const reversalReason = (what: string, reason: string | null): string => (reason === null ? what : `${what}: ${reason}`);

function entry(event: AccountEvent, amount: number, balanceAfter: number, transferId: string | null, counterparty: string | null, reference: string | null, reason: string | null): HistoryEntry {
  return {
    sequence: event.sequence,
    type: event.payload.type,
    amount,
    balanceAfter,
    occurredAt: event.occurredAt,
    commandId: event.commandId,
    transferId,
    counterpartyAccountId: counterparty,
    reference,
    reason,
    actor: event.actor ?? null,
    metadata: metadataOf(event),
  };
}

function historyEntry(event: AccountEvent, balanceAfter: number): HistoryEntry {
  const payload: EventPayload = event.payload;
  switch (payload.type) {
    case 'AccountOpened':
      return entry(event, payload.initialBalance, balanceAfter, null, null, null, null);
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
      return entry(event, payload.amount, balanceAfter, null, null, payload.reference, null);
    case 'TransferDebited':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, null);
    case 'TransferCredited':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.fromAccountId, null, null);
    case 'TransferRefunded':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, payload.reason);
    case 'AccountClosed':
      return entry(event, 0, balanceAfter, null, null, null, null);
    case 'TransferSettled':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, null);
    // Moves no money: the new limit is the entry's reason, its amount 0.
    case 'OverdraftLimitSet':
      return entry(event, 0, balanceAfter, null, null, null, `overdraft limit ${payload.limit}`);
    // Holds move no money until captured; the hold id is the entry's reason.
    case 'HoldPlaced':
      return entry(event, payload.amount, balanceAfter, null, null, payload.reference, `hold ${payload.holdId}`);
    case 'HoldCaptured':
    case 'HoldVoided':
    case 'HoldExpired':
      return entry(event, payload.amount, balanceAfter, null, null, null, `hold ${payload.holdId}`);
    case 'TransactionReversed':
      return entry(event, payload.amount, balanceAfter, null, null, null, reversalReason(`reverses ${payload.reversedCommandId}`, payload.reason));
    case 'TransferReversalRequested':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, reversalReason('reversal requested', payload.reason));
    case 'TransferReversed':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, reversalReason('transfer reversed', payload.reason));
    case 'TransferReversalCredited':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.fromAccountId, null, 'transfer reversed');
    case 'TransferReversalFailed':
      return entry(event, payload.amount, balanceAfter, payload.transferId, payload.toAccountId, null, payload.reason);
    default: {
      const unreachable: never = payload;
      throw new ViewInvariantViolation(`unknown event type ${String((unreachable as { type: unknown }).type)}`);
    }
  }
}

function fact(role: TransferRole, transferId: string, from: string, to: string, amount: number, account: AccountSummary, event: AccountEvent, reason: string | null): TransferFact {
  return { role, transferId, fromAccountId: from, toAccountId: to, amount, currency: account.currency, reason, occurredAt: event.occurredAt };
}

/** The fact this event contributes to its transfer, recorded in this account's partition. */
function transferFact(account: AccountSummary, event: AccountEvent): TransferFact | null {
  const payload = event.payload;
  switch (payload.type) {
    case 'TransferDebited':
      return fact('debited', payload.transferId, event.accountId, payload.toAccountId, payload.amount, account, event, null);
    case 'TransferCredited':
      return fact('credited', payload.transferId, payload.fromAccountId, event.accountId, payload.amount, account, event, null);
    case 'TransferRefunded':
      return fact('refunded', payload.transferId, event.accountId, payload.toAccountId, payload.amount, account, event, payload.reason);
    case 'AccountOpened':
    case 'MoneyDeposited':
    case 'MoneyWithdrawn':
    case 'AccountClosed':
    // The destination's TransferCredited already completed the transfer in the views.
    case 'TransferSettled':
    case 'OverdraftLimitSet':
    case 'HoldPlaced':
    case 'HoldCaptured':
    case 'HoldVoided':
    case 'HoldExpired':
    // A reversal leaves the transfer's own view as it was (completed); the accounts' history shows it.
    case 'TransactionReversed':
    case 'TransferReversalRequested':
    case 'TransferReversed':
    case 'TransferReversalCredited':
    case 'TransferReversalFailed':
      return null;
    default: {
      const unreachable: never = payload;
      throw new ViewInvariantViolation(`unknown event type ${String((unreachable as { type: unknown }).type)}`);
    }
  }
}
