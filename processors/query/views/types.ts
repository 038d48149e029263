// The shapes of the query side's views. Pure data: the store persists them as JSON and the
// routes render them. Money is integer minor units; timestamps are epoch milliseconds here and
// become ISO-8601 strings only at the HTTP edge.
import type { AccountState, EventType, Metadata } from '../../../schemas/types.ts';

/** One account as the last applied event left it; `version` is that event's sequence (the same shape as the changelog's state). */
/**
 * The account as the views show it: the processor's state without its bookkeeping of money in
 * flight, with the metadata it was opened with (DESIGN §10, §11; {} for one opened without).
 */
export type AccountSummary = Omit<AccountState, 'outgoingInFlight'> & { metadata: Metadata };

/** One line of an account's statement: exactly one per event, keyed by its sequence. */
export interface HistoryEntry {
  sequence: number;
  type: EventType;
  /** Positive for money moved; the opening balance for AccountOpened; 0 for AccountClosed. */
  amount: number;
  balanceAfter: number;
  occurredAt: number;
  commandId: string;
  /** Transfer events only. */
  transferId: string | null;
  /** The other account of a transfer (destination for a debit or refund, source for a credit). */
  counterpartyAccountId: string | null;
  /** Deposits and withdrawals, when the client gave one. */
  reference: string | null;
  /** Refunds only: the destination's rejection code. */
  reason: string | null;
  /** The API key (keyId) whose command caused the event (DESIGN §9); null for events before it. */
  actor: string | null;
  /** The metadata of the command that caused the event (DESIGN §10); {} when it had none. */
  metadata: Metadata;
}

/**
 * What one partition knows about a transfer: the source partition holds `debited` (and
 * `refunded` when the destination refused), the destination's partition holds `credited`.
 * Facts are combined only when read, so applying an event never writes to another partition.
 */
export type TransferRole = 'debited' | 'credited' | 'refunded';

export interface TransferFact {
  role: TransferRole;
  transferId: string;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  reason: string | null;
  occurredAt: number;
}

export type TransferFacts = Partial<Record<TransferRole, TransferFact>>;

export type TransferStatus = 'pending' | 'completed' | 'failed';

export interface TransferView {
  transferId: string;
  status: TransferStatus;
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  currency: string;
  /** Failed transfers: the destination's code (ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, CURRENCY_MISMATCH). */
  reason: string | null;
  debitedAt: number | null;
  creditedAt: number | null;
  refundedAt: number | null;
}

/** Everything one event changes: the account row, one new history entry, maybe a transfer fact. */
export interface ViewChange {
  account: AccountSummary;
  history: HistoryEntry;
  transferFact: TransferFact | null;
}
