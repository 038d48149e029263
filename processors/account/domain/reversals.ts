// decide() for reversals (DESIGN §10). Pure: the reversed posting's record (kept forever by the
// processor, see processors/account/reversal-records.ts) comes in as an argument.
//
// Rejections in order of precedence, after ACCOUNT_NOT_FOUND and ACCOUNT_CLOSED of the account:
//   ReverseTransaction  TRANSACTION_NOT_FOUND (no posting by that command on this account: unknown,
//                       another account's, or a command that posted nothing), NOT_REVERSIBLE (an
//                       opening, a refund, a transfer credit leg, a reversal or its legs, a hold
//                       placing, a failed transfer, a transfer still in flight, a transfer from before
//                       reversals existed), ALREADY_REVERSED (completed, or a transfer reversal in
//                       progress), then by what it reverses:
//                         deposit              INSUFFICIENT_FUNDS (a debit of the available balance)
//                         withdrawal, capture  AMOUNT_TOO_LARGE (the credit must fit the upper bound)
//                         transfer             AMOUNT_TOO_LARGE (room for the amount coming back is
//                                              kept from now on: the credit that ends it is never refused)
//   DebitTransferReversal (internal, at the destination) ACCOUNT_NOT_FOUND, ACCOUNT_CLOSED,
//                       INSUFFICIENT_FUNDS — each with a FailTransferReversal back to the source.
//   CreditTransferReversal, FailTransferReversal (internal, at the source): never refused; only
//                       forged input meets ACCOUNT_NOT_FOUND.
import type {
  AccountState,
  CreditTransferReversal,
  DebitTransferReversal,
  EventType,
  FailTransferReversal,
  ReverseTransaction,
  RejectionCode,
  TransferStatus,
} from '../../../schemas/types.ts';
import { accept, reject, type Decision, type FollowUp } from './decision.ts';
import { exceedsAvailable, exceedsRoom, insufficientFunds, tooLarge } from './funds.ts';
import { assert } from './invariant.ts';

/** What a reversal needs of the posting it names: from that command's record, kept forever. */
export interface PostingView {
  commandId: string;
  accountId: string;
  /** The event the command posted; null for a record that posted no money (a hold's placing, a reversal). */
  postingType: EventType | null;
  amount: number | null;
  /** Transfers: their id, how far they got, and their destination. */
  transferId: string | null;
  transferStatus: TransferStatus | null;
  counterpartyAccountId: string | null;
  /** The status of the posting's latest reversal; null when never reversed. A failed one may be retried. */
  reversalStatus: TransferStatus | null;
}

/** Postings a client may reverse, and the direction the reversal moves their account's money. */
const reversible: Partial<Record<EventType, 'DEBIT' | 'CREDIT' | 'TRANSFER'>> = {
  MoneyDeposited: 'DEBIT',
  MoneyWithdrawn: 'CREDIT',
  HoldCaptured: 'CREDIT',
  TransferDebited: 'TRANSFER',
};

/** Names the kinds a client meets in NOT_REVERSIBLE messages. */
const postingNames: Partial<Record<EventType, string>> = {
  AccountOpened: 'an opening',
  TransferRefunded: 'a refund',
  TransferCredited: "a transfer's credit (reverse the transfer at its source)",
  TransactionReversed: 'a reversal',
  TransferReversalRequested: 'a reversal',
  TransferReversed: "a reversal's debit",
  TransferReversalCredited: "a reversal's credit",
};

export function decideReverseTransaction(state: AccountState, payload: ReverseTransaction, posting: PostingView | undefined): Decision {
  const { reversedCommandId, reason } = payload;
  if (posting === undefined || posting.accountId !== state.accountId || posting.commandId !== reversedCommandId) {
    return reject('TRANSACTION_NOT_FOUND', `account ${state.accountId} has no transaction posted by command ${reversedCommandId}`);
  }
  const direction = posting.postingType === null ? undefined : reversible[posting.postingType];
  const amount = posting.amount;
  if (direction === undefined || amount === null) {
    const what = posting.postingType === null ? 'a command that moved no money' : (postingNames[posting.postingType] ?? `a ${posting.postingType}`);
    return reject('NOT_REVERSIBLE', `command ${reversedCommandId} posted ${what}, which cannot be reversed`);
  }
  if (direction === 'TRANSFER') {
    if (posting.transferStatus !== 'completed' || posting.counterpartyAccountId === null) return notReversibleTransfer(posting);
  }
  if (posting.reversalStatus === 'completed' || posting.reversalStatus === 'pending') {
    return reject('ALREADY_REVERSED', `the transaction of command ${reversedCommandId} is ${posting.reversalStatus === 'pending' ? 'being' : 'already'} reversed`);
  }
  if (direction === 'DEBIT') {
    if (exceedsAvailable(state, amount)) return insufficientFunds(state, amount);
    return accept({ type: 'TransactionReversed', reversedCommandId, amount, direction, balanceAfter: state.balance - amount, reason });
  }
  if (exceedsRoom(state, amount)) return tooLarge(state, amount);
  if (direction === 'CREDIT') return accept({ type: 'TransactionReversed', reversedCommandId, amount, direction, balanceAfter: state.balance + amount, reason });
  const transferId = posting.transferId ?? '';
  const toAccountId = posting.counterpartyAccountId ?? '';
  const debit: FollowUp = {
    accountId: toAccountId,
    payload: { type: 'DebitTransferReversal', reversalId: payload.reversalId, transferId, toAccountId: state.accountId, amount, reason },
  };
  return accept({ type: 'TransferReversalRequested', transferId, toAccountId, amount, reason }, [debit]);
}

function notReversibleTransfer(posting: PostingView): Decision {
  const id = posting.transferId ?? posting.commandId;
  if (posting.transferStatus === 'failed') return reject('NOT_REVERSIBLE', `transfer ${id} failed: it was refunded, there is nothing to reverse`);
  if (posting.transferStatus === 'pending') return reject('NOT_REVERSIBLE', `transfer ${id} is still in flight; it can be reversed once completed`);
  return reject('NOT_REVERSIBLE', `transfer ${id} was made before reversals existed: its record does not name its destination`);
}

/** At the destination. Any refusal tells the source, whose reservation then ends (FailTransferReversal). */
export function decideDebitTransferReversal(state: AccountState | undefined, accountId: string, payload: DebitTransferReversal): Decision {
  const { reversalId, transferId, toAccountId, amount, reason } = payload;
  const fail = (code: RejectionCode): FollowUp[] => [
    { accountId: toAccountId, payload: { type: 'FailTransferReversal', reversalId, transferId, fromAccountId: accountId, amount, reason: code } },
  ];
  if (state === undefined) return reject('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`, fail('ACCOUNT_NOT_FOUND'));
  if (state.status === 'CLOSED') return reject('ACCOUNT_CLOSED', `account ${accountId} is closed`, fail('ACCOUNT_CLOSED'));
  if (exceedsAvailable(state, amount)) {
    const refused = insufficientFunds(state, amount);
    return refused.kind === 'rejected' ? { ...refused, followUps: fail('INSUFFICIENT_FUNDS') } : refused;
  }
  const credit: FollowUp = { accountId: toAccountId, payload: { type: 'CreditTransferReversal', reversalId, transferId, fromAccountId: accountId, amount } };
  return accept({ type: 'TransferReversed', transferId, toAccountId, amount, balanceAfter: state.balance - amount, reason }, [credit]);
}

/**
 * At the source, once the destination paid: never refused (DESIGN §8). The request counted the
 * amount in outgoingInFlight, which the upper bound counts and which blocks closing, so the credit
 * always fits and finds the account open: anything else is a broken invariant.
 */
export function decideCreditTransferReversal(state: AccountState | undefined, accountId: string, payload: CreditTransferReversal): Decision {
  const { transferId, fromAccountId, amount } = payload;
  if (state === undefined) return reject('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`);
  assert(amount <= state.outgoingInFlight, () => `reversal credit of transfer ${transferId} releases ${amount}, only ${state.outgoingInFlight} is in flight`);
  return accept({ type: 'TransferReversalCredited', transferId, fromAccountId, amount, balanceAfter: state.balance + amount });
}

/** At the source, when the destination could not pay: the reservation ends, nothing moved. Never refused. */
export function decideFailTransferReversal(state: AccountState | undefined, accountId: string, payload: FailTransferReversal): Decision {
  const { transferId, fromAccountId, amount, reason } = payload;
  if (state === undefined) return reject('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`);
  assert(amount <= state.outgoingInFlight, () => `failed reversal of transfer ${transferId} releases ${amount}, only ${state.outgoingInFlight} is in flight`);
  return accept({ type: 'TransferReversalFailed', transferId, toAccountId: fromAccountId, amount, reason });
}
