// decide() for holds (DESIGN §10, card-style: authorize, then capture or void; expiry by the
// processor). Pure: the hold's current record and the processor's clock come in as arguments.
//
// Rejections in order of precedence, after ACCOUNT_NOT_FOUND and ACCOUNT_CLOSED of the account:
//   PlaceHold    INSUFFICIENT_FUNDS (more than balance − heldBalance + overdraftLimit)
//   CaptureHold  HOLD_NOT_FOUND (unknown here, or another account's), HOLD_NOT_ACTIVE (captured,
//                voided, expired, or past expiresAt though not yet expired), AMOUNT_EXCEEDS_HOLD,
//                INSUFFICIENT_FUNDS (only when the overdraft limit was lowered under what the
//                hold reserved: a capture never takes the balance below −overdraftLimit)
//   VoidHold     HOLD_NOT_FOUND, HOLD_NOT_ACTIVE
//   ExpireHold   HOLD_NOT_FOUND (forged), HOLD_NOT_ACTIVE (captured or voided meanwhile: nothing
//                to release; harmless) — internal, identified by the HoldPlaced event, so a repeat
//                is replayed, never refused for idempotency.
// An account cannot close while a hold is active (heldBalance > 0 is ACCOUNT_NOT_EMPTY), so a
// hold's commands never meet a closed account with an active hold.
import type { AccountState, CaptureHold, HoldStatus, PlaceHold } from '../../../schemas/types.ts';
import { accept, reject, type Decision } from './decision.ts';

/** A hold as decide() needs it: from the placing command's record, kept forever. */
export interface HoldView {
  holdId: string;
  accountId: string;
  amount: number;
  status: HoldStatus;
  expiresAt: number;
}

export interface HoldContext {
  /** The hold the command names, if this partition knows one by that id. */
  hold?: HoldView | undefined;
  /** The processor's clock (epoch ms): a hold past expiresAt can no longer be captured. */
  now: number;
  /**
   * For a refund or settlement: how much of its transfer the source counts in flight — the
   * amount when this release debited it and it has not landed, 0 for a first-release transfer.
   * Undefined (tests of the domain alone): the amount.
   */
  transferInFlight?: number | undefined;
}

export function decidePlaceHold(state: AccountState, payload: PlaceHold, issuedAt: number): Decision {
  const { holdId, amount, expiresInSeconds, reference } = payload;
  if (amount - state.overdraftLimit > state.balance - state.heldBalance) {
    const available = BigInt(state.balance) - BigInt(state.heldBalance) + BigInt(state.overdraftLimit);
    return reject('INSUFFICIENT_FUNDS', `available balance ${available} is less than the requested ${amount}`);
  }
  // From the command's issuedAt, so a replay decides the same expiry (a retry is replayed, not re-decided).
  return accept({ type: 'HoldPlaced', holdId, amount, expiresAt: issuedAt + expiresInSeconds * 1000, reference });
}

function activeHold(accountId: string, holdId: string, context: HoldContext): HoldView | Decision {
  const hold = context.hold;
  if (hold === undefined || hold.accountId !== accountId || hold.holdId !== holdId) return reject('HOLD_NOT_FOUND', `account ${accountId} has no hold ${holdId}`);
  if (hold.status !== 'ACTIVE') return reject('HOLD_NOT_ACTIVE', `hold ${holdId} is ${hold.status.toLowerCase()}`);
  return hold;
}

const isDecision = (value: HoldView | Decision): value is Decision => 'kind' in value;

export function decideCaptureHold(state: AccountState, payload: CaptureHold, context: HoldContext): Decision {
  const found = activeHold(state.accountId, payload.holdId, context);
  if (isDecision(found)) return found;
  if (context.now >= found.expiresAt) return reject('HOLD_NOT_ACTIVE', `hold ${found.holdId} expired at ${new Date(found.expiresAt).toISOString()}`);
  const amount = payload.amount ?? found.amount;
  if (amount > found.amount) return reject('AMOUNT_EXCEEDS_HOLD', `capture of ${amount} exceeds hold ${found.holdId} of ${found.amount}`);
  const balanceAfter = state.balance - amount;
  if (balanceAfter < -state.overdraftLimit) {
    return reject('INSUFFICIENT_FUNDS', `capture of ${amount} would take the balance to ${balanceAfter}, below the overdraft limit ${state.overdraftLimit} lowered since the hold`);
  }
  return accept({ type: 'HoldCaptured', holdId: found.holdId, amount, balanceAfter, released: found.amount });
}

export function decideVoidHold(state: AccountState, holdId: string, context: HoldContext): Decision {
  const found = activeHold(state.accountId, holdId, context);
  if (isDecision(found)) return found;
  return accept({ type: 'HoldVoided', holdId, amount: found.amount });
}

export function decideExpireHold(state: AccountState, holdId: string, context: HoldContext): Decision {
  const found = activeHold(state.accountId, holdId, context);
  if (isDecision(found)) return found;
  if (context.now < found.expiresAt) return reject('HOLD_NOT_ACTIVE', `hold ${holdId} does not expire before ${new Date(found.expiresAt).toISOString()}`);
  return accept({ type: 'HoldExpired', holdId, amount: found.amount });
}
