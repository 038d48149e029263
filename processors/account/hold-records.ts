// A hold's record (DESIGN §10): the outcome of the command that placed it, kept forever like a
// transfer's initiation (ids that move money are unique forever), carrying the hold's current
// status. Pure helpers of the processing loop (batch.ts): from that record to what decide()
// needs, and from a hold step's decision to the fields its outcome and the record carry.
import type { HoldView } from './domain/index.ts';
import type { CaptureHold, CommandOutcome, CommandPayload, EventPayload, ExpireHold, HoldStatus, PlaceHold, VoidHold } from '../../schemas/types.ts';

/** Commands that act on an existing hold. */
export function isHoldStep(payload: CommandPayload): payload is CaptureHold | VoidHold | ExpireHold {
  return payload.type === 'CaptureHold' || payload.type === 'VoidHold' || payload.type === 'ExpireHold';
}

export function holdViewOf(record: CommandOutcome): HoldView {
  return {
    holdId: record.holdId ?? '',
    accountId: record.accountId,
    amount: record.holdAmount ?? 0,
    status: record.holdStatus ?? 'ACTIVE',
    expiresAt: record.expiresAt ?? 0,
  };
}

const statusAfter: Record<CaptureHold['type'] | VoidHold['type'] | ExpireHold['type'], HoldStatus> = {
  CaptureHold: 'CAPTURED',
  VoidHold: 'VOIDED',
  ExpireHold: 'EXPIRED',
};

type HoldFields = Pick<CommandOutcome, 'holdId' | 'holdStatus' | 'holdAmount' | 'expiresAt' | 'capturedAmount'>;

/** The hold fields of a hold command's outcome: its id always; its status, amount and expiry as they stand after it. */
export function holdFieldsOf(payload: PlaceHold | CaptureHold | VoidHold | ExpireHold, event: EventPayload | undefined, hold: CommandOutcome | undefined): HoldFields {
  if (payload.type === 'PlaceHold') {
    if (event?.type !== 'HoldPlaced') return { holdId: payload.holdId, holdStatus: null, holdAmount: payload.amount, expiresAt: null, capturedAmount: null };
    return { holdId: payload.holdId, holdStatus: 'ACTIVE', holdAmount: event.amount, expiresAt: event.expiresAt, capturedAmount: null };
  }
  const fields: HoldFields = {
    holdId: payload.holdId,
    holdStatus: hold?.holdStatus ?? null,
    holdAmount: hold?.holdAmount ?? null,
    expiresAt: hold?.expiresAt ?? null,
    capturedAmount: hold?.capturedAmount ?? null,
  };
  if (event === undefined) return fields;
  return { ...fields, holdStatus: statusAfter[payload.type], capturedAmount: event.type === 'HoldCaptured' ? event.amount : null };
}
