// The records of DESIGN §3 as TypeScript types. Pure types: the domain, the views and the
// adapters all speak these; `records.ts` maps them to and from their Avro form.
// Money is integer minor units in a JS number, always checked with Number.isSafeInteger.
// Timestamps are epoch milliseconds.

export type OpenAccount = { type: 'OpenAccount'; ownerName: string; currency: string; initialBalance: number };
export type Deposit = { type: 'Deposit'; amount: number; reference: string | null };
export type Withdraw = { type: 'Withdraw'; amount: number; reference: string | null };
export type InitiateTransfer = {
  type: 'InitiateTransfer';
  transferId: string;
  toAccountId: string;
  amount: number;
  reference: string | null;
};
/** Internal: sent by the source account's processor to the destination. */
export type CreditTransfer = {
  type: 'CreditTransfer';
  transferId: string;
  fromAccountId: string;
  amount: number;
  currency: string;
};
/** Internal: sent back to the source when the destination refuses a credit. */
export type RefundTransfer = {
  type: 'RefundTransfer';
  transferId: string;
  toAccountId: string;
  amount: number;
  reason: string;
};
export type CloseAccount = { type: 'CloseAccount' };
/** Internal: sent back to the source when the destination credited; the money is no longer in flight. */
export type SettleTransfer = {
  type: 'SettleTransfer';
  transferId: string;
  toAccountId: string;
  amount: number;
};

export type CommandPayload =
  | OpenAccount
  | Deposit
  | Withdraw
  | InitiateTransfer
  | CreditTransfer
  | RefundTransfer
  | CloseAccount
  | SettleTransfer;
export type CommandType = CommandPayload['type'];

export interface Command {
  commandId: string;
  accountId: string;
  issuedAt: number;
  fingerprint: string;
  payload: CommandPayload;
  /** The API key (keyId) that sent it; internal follow-ups carry their cause's (DESIGN §9). Null: before §9. */
  actor?: string | null;
}

export type AccountOpened = { type: 'AccountOpened'; ownerName: string; currency: string; initialBalance: number };
export type MoneyDeposited = { type: 'MoneyDeposited'; amount: number; balanceAfter: number; reference: string | null };
export type MoneyWithdrawn = { type: 'MoneyWithdrawn'; amount: number; balanceAfter: number; reference: string | null };
export type TransferDebited = {
  type: 'TransferDebited';
  transferId: string;
  toAccountId: string;
  amount: number;
  balanceAfter: number;
};
export type TransferCredited = {
  type: 'TransferCredited';
  transferId: string;
  fromAccountId: string;
  amount: number;
  balanceAfter: number;
};
export type TransferRefunded = {
  type: 'TransferRefunded';
  transferId: string;
  toAccountId: string;
  amount: number;
  balanceAfter: number;
  reason: string;
};
export type AccountClosed = { type: 'AccountClosed' };
/** At the source: the destination credited the transfer; its amount is no longer in flight. */
export type TransferSettled = { type: 'TransferSettled'; transferId: string; toAccountId: string; amount: number };

export type EventPayload =
  | AccountOpened
  | MoneyDeposited
  | MoneyWithdrawn
  | TransferDebited
  | TransferCredited
  | TransferRefunded
  | AccountClosed
  | TransferSettled;
export type EventType = EventPayload['type'];

export interface AccountEvent {
  eventId: string;
  accountId: string;
  sequence: number;
  commandId: string;
  occurredAt: number;
  payload: EventPayload;
  /** The actor of the command that caused it (DESIGN §9): who moved this money. Null: before §9. */
  actor?: string | null;
}

export type AccountStatus = 'OPEN' | 'CLOSED';

export interface AccountState {
  accountId: string;
  ownerName: string;
  currency: string;
  balance: number;
  status: AccountStatus;
  version: number;
  openedAt: number;
  updatedAt: number;
  /**
   * Sum of this account's debited transfers that are neither credited nor refunded yet. It counts
   * toward the upper money bound (so a refund always fits) and blocks closing the account.
   */
  outgoingInFlight: number;
}

/** Business refusals, in the order of precedence the domain checks them (DESIGN §3). */
export const REJECTION_CODES = [
  'IDEMPOTENCY_KEY_REUSED',
  'SAME_ACCOUNT_TRANSFER',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_ALREADY_EXISTS',
  'ACCOUNT_CLOSED',
  'CURRENCY_MISMATCH',
  'ACCOUNT_NOT_EMPTY',
  'INSUFFICIENT_FUNDS',
  'AMOUNT_TOO_LARGE',
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

export type OutcomeStatus = 'ACCEPTED' | 'REJECTED';

export interface CommandOutcome {
  commandId: string;
  accountId: string;
  status: OutcomeStatus;
  code: string | null;
  message: string | null;
  fingerprint: string;
  version: number;
  balance: number | null;
  transferId: string | null;
  eventSequences: number[];
  processedAt: number;
  /** On an accepted transfer initiation: how far the transfer got (updated by its settlement or refund). */
  transferStatus: TransferStatus | null;
  /** The destination's refusal code when transferStatus is `failed`. */
  transferCode: string | null;
}

export type TransferStatus = 'pending' | 'completed' | 'failed';

/**
 * Largest amount or balance, in minor units. One below Number.MAX_SAFE_INTEGER because avsc
 * encodes an Avro long from a JS number only within ±(2^53 − 2); a larger value could be
 * accepted but never written. Anything beyond is refused AMOUNT_TOO_LARGE (or 400 at the edge).
 */
export const moneyMax = Number.MAX_SAFE_INTEGER - 1;
