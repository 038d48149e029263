// Builders for "given these events, when this command, then these events (or this rejection)".
import type {
  AccountClosed,
  AccountEvent,
  AccountOpened,
  AccountState,
  Command,
  CommandPayload,
  EventPayload,
  EventType,
  MoneyDeposited,
  MoneyWithdrawn,
  OverdraftLimitSet,
  TransferCredited,
  TransferDebited,
  TransferRefunded,
  TransferSettled,
} from '../../../schemas/types.ts';
import { decide, evolve, limits, type Decision, type PostingView } from '../../../processors/account/domain/index.ts';

export const MAX = limits.amountMax;
/** The account under test, and two others. */
export const A = 'acc-a';
export const B = 'acc-b';
export const C = 'acc-c';
export const T = 'transfer-1';
export const H = 'hold-1';
/** A reversal, and the command whose posting it reverses. */
export const R = 'reversal-1';
export const P = 'posted-1';
export const t0 = 1_700_000_000_000;

let commandCounter = 0;

export function commandFor(accountId: string, payload: CommandPayload, commandId?: string): Command {
  commandCounter += 1;
  const id = commandId ?? `cmd-${commandCounter}`;
  return { commandId: id, accountId, issuedAt: t0, fingerprint: `fp-${id}`, payload };
}

/** Numbers a history the way the processor does (sequence 1, 2, ...). */
export function numbered(payloads: EventPayload[], accountId = A): AccountEvent[] {
  return payloads.map((payload, index) => ({
    eventId: `${accountId}:${index + 1}`,
    accountId,
    sequence: index + 1,
    commandId: `given-${index + 1}`,
    occurredAt: t0 + index,
    payload,
  }));
}

/** The state after a history, folded with evolve (so a given history is itself checked). */
export function given(payloads: EventPayload[], accountId = A): AccountState | undefined {
  return numbered(payloads, accountId).reduce<AccountState | undefined>(evolve, undefined);
}

export function when(history: EventPayload[], payload: CommandPayload, accountId = A): Decision {
  return decide(given(history, accountId), commandFor(accountId, payload));
}

/** Event payloads. */
export const ev = {
  opened: (initialBalance: number, currency = 'USD', overdraftLimit = 0): AccountOpened => ({
    type: 'AccountOpened',
    ownerName: 'Ada Lovelace',
    currency,
    initialBalance,
    overdraftLimit,
  }),
  limitSet: (limit: number): OverdraftLimitSet => ({ type: 'OverdraftLimitSet', limit }),
  deposited: (amount: number, balanceAfter: number, reference: string | null = null): MoneyDeposited => ({
    type: 'MoneyDeposited',
    amount,
    balanceAfter,
    reference,
  }),
  withdrawn: (amount: number, balanceAfter: number, reference: string | null = null): MoneyWithdrawn => ({
    type: 'MoneyWithdrawn',
    amount,
    balanceAfter,
    reference,
  }),
  debited: (toAccountId: string, amount: number, balanceAfter: number, transferId = T): TransferDebited => ({
    type: 'TransferDebited',
    transferId,
    toAccountId,
    amount,
    balanceAfter,
    inFlight: amount,
  }),
  credited: (fromAccountId: string, amount: number, balanceAfter: number, transferId = T): TransferCredited => ({
    type: 'TransferCredited',
    transferId,
    fromAccountId,
    amount,
    balanceAfter,
  }),
  refunded: (
    toAccountId: string,
    amount: number,
    balanceAfter: number,
    reason = 'ACCOUNT_CLOSED',
    transferId = T,
    inFlightReleased = amount,
  ): TransferRefunded => ({ type: 'TransferRefunded', transferId, toAccountId, amount, balanceAfter, reason, inFlightReleased }),
  /** A refund of a transfer the first release debited: it never counted the amount in flight. */
  legacyRefunded: (toAccountId: string, amount: number, balanceAfter: number): TransferRefunded => ({
    type: 'TransferRefunded', transferId: T, toAccountId, amount, balanceAfter, reason: 'ACCOUNT_CLOSED', inFlightReleased: 0,
  }),
  closed: (): AccountClosed => ({ type: 'AccountClosed' }),
  settled: (toAccountId: string, amount: number, transferId = T): TransferSettled => ({ type: 'TransferSettled', transferId, toAccountId, amount, inFlightReleased: amount }),
  holdPlaced: (amount: number, expiresAt = t0 + 3_600_000, holdId = H): EventPayload => ({ type: 'HoldPlaced', holdId, amount, expiresAt, reference: null }),
  holdCaptured: (amount: number, balanceAfter: number, released: number, holdId = H): EventPayload => ({ type: 'HoldCaptured', holdId, amount, balanceAfter, released }),
  holdVoided: (amount: number, holdId = H): EventPayload => ({ type: 'HoldVoided', holdId, amount }),
  holdExpired: (amount: number, holdId = H): EventPayload => ({ type: 'HoldExpired', holdId, amount }),
  reversed: (reversedCommandId: string, amount: number, direction: 'DEBIT' | 'CREDIT', balanceAfter: number, reason: string | null = null): EventPayload => ({
    type: 'TransactionReversed', reversedCommandId, amount, direction, balanceAfter, reason,
  }),
  reversalRequested: (toAccountId: string, amount: number, reason: string | null = null, transferId = T): EventPayload => ({ type: 'TransferReversalRequested', transferId, toAccountId, amount, reason }),
  transferReversed: (toAccountId: string, amount: number, balanceAfter: number, reason: string | null = null, transferId = T): EventPayload => ({
    type: 'TransferReversed', transferId, toAccountId, amount, balanceAfter, reason,
  }),
  reversalCredited: (fromAccountId: string, amount: number, balanceAfter: number, transferId = T): EventPayload => ({ type: 'TransferReversalCredited', transferId, fromAccountId, amount, balanceAfter }),
  reversalFailed: (toAccountId: string, amount: number, reason: string, transferId = T): EventPayload => ({ type: 'TransferReversalFailed', transferId, toAccountId, amount, reason }),
};

/** Command payloads. */
export const cmd = {
  open: (initialBalance = 0, currency = 'USD', ownerName = 'Ada Lovelace', overdraftLimit = 0): CommandPayload => ({
    type: 'OpenAccount',
    ownerName,
    currency,
    initialBalance,
    overdraftLimit,
  }),
  setLimit: (limit: number): CommandPayload => ({ type: 'SetOverdraftLimit', limit }),
  hold: (amount: number, expiresInSeconds = 3600, holdId = H): CommandPayload => ({ type: 'PlaceHold', holdId, amount, expiresInSeconds, reference: null }),
  capture: (amount: number | null = null, holdId = H): CommandPayload => ({ type: 'CaptureHold', holdId, amount }),
  voidHold: (holdId = H): CommandPayload => ({ type: 'VoidHold', holdId }),
  expire: (holdId = H): CommandPayload => ({ type: 'ExpireHold', holdId }),
  deposit: (amount: number, reference: string | null = null): CommandPayload => ({ type: 'Deposit', amount, reference }),
  withdraw: (amount: number, reference: string | null = null): CommandPayload => ({ type: 'Withdraw', amount, reference }),
  transfer: (toAccountId: string, amount: number, transferId = T): CommandPayload => ({
    type: 'InitiateTransfer',
    transferId,
    toAccountId,
    amount,
    reference: null,
  }),
  credit: (fromAccountId: string, amount: number, currency = 'USD', transferId = T): CommandPayload => ({
    type: 'CreditTransfer',
    transferId,
    fromAccountId,
    amount,
    currency,
  }),
  settle: (toAccountId: string, amount: number, transferId = T): CommandPayload => ({ type: 'SettleTransfer', transferId, toAccountId, amount }),
  refund: (toAccountId: string, amount: number, reason = 'ACCOUNT_CLOSED', transferId = T): CommandPayload => ({
    type: 'RefundTransfer',
    transferId,
    toAccountId,
    amount,
    reason,
  }),
  close: (): CommandPayload => ({ type: 'CloseAccount' }),
  reverse: (reversedCommandId: string, reason: string | null = null, reversalId = R): CommandPayload => ({ type: 'ReverseTransaction', reversalId, reversedCommandId, reason }),
  debitReversal: (toAccountId: string, amount: number, reason: string | null = null, reversalId = R, transferId = T): CommandPayload => ({
    type: 'DebitTransferReversal', reversalId, transferId, toAccountId, amount, reason,
  }),
  creditReversal: (fromAccountId: string, amount: number, reversalId = R, transferId = T): CommandPayload => ({ type: 'CreditTransferReversal', reversalId, transferId, fromAccountId, amount }),
  failReversal: (fromAccountId: string, amount: number, reason: string, reversalId = R, transferId = T): CommandPayload => ({
    type: 'FailTransferReversal', reversalId, transferId, fromAccountId, amount, reason,
  }),
};

/** The record of what command P posted, as the processor hands it to a reversal (kept forever). */
export function postingOf(postingType: EventType | null, amount: number | null, fields: Partial<PostingView> = {}): PostingView {
  return { commandId: P, accountId: A, postingType, amount, transferId: null, transferStatus: null, counterpartyAccountId: null, reversalStatus: null, ...fields };
}

/** A transfer's initiation record (its posting): T from A to B, completed unless said otherwise. */
export function transferPosting(amount: number, fields: Partial<PostingView> = {}): PostingView {
  return postingOf('TransferDebited', amount, { transferId: T, transferStatus: 'completed', counterpartyAccountId: B, ...fields });
}

/** Histories the tables refer to by name. */
export const histories = {
  none: [] as EventPayload[],
  open500: [ev.opened(500)],
  openEmpty: [ev.opened(0)],
  closedEmpty: [ev.opened(0), ev.closed()],
  /** A refund landed after the close: the only way a closed account holds money. */
  closedHolding300: [ev.opened(0), ev.closed(), ev.legacyRefunded(B, 300, 300)],
  nearMax: [ev.opened(MAX - 10)],
  atMax: [ev.opened(MAX)],
} satisfies Record<string, EventPayload[]>;
