// decide(state, command): the business rules of one account. Pure: the same state and command
// always give the same decision, so a replayed command decides exactly as it did the first time.
//
// Order of precedence of rejections (REJECTION_CODES in schemas/types.ts). When several apply,
// the first in this list wins:
//
//   1. IDEMPOTENCY_KEY_REUSED  not decided here: the processing loop compares the fingerprint
//                              with the stored outcome of the same commandId before decide().
//   2. SAME_ACCOUNT_TRANSFER   InitiateTransfer to itself. A property of the request alone, so
//                              it is checked before the account is even looked up.
//   3. ACCOUNT_NOT_FOUND       every command but OpenAccount, when the account has no state.
//   4. ACCOUNT_ALREADY_EXISTS  OpenAccount, when the account has state (open or closed: an id
//                              is never reused, so its history stays unambiguous).
//   5. ACCOUNT_CLOSED          Deposit, Withdraw, InitiateTransfer, CreditTransfer, CloseAccount.
//                              Not RefundTransfer or SettleTransfer: see decideRefundTransfer.
//   6. CURRENCY_MISMATCH       CreditTransfer whose currency is not the destination's.
//   7. ACCOUNT_NOT_EMPTY       CloseAccount with a balance other than 0, or with outgoing
//                              transfers still in flight (outgoingInFlight > 0).
//   8. HOLD_NOT_FOUND          CaptureHold, VoidHold, ExpireHold naming no hold of this account.
//   9. HOLD_NOT_ACTIVE         ... a hold captured, voided, expired or past its expiresAt.
//  10. AMOUNT_EXCEEDS_HOLD     CaptureHold of more than the hold (holds.ts).
//  11. TRANSACTION_NOT_FOUND   ReverseTransaction naming no posting of this account (reversals.ts).
//  12. NOT_REVERSIBLE          ... an opening, a refund, a credit leg, a reversal, a failed or pending transfer.
//  13. ALREADY_REVERSED        ... a posting reversed (or being reversed) already.
//  14. INSUFFICIENT_FUNDS      Withdraw, InitiateTransfer, PlaceHold or a debiting reversal of more than the available
//                              balance (balance − heldBalance + overdraftLimit, DESIGN §10).
//  15. AMOUNT_TOO_LARGE        Deposit, CreditTransfer, a crediting reversal whose balance plus outgoingInFlight
//                              would exceed the largest safe amount. Counting the money in
//                              flight keeps room for it: a refund always fits (DESIGN §8).
//
// Never refused (DESIGN §8): RefundTransfer and SettleTransfer, internal steps that bring money
// home or end its flight. Their only rejection is ACCOUNT_NOT_FOUND, which only forged input can
// cause (a debit implies the account exists), and it gets no follow-up.
//
// Per command, in that order:
//   OpenAccount       ACCOUNT_ALREADY_EXISTS, AMOUNT_TOO_LARGE (initial balance + overdraft limit)
//   Deposit           ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, AMOUNT_TOO_LARGE
//   Withdraw          ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, INSUFFICIENT_FUNDS
//   InitiateTransfer  SAME_ACCOUNT_TRANSFER, ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, INSUFFICIENT_FUNDS
//   CreditTransfer    ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, CURRENCY_MISMATCH, AMOUNT_TOO_LARGE
//                     (each with a RefundTransfer follow-up to the source)
//                     (accepted: a SettleTransfer follow-up to the source)
//   RefundTransfer    ACCOUNT_NOT_FOUND (forged input only)
//   SettleTransfer    ACCOUNT_NOT_FOUND (forged input only)
//   SetOverdraftLimit ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, AMOUNT_TOO_LARGE (balance + in flight
//                     + limit past the maximum); a limit below the current debt is accepted: it
//                     blocks further debits
//   PlaceHold, CaptureHold, VoidHold, ExpireHold: ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, then
//                     their own (holds.ts)
//   CloseAccount      ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED, ACCOUNT_NOT_EMPTY (balance, holds, in flight)
//   ReverseTransaction and its internal legs: ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED (not the legs at
//                     the source, never refused), then their own (reversals.ts)
//
// Structural validity (positive safe-integer amounts, currency format, lengths) is not decided
// here: validateCommand() sends a malformed command to the dead-letter topic before decide().
import type {
  AccountState,
  Command,
  CreditTransfer,
  Deposit,
  InitiateTransfer,
  OpenAccount,
  RefundTransfer,
  RejectionCode,
  SetOverdraftLimit,
  SettleTransfer,
  Withdraw,
} from '../../../schemas/types.ts';
import { accept, reject, type Decision, type FollowUp } from './decision.ts';
import { decideCaptureHold, decideExpireHold, decidePlaceHold, decideVoidHold, type HoldContext } from './holds.ts';
import { exceedsAvailable, exceedsRoom, insufficientFunds, tooLarge } from './funds.ts';
import { assert, InvariantViolation } from './invariant.ts';
import { limits } from './limits.ts';
import { exceedsSafeRange } from './money.ts';
import { decideCreditTransferReversal, decideDebitTransferReversal, decideFailTransferReversal, decideReverseTransaction, type PostingView } from './reversals.ts';

/** What decide() needs besides the state: a hold's record, the clock, a reversed posting's record. */
export type DecideContext = HoldContext & { posting?: PostingView | undefined };

/**
 * The account's rules. `context` carries what a hold's commands also need: the hold's record and
 * the processor's clock (the command's issuedAt when not given, as in tests of other commands).
 */
export function decide(state: AccountState | undefined, command: Command, context: DecideContext = { now: command.issuedAt }): Decision {
  if (state !== undefined) {
    assert(state.accountId === command.accountId, () => `state of ${state.accountId} given for ${command.accountId}`);
  }
  const accountId = command.accountId;
  const payload = command.payload;
  switch (payload.type) {
    case 'OpenAccount':
      return decideOpenAccount(state, accountId, payload);
    case 'Deposit':
      return decideDeposit(state, accountId, payload);
    case 'Withdraw':
      return decideWithdraw(state, accountId, payload);
    case 'InitiateTransfer':
      return decideInitiateTransfer(state, accountId, payload);
    case 'CreditTransfer':
      return decideCreditTransfer(state, accountId, payload);
    case 'RefundTransfer':
      return decideRefundTransfer(state, accountId, payload, context.transferInFlight ?? countedInFlight(state, payload.amount));
    case 'SettleTransfer':
      return decideSettleTransfer(state, accountId, payload, context.transferInFlight ?? countedInFlight(state, payload.amount));
    case 'SetOverdraftLimit':
      return decideSetOverdraftLimit(state, accountId, payload);
    case 'PlaceHold':
      return openAccount(state, accountId) ?? decidePlaceHold(state as AccountState, payload, command.issuedAt);
    case 'CaptureHold':
      return openAccount(state, accountId) ?? decideCaptureHold(state as AccountState, payload, context);
    case 'VoidHold':
      return openAccount(state, accountId) ?? decideVoidHold(state as AccountState, payload.holdId, context);
    case 'ExpireHold':
      // By the clock of the instance that asked (its issuedAt), not the decider's: after a
      // rebalance the decider's may be behind, and the decision under this id is replayed for
      // every later ask, so "not yet" would keep the hold active until the outcome expired.
      return openAccount(state, accountId) ?? decideExpireHold(state as AccountState, payload.holdId, { ...context, now: command.issuedAt });
    case 'CloseAccount':
      return decideCloseAccount(state, accountId);
    case 'ReverseTransaction':
      return openAccount(state, accountId) ?? decideReverseTransaction(state as AccountState, payload, context.posting);
    case 'DebitTransferReversal':
      return decideDebitTransferReversal(state, accountId, payload);
    case 'CreditTransferReversal':
      return decideCreditTransferReversal(state, accountId, payload);
    case 'FailTransferReversal':
      return decideFailTransferReversal(state, accountId, payload);
    default: {
      const unreachable: never = payload;
      throw new InvariantViolation(`unknown command type ${String((unreachable as { type: unknown }).type)}`);
    }
  }
}

function decideOpenAccount(state: AccountState | undefined, accountId: string, payload: OpenAccount): Decision {
  if (state !== undefined) return reject('ACCOUNT_ALREADY_EXISTS', `account ${accountId} already exists`);
  const { ownerName, currency, initialBalance, overdraftLimit } = payload;
  if (exceedsSafeRange(initialBalance, overdraftLimit)) return reject('AMOUNT_TOO_LARGE', `initial balance ${initialBalance} plus overdraft limit ${overdraftLimit} would exceed the largest safe amount ${limits.amountMax}`);
  return accept({ type: 'AccountOpened', ownerName, currency, initialBalance, overdraftLimit });
}

function decideDeposit(state: AccountState | undefined, accountId: string, payload: Deposit): Decision {
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  if (exceedsRoom(state, payload.amount)) return tooLarge(state, payload.amount);
  const balanceAfter = state.balance + payload.amount;
  return accept({ type: 'MoneyDeposited', amount: payload.amount, balanceAfter, reference: payload.reference });
}

function decideWithdraw(state: AccountState | undefined, accountId: string, payload: Withdraw): Decision {
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  if (exceedsAvailable(state, payload.amount)) return insufficientFunds(state, payload.amount);
  const balanceAfter = state.balance - payload.amount;
  return accept({ type: 'MoneyWithdrawn', amount: payload.amount, balanceAfter, reference: payload.reference });
}

function decideInitiateTransfer(
  state: AccountState | undefined,
  accountId: string,
  payload: InitiateTransfer,
): Decision {
  const { transferId, toAccountId, amount } = payload;
  if (toAccountId === accountId) {
    return reject('SAME_ACCOUNT_TRANSFER', `account ${accountId} cannot transfer to itself`);
  }
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  if (exceedsAvailable(state, amount)) return insufficientFunds(state, amount);
  const balanceAfter = state.balance - amount;
  // The credit carries the source's currency: the destination refuses it if its own differs.
  const credit: FollowUp = {
    accountId: toAccountId,
    payload: { type: 'CreditTransfer', transferId, fromAccountId: accountId, amount, currency: state.currency },
  };
  return accept({ type: 'TransferDebited', transferId, toAccountId, amount, balanceAfter, inFlight: amount }, [credit]);
}

/** At the destination. Any refusal sends the money home with a RefundTransfer to the source. */
function decideCreditTransfer(
  state: AccountState | undefined,
  accountId: string,
  payload: CreditTransfer,
): Decision {
  const { transferId, fromAccountId, amount, currency } = payload;
  const refund = (code: RejectionCode): FollowUp[] => [
    {
      accountId: fromAccountId,
      payload: { type: 'RefundTransfer', transferId, toAccountId: accountId, amount, reason: code },
    },
  ];
  if (state === undefined) return notFound(accountId, refund('ACCOUNT_NOT_FOUND'));
  if (state.status === 'CLOSED') return closed(accountId, refund('ACCOUNT_CLOSED'));
  if (currency !== state.currency) {
    const message = `account ${accountId} holds ${state.currency}, not ${currency}`;
    return reject('CURRENCY_MISMATCH', message, refund('CURRENCY_MISMATCH'));
  }
  if (exceedsRoom(state, amount)) return tooLarge(state, amount, refund('AMOUNT_TOO_LARGE'));
  const balanceAfter = state.balance + amount;
  const settle: FollowUp = { accountId: fromAccountId, payload: { type: 'SettleTransfer', transferId, toAccountId: accountId, amount } };
  return accept({ type: 'TransferCredited', transferId, fromAccountId, amount, balanceAfter }, [settle]);
}

/**
 * At the source, after the destination refused the credit: never refused (DESIGN §8). A CLOSED
 * account still takes it (only accounts closed before in-flight amounts were tracked can be
 * closed with a transfer in flight; refusing would destroy the money). The debit counted the
 * amount in outgoingInFlight, and the upper bound counts outgoingInFlight, so the refund always
 * fits: a balance that would not is a broken invariant, not a refusal.
 * ACCOUNT_NOT_FOUND can only come from forged input (a debit implies the account exists), so it
 * gets no follow-up: there is nowhere sound to send the money.
 */
function decideRefundTransfer(
  state: AccountState | undefined,
  accountId: string,
  payload: RefundTransfer,
  inFlight: number,
): Decision {
  const { transferId, toAccountId, amount, reason } = payload;
  if (state === undefined) return notFound(accountId);
  if (inFlight === 0 && exceedsRoom(state, amount)) {
    // Only a transfer the first release debited (its amount never counted in flight) can meet this.
    return tooLarge(state, amount);
  }
  assert(inFlight === 0 || inFlight === amount, () => `refund of transfer ${transferId}: ${inFlight} in flight for an amount of ${amount}`);
  assert(inFlight <= state.outgoingInFlight, () => `refund of transfer ${transferId} releases ${inFlight}, only ${state.outgoingInFlight} is in flight`);
  assert(inFlight === 0 || !exceedsSafeRange(state.balance, amount), () => `refund of transfer ${transferId} (${amount}) does not fit account ${accountId} (balance ${state.balance}): the bound must keep room for money in flight`);
  const balanceAfter = state.balance + amount;
  return accept({ type: 'TransferRefunded', transferId, toAccountId, amount, balanceAfter, reason, inFlightReleased: inFlight });
}

/** At the source, after the destination credited: the amount is no longer in flight. Never refused. */
function decideSettleTransfer(state: AccountState | undefined, accountId: string, payload: SettleTransfer, inFlight: number): Decision {
  const { transferId, toAccountId, amount } = payload;
  if (state === undefined) return notFound(accountId);
  assert(inFlight <= state.outgoingInFlight, () => `settlement of transfer ${transferId} releases ${inFlight}, only ${state.outgoingInFlight} is in flight`);
  return accept({ type: 'TransferSettled', transferId, toAccountId, amount, inFlightReleased: inFlight });
}

function decideSetOverdraftLimit(state: AccountState | undefined, accountId: string, payload: SetOverdraftLimit): Decision {
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  if (exceedsRoom({ ...state, overdraftLimit: 0 }, payload.limit)) return tooLarge(state, payload.limit);
  return accept({ type: 'OverdraftLimitSet', limit: payload.limit });
}

function decideCloseAccount(state: AccountState | undefined, accountId: string): Decision {
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  if (state.balance !== 0) {
    return reject('ACCOUNT_NOT_EMPTY', `balance ${state.balance} must be 0 to close the account`);
  }
  if (state.heldBalance !== 0) {
    return reject('ACCOUNT_NOT_EMPTY', `holds of ${state.heldBalance} are active; the account can close once they are captured, voided or expired`);
  }
  if (state.outgoingInFlight !== 0) {
    return reject('ACCOUNT_NOT_EMPTY', `transfers or reversals of ${state.outgoingInFlight} are still in flight; the account can close once they land`);
  }
  return accept({ type: 'AccountClosed' });
}

/** Without the processing loop's record of the transfer (the domain alone): counted if the state has it in flight. */
function countedInFlight(state: AccountState | undefined, amount: number): number {
  return state !== undefined && state.outgoingInFlight >= amount ? amount : 0;
}

/** ACCOUNT_NOT_FOUND or ACCOUNT_CLOSED, or undefined when the account is open. */
function openAccount(state: AccountState | undefined, accountId: string): Decision | undefined {
  if (state === undefined) return notFound(accountId);
  if (state.status === 'CLOSED') return closed(accountId);
  return undefined;
}

function notFound(accountId: string, followUps: FollowUp[] = []): Decision {
  return reject('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`, followUps);
}

function closed(accountId: string, followUps: FollowUp[] = []): Decision {
  return reject('ACCOUNT_CLOSED', `account ${accountId} is closed`, followUps);
}
