// The internal commands of the sagas (transfers, transfer reversals): which commands are
// internal, and the command a decision's follow-up becomes, with its id derived from what caused
// it (DESIGN §8). Pure helpers of the processing loop (batch.ts).
import { metadataOf } from '../../schemas/metadata.ts';
import { creditCommandId, fingerprintOf, refundCommandId, reversalCreditCommandId, reversalDebitCommandId, reversalFailCommandId, settleCommandId } from '../../schemas/ids.ts';
import type { AccountEvent, Command, CommandPayload } from '../../schemas/types.ts';
import type { FollowUp } from './domain/index.ts';

export function transferIdOf(payload: CommandPayload): string | null {
  switch (payload.type) {
    case 'InitiateTransfer':
    case 'CreditTransfer':
    case 'RefundTransfer':
    case 'SettleTransfer':
    case 'DebitTransferReversal':
    case 'CreditTransferReversal':
    case 'FailTransferReversal':
      return payload.transferId;
    // A reversal's own record carries no transferId: the transferId index names initiations only.
    case 'ReverseTransaction':
    case 'OpenAccount':
    case 'Deposit':
    case 'Withdraw':
    case 'CloseAccount':
    case 'SetOverdraftLimit':
    case 'PlaceHold':
    case 'CaptureHold':
    case 'VoidHold':
    case 'ExpireHold':
      return null;
    default: {
      const unreachable: never = payload;
      return unreachable;
    }
  }
}

/** Internal commands: identified by what caused them and never refused for idempotency reasons (DESIGN §8). */
export function isInternal(payload: CommandPayload): boolean {
  switch (payload.type) {
    case 'CreditTransfer':
    case 'RefundTransfer':
    case 'SettleTransfer':
    case 'ExpireHold':
    case 'DebitTransferReversal':
    case 'CreditTransferReversal':
    case 'FailTransferReversal':
      return true;
    default:
      return false;
  }
}

/**
 * The id of the internal command a follow-up becomes, from what caused it: a credit from the
 * source's TransferDebited event, a settlement from the destination's TransferCredited event, a
 * refund from the refused credit command (itself derived from the debit); a transfer reversal's
 * debit from the source's TransferReversalRequested event, its credit or failure from that debit
 * command. Event ids are unique
 * forever, so no client retry at any age can make two follow-ups share an id.
 */
function followUpCommandId(followUp: FollowUp, cause: Command, events: AccountEvent[]): string {
  const causingEvent = events[0];
  switch (followUp.payload.type) {
    case 'CreditTransfer':
      if (causingEvent === undefined) throw new Error(`credit of transfer ${followUp.payload.transferId} has no debit event`);
      return creditCommandId(causingEvent.eventId);
    case 'SettleTransfer':
      if (causingEvent === undefined) throw new Error(`settlement of transfer ${followUp.payload.transferId} has no credit event`);
      return settleCommandId(causingEvent.eventId);
    case 'RefundTransfer':
      return refundCommandId(cause.commandId);
    case 'DebitTransferReversal':
      if (causingEvent === undefined) throw new Error(`reversal ${followUp.payload.reversalId} has no request event`);
      return reversalDebitCommandId(causingEvent.eventId);
    // Both ends of a transfer reversal derive from the destination's debit command, so whoever
    // knows the request (the gateway, from the reversal's outcome) can name them.
    case 'CreditTransferReversal':
      return reversalCreditCommandId(cause.commandId);
    case 'FailTransferReversal':
      return reversalFailCommandId(cause.commandId);
    default: {
      const unreachable: never = followUp.payload;
      return unreachable;
    }
  }
}

/** The internal command a saga follow-up becomes. */
export function followUpCommand(followUp: FollowUp, cause: Command, events: AccountEvent[], now: number): Command {
  const payload = followUp.payload;
  const meaning: Record<string, string | number | null> = { ...payload, accountId: followUp.accountId };
  // A follow-up carries the actor (DESIGN §9) and the metadata (§10) of the command that started
  // the saga: a transfer's credit, settlement and refund are described as its initiation was.
  return { commandId: followUpCommandId(followUp, cause, events), accountId: followUp.accountId, issuedAt: now, fingerprint: fingerprintOf(meaning), payload, actor: cause.actor, metadata: metadataOf(cause) };
}
