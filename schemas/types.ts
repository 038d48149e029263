// The records of DESIGN §3 as TypeScript types. Pure types: the domain, the views and the
// adapters all speak these; `records.ts` maps them to and from their Avro form.
// Money is integer minor units in a JS number, always checked with Number.isSafeInteger.
// Timestamps are epoch milliseconds.

export type OpenAccount = { type: 'OpenAccount'; ownerName: string; currency: string; initialBalance: number; overdraftLimit: number };
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

/** How far below 0 the balance may go from now on (DESIGN §10); below the current debt blocks further debits. */
export type SetOverdraftLimit = { type: 'SetOverdraftLimit'; limit: number };

/** Authorize (DESIGN §10): reserve `amount` of the available balance until issuedAt + expiresInSeconds. */
export type PlaceHold = { type: 'PlaceHold'; holdId: string; amount: number; expiresInSeconds: number; reference: string | null };
/** Take `amount` (null: all) of an active hold; the rest is released. */
export type CaptureHold = { type: 'CaptureHold'; holdId: string; amount: number | null };
export type VoidHold = { type: 'VoidHold'; holdId: string };
/** Internal: asked by the processor once a hold is past its expiresAt; identified by the HoldPlaced event. */
export type ExpireHold = { type: 'ExpireHold'; holdId: string };

/** Reverse what `reversedCommandId` posted on this account (DESIGN §10); reversalId derives from the command's id. */
export type ReverseTransaction = { type: 'ReverseTransaction'; reversalId: string; reversedCommandId: string; reason: string | null };
/** Internal, at a transfer's destination: take the transfer back; `toAccountId` is its source. */
export type DebitTransferReversal = { type: 'DebitTransferReversal'; reversalId: string; transferId: string; toAccountId: string; amount: number; reason: string | null };
/** Internal, at the source: the destination paid the reversal back. Never refused. */
export type CreditTransferReversal = { type: 'CreditTransferReversal'; reversalId: string; transferId: string; fromAccountId: string; amount: number };
/** Internal, at the source: the destination could not pay (reason: its code). Never refused. */
export type FailTransferReversal = { type: 'FailTransferReversal'; reversalId: string; transferId: string; fromAccountId: string; amount: number; reason: string };

export type CommandPayload =
  | OpenAccount
  | Deposit
  | Withdraw
  | InitiateTransfer
  | CreditTransfer
  | RefundTransfer
  | CloseAccount
  | SettleTransfer
  | SetOverdraftLimit
  | PlaceHold
  | CaptureHold
  | VoidHold
  | ExpireHold
  | ReverseTransaction
  | DebitTransferReversal
  | CreditTransferReversal
  | FailTransferReversal;
export type CommandType = CommandPayload['type'];

export interface Command {
  commandId: string;
  accountId: string;
  issuedAt: number;
  fingerprint: string;
  payload: CommandPayload;
  /** The API key (keyId) that sent it; internal follow-ups carry their cause's (DESIGN §9). Null: before §9. */
  actor?: string | null;
  /** Client metadata (DESIGN §10; bounds in metadata.ts); internal follow-ups carry their cause's. Absent or {}: none. */
  metadata?: Metadata;
}

export type AccountOpened = { type: 'AccountOpened'; ownerName: string; currency: string; initialBalance: number; overdraftLimit: number };
export type MoneyDeposited = { type: 'MoneyDeposited'; amount: number; balanceAfter: number; reference: string | null };
export type MoneyWithdrawn = { type: 'MoneyWithdrawn'; amount: number; balanceAfter: number; reference: string | null };
export type TransferDebited = {
  type: 'TransferDebited';
  transferId: string;
  toAccountId: string;
  amount: number;
  balanceAfter: number;
  /** What this debit put in flight (its amount; 0 on the first release's debits, which did not count it). */
  inFlight: number;
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
  /** Taken out of outgoingInFlight: the debit's inFlight (0 for a transfer the first release debited). */
  inFlightReleased: number;
};
export type AccountClosed = { type: 'AccountClosed' };
/** At the source: the destination credited the transfer; its amount is no longer in flight. */
export type TransferSettled = { type: 'TransferSettled'; transferId: string; toAccountId: string; amount: number; inFlightReleased: number };

export type OverdraftLimitSet = { type: 'OverdraftLimitSet'; limit: number };

export type HoldPlaced = { type: 'HoldPlaced'; holdId: string; amount: number; expiresAt: number; reference: string | null };
/** Money leaves the ledger (like a withdrawal); `released` is the hold's whole amount, no longer held. */
export type HoldCaptured = { type: 'HoldCaptured'; holdId: string; amount: number; balanceAfter: number; released: number };
export type HoldVoided = { type: 'HoldVoided'; holdId: string; amount: number };
export type HoldExpired = { type: 'HoldExpired'; holdId: string; amount: number };

/** A deposit taken back (DEBIT), or a withdrawal or capture given back (CREDIT). */
export type TransactionReversed = { type: 'TransactionReversed'; reversedCommandId: string; amount: number; direction: 'DEBIT' | 'CREDIT'; balanceAfter: number; reason: string | null };
/** At a transfer's source: the reversal is asked of the destination (`toAccountId`); the amount is counted in outgoingInFlight until it lands. */
export type TransferReversalRequested = { type: 'TransferReversalRequested'; transferId: string; toAccountId: string; amount: number; reason: string | null };
/** At a transfer's destination: the amount is taken back, in flight to the source (`toAccountId`). */
export type TransferReversed = { type: 'TransferReversed'; transferId: string; toAccountId: string; amount: number; balanceAfter: number; reason: string | null };
/** At the source: the reversed amount is back, from the destination (`fromAccountId`). */
export type TransferReversalCredited = { type: 'TransferReversalCredited'; transferId: string; fromAccountId: string; amount: number; balanceAfter: number };
/** At the source: the destination could not pay; nothing moved. */
export type TransferReversalFailed = { type: 'TransferReversalFailed'; transferId: string; toAccountId: string; amount: number; reason: string };

export type EventPayload =
  | AccountOpened
  | MoneyDeposited
  | MoneyWithdrawn
  | TransferDebited
  | TransferCredited
  | TransferRefunded
  | AccountClosed
  | TransferSettled
  | OverdraftLimitSet
  | HoldPlaced
  | HoldCaptured
  | HoldVoided
  | HoldExpired
  | TransactionReversed
  | TransferReversalRequested
  | TransferReversed
  | TransferReversalCredited
  | TransferReversalFailed;
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
  /** The metadata of the command that caused it (DESIGN §10). Absent or {}: none. */
  metadata?: Metadata;
}

/** String → string, at most 32 keys (DESIGN §10; bounds and check in metadata.ts). */
export type Metadata = Readonly<Record<string, string>>;

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
  /** Sum of the account's active holds (DESIGN §10): not available to debits. */
  heldBalance: number;
  /** How far below 0 the balance may go; it never goes below −overdraftLimit by a debit. */
  overdraftLimit: number;
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
  'HOLD_NOT_FOUND',
  'HOLD_NOT_ACTIVE',
  'AMOUNT_EXCEEDS_HOLD',
  'TRANSACTION_NOT_FOUND',
  'NOT_REVERSIBLE',
  'ALREADY_REVERSED',
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
  /** balance − heldBalance + overdraftLimit after the command (null on records from before it existed). */
  availableBalance: number | null;
  overdraftLimit: number | null;
  /** On a hold's commands: its id; on the placing command's record (kept forever) also its state. */
  holdId: string | null;
  holdStatus: HoldStatus | null;
  holdAmount: number | null;
  expiresAt: number | null;
  capturedAmount: number | null;
  /** Reversals (DESIGN §10): on a reversal's outcome its id; on a reversed posting's record the reversal that last took it up. */
  reversalId?: string | null;
  reversedCommandId?: string | null;
  /** On an accepted reversal's record: pending until a transfer reversal lands; on a posting's record: its latest reversal's status. */
  reversalStatus?: TransferStatus | null;
  /** The destination's code when a transfer reversal failed. */
  reversalCode?: string | null;
  /** What a posting moved (on its record, and a transfer initiation's) or a reversal reversed. */
  amount?: number | null;
  /** On a posting's record kept forever (and a transfer initiation's): the event that posted it. */
  postingType?: EventType | null;
  /** On a transfer initiation's record: its destination. */
  counterpartyAccountId?: string | null;
}

export type HoldStatus = 'ACTIVE' | 'CAPTURED' | 'VOIDED' | 'EXPIRED';

export type TransferStatus = 'pending' | 'completed' | 'failed';

/**
 * Largest amount or balance, in minor units. One below Number.MAX_SAFE_INTEGER: avsc's own long
 * type refused ±(2^53 − 1), so a larger value could be accepted but never written. (It was also
 * inexact for negatives below −2^52; the ledger's codecs use schemas/avro-long.ts, exact over the
 * whole safe range.) Anything beyond is refused AMOUNT_TOO_LARGE (or 400 at the edge).
 */
export const moneyMax = Number.MAX_SAFE_INTEGER - 1;
