// A transfer's reversal (DESIGN §10) from its events: asked at the source (TransferReversalRequested),
// then debited at the destination (TransferReversed) and credited back at the source
// (TransferReversalCredited), or refused there and ended at the source (TransferReversalFailed).
// Only a credited transfer is reversed, at most once, always for the transfer's amount, by its
// destination and back to its source; each request ends once. Money debited at the destination
// and not yet credited back is in flight; a request unfinished longer than --stuck-after (or at
// all in a settled ledger) is stuck.
import { seconds } from './check-commands.ts';
import type { Leg, TransferCheckContext, TransferLegs } from './check-transfers.ts';
import type { TransferDebited } from '../../schemas/types.ts';
import type { Violations } from './violations.ts';

export function checkTransferReversal(id: string, debit: Leg<TransferDebited>, legs: TransferLegs, context: TransferCheckContext, violations: Violations): { inFlight: number; reversed: boolean } {
  const { reversalRequests, reversals, reversalCredits, reversalFailures } = legs;
  const add = (message: string) => violations.add('reversal', `transfer ${id}: ${message}`);
  const amount = debit.payload.amount;
  if (reversalRequests.length + reversals.length + reversalCredits.length + reversalFailures.length === 0) return { inFlight: 0, reversed: false };
  if (reversals.length > 0 && legs.credits.length === 0) add('reversed at the destination but never credited there');
  if (reversals.length > 1) add(`reversed ${reversals.length} times`);
  if (reversalCredits.length > reversals.length) add(`credited back ${reversalCredits.length} times for ${reversals.length} reversal debit(s)`);
  if (reversalCredits.length + reversalFailures.length > reversalRequests.length) add(`${reversalCredits.length + reversalFailures.length} reversal(s) ended for ${reversalRequests.length} asked`);
  for (const leg of [...reversalRequests, ...reversals, ...reversalCredits, ...reversalFailures]) {
    if (leg.payload.amount !== amount) add(`${leg.payload.type} of ${leg.payload.amount}, the transfer moved ${amount}`);
  }
  for (const leg of [...reversalRequests, ...reversalCredits, ...reversalFailures]) {
    if (leg.accountId !== debit.accountId) add(`${leg.payload.type} at ${leg.accountId}, not at its source ${debit.accountId}`);
  }
  for (const leg of reversals) {
    if (leg.accountId !== debit.payload.toAccountId) add(`reversed at ${leg.accountId}, not at its destination ${debit.payload.toAccountId}`);
    if (leg.payload.toAccountId !== debit.accountId) add(`reversal names ${leg.payload.toAccountId} as the source, debited at ${debit.accountId}`);
  }
  const inFlight = Math.max(0, reversals.length - reversalCredits.length) * amount;
  const unfinished = reversalRequests.length - reversalCredits.length - reversalFailures.length;
  const latest = [...reversalRequests, ...reversals].sort((a, b) => b.occurredAt - a.occurredAt)[0];
  if (unfinished > 0 && latest !== undefined) {
    const what = `transfer ${id}: its reversal was asked at ${debit.accountId} and is neither credited back nor failed`;
    const age = context.clock.now - latest.occurredAt;
    if (context.settled) violations.add('stuck-reversal', `${what} in a settled ledger`);
    else if (age > context.clock.stuckAfterMs) violations.add('stuck-reversal', `${what} after ${seconds(age)} (--stuck-after ${seconds(context.clock.stuckAfterMs)})`);
  }
  return { inFlight, reversed: reversalCredits.length > 0 };
}
