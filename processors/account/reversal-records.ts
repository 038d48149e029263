// The records reversals rely on (DESIGN §10: each transaction reversed at most once, at any age).
// Pure helpers of the processing loop (batch.ts) and the store.
//
// - A posting's record: every accepted command that moves money on its account (an opening, a
//   deposit, a withdrawal, a capture, a transfer's credit or refund, a reversal's legs) leaves its
//   outcome, marked with `postingType` (the event) and `amount`, kept forever on the movements
//   changelog (key: its commandId; store key `P!<commandId>`). It is looked up by commandId only:
//   the command's idempotency record stays windowed (a deposit retried after 7 days is a new
//   deposit), and no index points at it. A transfer's initiation record (kept forever already)
//   serves as its posting record: it gains postingType TransferDebited, amount and destination.
// - The posting record carries its reversal: `reversalStatus` (null: never reversed; pending,
//   completed; failed: may be reversed again) and `reversalId`.
// - An accepted reversal's outcome is its record, kept forever like a transfer's initiation (ids
//   that move money are unique forever), found by reversalId; a transfer reversal's record moves
//   from pending to completed or failed when its credit or failure lands at the source.
import type { PostingView } from './domain/index.ts';
import type { CommandOutcome, CommandPayload, CreditTransferReversal, EventPayload, EventType, FailTransferReversal, TransferStatus } from '../../schemas/types.ts';

/** Events that move a posting's money: their commands leave a posting record (the two below excepted). */
const postedAmount: Partial<Record<EventType, (event: EventPayload) => number>> = {
  AccountOpened: (e) => (e.type === 'AccountOpened' ? e.initialBalance : 0),
  MoneyDeposited: amountOf,
  MoneyWithdrawn: amountOf,
  HoldCaptured: amountOf,
  TransferCredited: amountOf,
  TransferRefunded: amountOf,
  TransferReversed: amountOf,
  TransferReversalCredited: amountOf,
};

function amountOf(event: EventPayload): number {
  return 'amount' in event ? event.amount : 0;
}

/**
 * The reversalId a record kept forever is found by: a reversal's own record's. A transfer's
 * initiation names the reversal reversing it too, but is found by its transferId, not by that.
 */
export function reversalIdOf(record: CommandOutcome): string | null {
  return (record.reversalStatus ?? null) === null || record.transferStatus !== null ? null : (record.reversalId ?? null);
}

/** A posting record, not a movement of its own: it has a postingType and is no transfer's initiation. */
export function isPostingRecord(record: CommandOutcome): boolean {
  return (record.postingType ?? null) !== null && record.transferStatus === null;
}

/**
 * The posting record an accepted command leaves, or undefined when it leaves none: commands that
 * move no money, and those whose own record is kept forever already (a transfer's initiation, a
 * reversal: a reversal of either finds that record, which says what it is).
 */
export function postingRecordOf(outcome: CommandOutcome, event: EventPayload | undefined): CommandOutcome | undefined {
  if (event === undefined || outcome.status !== 'ACCEPTED') return undefined;
  const amount = postedAmount[event.type];
  if (amount === undefined) return undefined;
  return { ...outcome, postingType: event.type, amount: amount(event), transferStatus: null, transferCode: null, reversalId: null, reversalStatus: null, reversalCode: null };
}

export function postingViewOf(record: CommandOutcome): PostingView {
  return {
    commandId: record.commandId,
    accountId: record.accountId,
    postingType: record.postingType ?? null,
    amount: record.amount ?? null,
    transferId: record.transferId,
    transferStatus: record.transferStatus,
    counterpartyAccountId: record.counterpartyAccountId ?? null,
    reversalStatus: record.reversalStatus ?? null,
  };
}

/** The internal commands that end a transfer reversal at its source. */
export function isReversalLanding(payload: CommandPayload): payload is CreditTransferReversal | FailTransferReversal {
  return payload.type === 'CreditTransferReversal' || payload.type === 'FailTransferReversal';
}

/** A reversal's status once its event is known: an account-level one completes at once, a transfer's is pending. */
export function reversalStatusOf(event: EventPayload | undefined): TransferStatus | null {
  if (event?.type === 'TransactionReversed') return 'completed';
  if (event?.type === 'TransferReversalRequested') return 'pending';
  return null;
}
