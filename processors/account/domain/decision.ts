// What decide() returns: events to append, or a coded refusal; either may carry saga follow-ups
// (commands the processing loop sends to another account in the same Kafka transaction).
import type {
  CreditTransfer,
  EventPayload,
  RefundTransfer,
  RejectionCode,
} from '../../../schemas/types.ts';

export type FollowUp = { accountId: string; payload: CreditTransfer | RefundTransfer };

export type Decision =
  | { kind: 'accepted'; events: EventPayload[]; followUps: FollowUp[] }
  | { kind: 'rejected'; code: RejectionCode; message: string; followUps: FollowUp[] };

export function accept(event: EventPayload, followUps: FollowUp[] = []): Decision {
  return { kind: 'accepted', events: [event], followUps };
}

export function reject(code: RejectionCode, message: string, followUps: FollowUp[] = []): Decision {
  return { kind: 'rejected', code, message, followUps };
}
