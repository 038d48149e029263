// The transfer saga from its events: each transfer debited once at its source, then credited at
// its destination or refunded at its source at most once and never both, with the debited amount;
// every debit sent its CreditTransfer, every refused credit its RefundTransfer and every accepted
// credit its SettleTransfer, which the source applies once (TransferSettled). A debit with
// neither credit nor refund is money in flight: pending while young, a violation once older than
// --stuck-after (or at all in a settled ledger); a credit its source has not settled likewise.
// Internal command ids derive from the event that caused them (DESIGN §8), so they are
// recomputed here from the events, never from the client's transfer id.
import { eventKey } from '../../topics/record-keys.ts';
import { creditCommandId, refundCommandId, settleCommandId } from '../../schemas/ids.ts';
import type { AccountEvent, TransferCredited, TransferDebited, TransferRefunded, TransferReversalCredited, TransferReversalFailed, TransferReversalRequested, TransferReversed, TransferSettled } from '../../schemas/types.ts';
import { checkTransferReversal } from './check-transfer-reversals.ts';
import { seconds, type CheckClock, type OutcomeIndex } from './check-commands.ts';
import type { Violations } from './violations.ts';

export type Leg<P> = { accountId: string; sequence: number; occurredAt: number; payload: P };

export interface TransferLegs {
  debits: Leg<TransferDebited>[];
  credits: Leg<TransferCredited>[];
  refunds: Leg<TransferRefunded>[];
  settlements: Leg<TransferSettled>[];
  /** A reversal's legs (DESIGN §10): asked and ended (credited back or failed) at the source, debited at the destination. */
  reversalRequests: Leg<TransferReversalRequested>[];
  reversals: Leg<TransferReversed>[];
  reversalCredits: Leg<TransferReversalCredited>[];
  reversalFailures: Leg<TransferReversalFailed>[];
}

export interface TransferTotals {
  /** Transfers debited at their source. */
  debited: number;
  credited: number;
  refunded: number;
  /** Credited and settled at the source. */
  settled: number;
  /** Debited, neither credited nor refunded yet. */
  pending: number;
  /** The money those pending transfers carry, and reversals debited at the destination not yet credited back. */
  inFlight: number;
  /** Transfers taken back (credited back at their source). */
  reversed: number;
}

export interface TransferCheckContext {
  outcomes: OutcomeIndex;
  /** Every commandId on the commands topic. */
  commandIds: Set<string>;
  /** Partitions of the commands topic that retention trimmed. */
  commandsTrimmed: ReadonlySet<number>;
  /** The ledger is quiet: a transfer still in flight is a violation. */
  settled: boolean;
  clock: CheckClock;
}

function legsOf(events: AccountEvent[]): Map<string, TransferLegs> {
  const transfers = new Map<string, TransferLegs>();
  const legs = (transferId: string): TransferLegs => {
    let found = transfers.get(transferId);
    if (found === undefined) transfers.set(transferId, (found = { debits: [], credits: [], refunds: [], settlements: [], reversalRequests: [], reversals: [], reversalCredits: [], reversalFailures: [] }));
    return found;
  };
  for (const { accountId, sequence, occurredAt, payload } of events) {
    if (payload.type === 'TransferDebited') legs(payload.transferId).debits.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferCredited') legs(payload.transferId).credits.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferRefunded') legs(payload.transferId).refunds.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferSettled') legs(payload.transferId).settlements.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferReversalRequested') legs(payload.transferId).reversalRequests.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferReversed') legs(payload.transferId).reversals.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferReversalCredited') legs(payload.transferId).reversalCredits.push({ accountId, sequence, occurredAt, payload });
    if (payload.type === 'TransferReversalFailed') legs(payload.transferId).reversalFailures.push({ accountId, sequence, occurredAt, payload });
  }
  return transfers;
}

/** The other legs against the debit: same amount, the destination it named, back to its source. */
function checkLegsMatch(id: string, debit: Leg<TransferDebited>, legs: TransferLegs, violations: Violations): void {
  for (const credit of legs.credits) {
    if (credit.payload.amount !== debit.payload.amount) violations.add('transfer', `transfer ${id}: credited ${credit.payload.amount}, debited ${debit.payload.amount}`);
    if (credit.accountId !== debit.payload.toAccountId) violations.add('transfer', `transfer ${id}: credited to ${credit.accountId}, debited for ${debit.payload.toAccountId}`);
    if (credit.payload.fromAccountId !== debit.accountId) violations.add('transfer', `transfer ${id}: credit names source ${credit.payload.fromAccountId}, debited at ${debit.accountId}`);
  }
  for (const refund of legs.refunds) {
    if (refund.payload.amount !== debit.payload.amount) violations.add('transfer', `transfer ${id}: refunded ${refund.payload.amount}, debited ${debit.payload.amount}`);
    if (refund.accountId !== debit.accountId) violations.add('transfer', `transfer ${id}: refunded to ${refund.accountId}, debited at ${debit.accountId}`);
  }
  for (const settlement of legs.settlements) {
    if (legs.credits.length === 0) violations.add('transfer', `transfer ${id}: settled at its source but never credited`);
    if (settlement.payload.amount !== debit.payload.amount) violations.add('transfer', `transfer ${id}: settled ${settlement.payload.amount}, debited ${debit.payload.amount}`);
    if (settlement.accountId !== debit.accountId) violations.add('transfer', `transfer ${id}: settled at ${settlement.accountId}, debited at ${debit.accountId}`);
  }
}

/**
 * The saga's commands. The credit and refund legs' own commands are checked with every event
 * (check-causes.ts); here, the commands that have no event yet. A transfer in flight must have
 * its CreditTransfer on the topic, trimmed or not: retention takes days, so a credit it trimmed
 * before anyone took it up is stranded money. A refunded transfer's credit was
 * refused: its command is exempt only where retention trimmed the partition its outcome is on
 * (or, with that outcome gone too, any partition).
 */
function checkSagaCommands(id: string, debit: Leg<TransferDebited>, legs: TransferLegs, context: TransferCheckContext, violations: Violations): void {
  const { commandIds, commandsTrimmed } = context;
  const credit = creditCommandId(eventKey(debit.accountId, debit.sequence));
  const credited = legs.credits[0];
  if (credited !== undefined) {
    const settle = settleCommandId(eventKey(credited.accountId, credited.sequence));
    if (legs.settlements.length === 0 && !commandIds.has(settle)) violations.add('transfer', `transfer ${id}: credited, but its SettleTransfer command is not on the commands topic`);
    return;
  }
  if (!commandIds.has(credit)) {
    const partition = context.outcomes.partitions.get(credit);
    const mayBeTrimmed = legs.refunds.length > 0 && (partition === undefined ? commandsTrimmed.size > 0 : commandsTrimmed.has(partition));
    if (!mayBeTrimmed) violations.add('transfer', `transfer ${id}: debited, but its CreditTransfer command is not on the commands topic`);
  }
  const outcome = context.outcomes.byCommand.get(credit);
  if (legs.refunds.length === 0 && outcome?.status === 'REJECTED' && !commandIds.has(refundCommandId(credit))) violations.add('transfer', `transfer ${id}: credit refused (${outcome.code}), but its RefundTransfer command is not on the commands topic`);
}

export function checkTransfers(events: AccountEvent[], context: TransferCheckContext, violations: Violations): TransferTotals {
  const totals: TransferTotals = { debited: 0, credited: 0, refunded: 0, settled: 0, pending: 0, inFlight: 0, reversed: 0 };
  for (const [id, legs] of legsOf(events)) {
    const { debits, credits, refunds, settlements } = legs;
    if (debits.length === 0) violations.add('transfer', `transfer ${id}: ${credits.length > 0 ? 'credited' : 'refunded'} but never debited`);
    if (debits.length > 1) violations.add('transfer', `transfer ${id}: debited ${debits.length} times`);
    if (credits.length > 1) violations.add('transfer', `transfer ${id}: credited ${credits.length} times`);
    if (refunds.length > 1) violations.add('transfer', `transfer ${id}: refunded ${refunds.length} times`);
    if (credits.length > 0 && refunds.length > 0) violations.add('transfer', `transfer ${id}: both credited and refunded`);
    if (settlements.length > 1) violations.add('transfer', `transfer ${id}: settled ${settlements.length} times`);
    totals.settled += settlements.length > 0 ? 1 : 0;
    totals.credited += credits.length > 0 ? 1 : 0;
    totals.refunded += refunds.length > 0 ? 1 : 0;
    const debit = debits[0];
    if (debit === undefined) continue;
    totals.debited += 1;
    checkLegsMatch(id, debit, legs, violations);
    checkSagaCommands(id, debit, legs, context, violations);
    const reversal = checkTransferReversal(id, debit, legs, context, violations);
    totals.inFlight += reversal.inFlight;
    totals.reversed += reversal.reversed ? 1 : 0;
    if (credits.length === 0 && refunds.length === 0) {
      totals.pending += 1;
      totals.inFlight += debit.payload.amount;
      const what = `transfer ${id}: debited ${debit.payload.amount} at ${debit.accountId}, neither credited nor refunded`;
      const age = context.clock.now - debit.occurredAt;
      if (context.settled) violations.add('stuck-transfer', `${what} in a settled ledger`);
      else if (age > context.clock.stuckAfterMs) violations.add('stuck-transfer', `${what} after ${seconds(age)} (--stuck-after ${seconds(context.clock.stuckAfterMs)})`);
    }
    const credit = credits[0];
    if (credit !== undefined && settlements.length === 0) {
      // The money arrived, but its source still counts it in flight (and cannot close).
      const what = `transfer ${id}: credited at ${credit.accountId}, not settled at its source ${debit.accountId}`;
      const age = context.clock.now - credit.occurredAt;
      if (context.settled) violations.add('stuck-transfer', `${what} in a settled ledger`);
      else if (age > context.clock.stuckAfterMs) violations.add('stuck-transfer', `${what} after ${seconds(age)} (--stuck-after ${seconds(context.clock.stuckAfterMs)})`);
    }
  }
  return totals;
}
