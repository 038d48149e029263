// The holds of an account as the views show them (DESIGN §11): one record per hold, folded from
// HoldPlaced and the one event that ends it (HoldCaptured, HoldVoided or HoldExpired). Pure: the
// batch fold (batch.ts) hands in the record as stored before the batch, or as an earlier event of
// the same batch left it. An ending event for a hold the views do not hold as ACTIVE breaks the
// log's contract (the account processor decides it only for an active hold): it is unapplicable
// and parked like any other event that does not add up.
import type { AccountEvent, HoldStatus } from '../../../schemas/types.ts';
import { UnapplicableEvent } from './parked.ts';

export interface HoldRecord {
  holdId: string;
  accountId: string;
  /** What was reserved when the hold was placed. */
  amount: number;
  status: HoldStatus;
  reference: string | null;
  expiresAt: number;
  placedAt: number;
  /** The HoldPlaced event's sequence: the hold's place in its account's list, newest first. */
  placedSequence: number;
  /** CAPTURED only: what left the account. */
  capturedAmount: number | null;
  /** Once closed: what went back to the available balance (all of it unless captured). */
  releasedAmount: number | null;
  /** When the hold left ACTIVE. */
  closedAt: number | null;
  /** The command that placed the hold, and its API key. */
  commandId: string;
  actor: string | null;
}

/** A hold this batch changed, with the status it had in the store before the batch (null: new), whose index key goes. */
export interface HoldChange {
  hold: HoldRecord;
  storedStatus: HoldStatus | null;
}

/** `accountId:holdId`: how the fold looks up a hold (a hold id is unique within its account). */
export const holdRef = (accountId: string, holdId: string): string => `${accountId}:${holdId}`;

/** The hold an event is about, or null for an event that is not a hold's. */
export function holdIdOf(event: AccountEvent): string | null {
  const payload = event.payload;
  switch (payload.type) {
    case 'HoldPlaced':
    case 'HoldCaptured':
    case 'HoldVoided':
    case 'HoldExpired':
      return payload.holdId;
    default:
      return null;
  }
}

/**
 * The holds whose stored records the fold of these events needs: every hold they name, those they
 * place included (a hold id is unique forever, DESIGN §8: one placed again is parked, not folded
 * over the first).
 */
export function holdsNamedBy(events: readonly AccountEvent[]): Array<{ accountId: string; holdId: string }> {
  const refs = new Map<string, { accountId: string; holdId: string }>();
  for (const event of events) {
    const holdId = holdIdOf(event);
    if (holdId !== null) refs.set(holdRef(event.accountId, holdId), { accountId: event.accountId, holdId });
  }
  return [...refs.values()];
}

function fail(event: AccountEvent, message: string): never {
  throw new UnapplicableEvent('INVALID_EVENT', `event ${event.accountId}:${event.sequence} (${event.payload.type}): ${message}`);
}

/** The hold after `event` (already applied to its account), from the hold before it; null for an event that is not a hold's. */
export function applyHoldEvent(hold: HoldRecord | undefined, event: AccountEvent): HoldRecord | null {
  const payload = event.payload;
  if (payload.type === 'HoldPlaced') {
    if (hold !== undefined) fail(event, `hold ${payload.holdId} was already placed at sequence ${hold.placedSequence}`);
    if (!Number.isSafeInteger(payload.amount) || payload.amount <= 0) fail(event, 'amount must be a positive safe integer');
    if (!Number.isSafeInteger(payload.expiresAt)) fail(event, 'expiresAt must be a safe integer');
    return {
      holdId: payload.holdId,
      accountId: event.accountId,
      amount: payload.amount,
      status: 'ACTIVE',
      reference: payload.reference,
      expiresAt: payload.expiresAt,
      placedAt: event.occurredAt,
      placedSequence: event.sequence,
      capturedAmount: null,
      releasedAmount: null,
      closedAt: null,
      commandId: event.commandId,
      actor: event.actor ?? null,
    };
  }
  if (payload.type !== 'HoldCaptured' && payload.type !== 'HoldVoided' && payload.type !== 'HoldExpired') return null;
  if (hold === undefined) return fail(event, `hold ${payload.holdId} is unknown to the views`);
  if (hold.status !== 'ACTIVE') fail(event, `hold ${payload.holdId} is already ${hold.status}`);
  if (payload.type === 'HoldCaptured') {
    if (payload.amount > hold.amount) fail(event, `captures ${payload.amount} of a hold of ${hold.amount}`);
    return closed(hold, event, 'CAPTURED', payload.amount, hold.amount - payload.amount);
  }
  if (payload.amount !== hold.amount) fail(event, `releases ${payload.amount} of a hold of ${hold.amount}`);
  return closed(hold, event, payload.type === 'HoldVoided' ? 'VOIDED' : 'EXPIRED', null, hold.amount);
}

function closed(hold: HoldRecord, event: AccountEvent, status: HoldStatus, capturedAmount: number | null, releasedAmount: number): HoldRecord {
  return { ...hold, status, capturedAmount, releasedAmount, closedAt: event.occurredAt };
}
