// Holds and overdraft limits (DESIGN §10), checked from the events themselves rather than through
// the domain's evolve(): the fold already asserts its own rules, so this is the second opinion a
// bug in evolve() cannot silence.
// - every hold is placed once, then captured, voided or expired at most once, for what was held
//   (a capture takes at most the hold and releases all of it), and nothing touches it afterwards;
// - an account's heldBalance (the fold's, and the changelog's) is the sum of its active holds;
// - a debit never leaves the balance below −overdraftLimit, the limit in force when it was made
//   (a limit lowered below the current debt is allowed: it blocks debits, it moves no money).
import type { AccountEvent } from '../../schemas/types.ts';
import type { AccountFold } from './check-accounts.ts';
import type { Violations } from './violations.ts';

interface Hold {
  amount: number;
  expiresAt: number;
  /** The event that closed it, once captured, voided or expired. */
  closedBy: string | null;
}

interface AccountLedger {
  holds: Map<string, Hold>;
  balance: number;
  overdraftLimit: number;
}

/** The balance an event leaves, where it states one (or, for an opening, starts with). */
function balanceAfterOf(event: AccountEvent): number | undefined {
  const { payload } = event;
  if (payload.type === 'AccountOpened') return payload.initialBalance;
  return 'balanceAfter' in payload ? payload.balanceAfter : undefined;
}

function checkHoldEvent(accountId: string, account: AccountLedger, event: AccountEvent, violations: Violations): void {
  const { payload } = event;
  const where = `account ${accountId} event ${event.sequence} (${payload.type})`;
  if (payload.type === 'HoldPlaced') {
    if (account.holds.has(payload.holdId)) violations.add('hold', `${where}: hold ${payload.holdId} placed twice`);
    else account.holds.set(payload.holdId, { amount: payload.amount, expiresAt: payload.expiresAt, closedBy: null });
    return;
  }
  if (payload.type !== 'HoldCaptured' && payload.type !== 'HoldVoided' && payload.type !== 'HoldExpired') return;
  const hold = account.holds.get(payload.holdId);
  if (hold === undefined) return violations.add('hold', `${where}: hold ${payload.holdId} was never placed on this account`);
  if (hold.closedBy !== null) return violations.add('hold', `${where}: hold ${payload.holdId} was already closed by ${hold.closedBy}`);
  hold.closedBy = `${payload.type} at sequence ${event.sequence}`;
  const released = payload.type === 'HoldCaptured' ? payload.released : payload.amount;
  if (released !== hold.amount) violations.add('hold', `${where}: releases ${released} of hold ${payload.holdId}, which held ${hold.amount}`);
  if (payload.type === 'HoldCaptured' && (payload.amount > hold.amount || payload.amount <= 0)) violations.add('hold', `${where}: captures ${payload.amount} of hold ${payload.holdId}, which held ${hold.amount}`);
}

function checkBalance(accountId: string, account: AccountLedger, event: AccountEvent, violations: Violations): void {
  const { payload } = event;
  if (payload.type === 'OverdraftLimitSet') account.overdraftLimit = payload.limit;
  if (payload.type === 'AccountOpened') account.overdraftLimit = payload.overdraftLimit;
  const after = balanceAfterOf(event);
  if (after === undefined) return;
  const debit = payload.type !== 'AccountOpened' && after < account.balance;
  if ((debit || payload.type === 'AccountOpened') && after < -account.overdraftLimit) {
    violations.add('overdraft', `account ${accountId} event ${event.sequence} (${payload.type}): balance ${after} is below −${account.overdraftLimit}, the overdraft limit`);
  }
  account.balance = after;
}

/**
 * Over the verified events (sequence order per account, as the fold left them): hold lifecycles,
 * the overdraft bound, and the fold's heldBalance against the active holds (the changelog's is
 * compared with the fold's in checkStates).
 */
export interface HoldTotals {
  placed: number;
  captured: number;
  voided: number;
  expired: number;
  /** Still active at the end of the read, and the money they reserve (inside the balances). */
  active: number;
  held: number;
}

/** What "now" is, and how long past its expiresAt an active hold may stay before it counts as stuck. */
export interface HoldClock {
  now: number;
  stuckAfterMs: number;
}

export function checkHolds(fold: AccountFold, violations: Violations, clock?: HoldClock): HoldTotals {
  const totals: HoldTotals = { placed: 0, captured: 0, voided: 0, expired: 0, active: 0, held: 0 };
  const accounts = new Map<string, AccountLedger>();
  for (const event of fold.verified) {
    let account = accounts.get(event.accountId);
    if (account === undefined) {
      account = { holds: new Map(), balance: 0, overdraftLimit: 0 };
      accounts.set(event.accountId, account);
    }
    checkHoldEvent(event.accountId, account, event, violations);
    const { type } = event.payload;
    if (type === 'HoldPlaced') totals.placed += 1;
    if (type === 'HoldCaptured') totals.captured += 1;
    if (type === 'HoldVoided') totals.voided += 1;
    if (type === 'HoldExpired') totals.expired += 1;
    checkBalance(event.accountId, account, event, violations);
  }
  for (const [accountId, account] of accounts) {
    const active = [...account.holds.values()].filter((hold) => hold.closedBy === null);
    // DESIGN §10: the processor expires a hold within 60 s of expiresAt; the same grace as a transfer's.
    for (const [holdId, hold] of account.holds) {
      const overdue = clock === undefined ? 0 : clock.now - hold.expiresAt;
      if (hold.closedBy === null && clock !== undefined && overdue > clock.stuckAfterMs) {
        violations.add('stuck-hold', `account ${accountId}: hold ${holdId} still active ${Math.round(overdue / 1000)} s after its expiresAt ${new Date(hold.expiresAt).toISOString()} (--stuck-after ${Math.round(clock.stuckAfterMs / 1000)} s)`);
      }
    }
    const held = active.reduce((sum, hold) => sum + hold.amount, 0);
    totals.active += active.length;
    totals.held += held;
    const folded = fold.folded.get(accountId);
    if (folded !== undefined && !fold.broken.has(accountId) && folded.heldBalance !== held) {
      violations.add('hold', `account ${accountId}: heldBalance folds to ${folded.heldBalance}, its ${active.length} active hold(s) sum to ${held}`);
    }
  }
  return totals;
}
