// What decide() returns: events to append, or a coded refusal; either may carry saga follow-ups
// (commands the processing loop sends to another account in the same Kafka transaction).
import type {
  CreditTransfer,
  CreditTransferReversal,
  DebitTransferReversal,
  FailTransferReversal,
  EventPayload,
  RefundTransfer,
  RejectionCode,
  SettleTransfer,
} from '../../../schemas/types.ts';

/** A saga step for another account. Its command id derives from what caused it (see batch.ts). */
export type FollowUp = { accountId: string; payload: CreditTransfer | RefundTransfer | SettleTransfer | DebitTransferReversal | CreditTransferReversal | FailTransferReversal };

export type Decision =
  | { kind: 'accepted'; events: EventPayload[]; followUps: FollowUp[] }
  | { kind: 'rejected'; code: RejectionCode; message: string; followUps: FollowUp[] };

export function accept(event: EventPayload, followUps: FollowUp[] = []): Decision {
  return { kind: 'accepted', events: [event], followUps };
}

export function reject(code: RejectionCode, message: string, followUps: FollowUp[] = []): Decision {
  return { kind: 'rejected', code, message, followUps };
}
