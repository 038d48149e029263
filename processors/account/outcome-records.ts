// A command's outcome as the processing loop first writes it (batch.ts): the idempotency record
// and the reply, with the account as the command left it. Every field is set (null when unused),
// so a record in the store reads exactly as its changelog copy decodes.
import { transferIdOf } from './follow-ups.ts';
import type { AccountState, Command, CommandOutcome } from '../../schemas/types.ts';

export function outcomeOf(command: Command, now: number, status: CommandOutcome['status'], code: string | null, message: string | null, state: AccountState | undefined): CommandOutcome {
  return {
    commandId: command.commandId,
    accountId: command.accountId,
    status,
    code,
    message,
    fingerprint: command.fingerprint,
    version: state?.version ?? 0,
    balance: state?.balance ?? null,
    transferId: transferIdOf(command.payload),
    eventSequences: [],
    processedAt: now,
    transferStatus: null,
    transferCode: null,
    availableBalance: state === undefined ? null : availableOf(state),
    overdraftLimit: state?.overdraftLimit ?? null,
    holdId: null,
    holdStatus: null,
    holdAmount: null,
    expiresAt: null,
    capturedAmount: null,
    reversalId: null,
    reversedCommandId: null,
    reversalStatus: null,
    reversalCode: null,
    amount: null,
    postingType: null,
    counterpartyAccountId: null,
  };
}

/** balance − heldBalance + overdraftLimit: what a debit may take (DESIGN §10). Safe: each term is at most the money maximum. */
export function availableOf(state: AccountState): number {
  return state.balance - state.heldBalance + state.overdraftLimit;
}
