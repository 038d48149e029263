// Account-level reversals (DESIGN §10) against what they reverse, from the events alone: each
// TransactionReversed names a posting of its own account (the event its reversedCommandId caused)
// that is a deposit (reversed as a DEBIT) or a withdrawal or capture (a CREDIT), of the same
// amount, and no posting is reversed twice. Transfer reversals are checked with their transfer
// (check-transfers.ts). The command check (check-causes.ts) cannot see this: the amount and the
// direction are not in the reversal's command, they come from the posting.
import type { AccountEvent, EventType, TransactionReversed } from '../../schemas/types.ts';
import type { Violations } from './violations.ts';

const directionOf: Partial<Record<EventType, TransactionReversed['direction']>> = {
  MoneyDeposited: 'DEBIT',
  MoneyWithdrawn: 'CREDIT',
  HoldCaptured: 'CREDIT',
};

/** Checks each verified TransactionReversed; returns the money they moved across the ledger's edge. */
export function checkReversals(events: AccountEvent[], violations: Violations): { debited: bigint; credited: bigint } {
  const postings = new Map<string, AccountEvent>();
  for (const event of events) postings.set(`${event.accountId} ${event.commandId}`, event);
  const reversedBy = new Map<string, string>();
  const totals = { debited: 0n, credited: 0n };
  for (const event of events) {
    const payload = event.payload;
    if (payload.type !== 'TransactionReversed') continue;
    if (payload.direction === 'DEBIT') totals.debited += BigInt(payload.amount);
    else totals.credited += BigInt(payload.amount);
    const what = `reversal ${event.eventId} of command ${payload.reversedCommandId}`;
    const earlier = reversedBy.get(`${event.accountId} ${payload.reversedCommandId}`);
    if (earlier !== undefined) violations.add('reversal', `${what}: already reversed by ${earlier}`);
    reversedBy.set(`${event.accountId} ${payload.reversedCommandId}`, event.eventId);
    const posting = postings.get(`${event.accountId} ${payload.reversedCommandId}`);
    if (posting === undefined) {
      violations.add('reversal', `${what}: that command posted nothing on account ${event.accountId}`);
      continue;
    }
    const direction = directionOf[posting.payload.type];
    if (direction === undefined) violations.add('reversal', `${what}: reverses a ${posting.payload.type}, which is not reversible`);
    else if (direction !== payload.direction) violations.add('reversal', `${what}: a ${posting.payload.type} is reversed as a ${direction}, not a ${payload.direction}`);
    const amount = 'amount' in posting.payload ? posting.payload.amount : undefined;
    if (amount !== payload.amount) violations.add('reversal', `${what}: reverses ${payload.amount}, the posting moved ${String(amount)}`);
    if (posting.sequence >= event.sequence) violations.add('reversal', `${what}: comes before the posting it reverses`);
  }
  return totals;
}
