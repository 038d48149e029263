// From an outcome (or its absence) to the HTTP answer of DESIGN §5. Pure: no Kafka, no fastify.
import { creditCommandId } from '../schemas/ids.ts';
import type { CommandOutcome } from '../schemas/types.ts';
import { errorRegistry, isRejectionCode, problemOf, problemType, type Problem } from '../processors/http/errors.ts';
import type { ReceivedOutcome } from './ports.ts';

export interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

export const replayedResponseHeader = 'idempotent-replayed';
export const commandLocation = (commandId: string): string => `/api/v1/commands/${commandId}`;

/** A rejected outcome as problem+json with its code's status (404/409/422). */
export function rejectionProblem(outcome: CommandOutcome): { status: number; problem: Problem } {
  const code = outcome.code ?? 'REJECTED';
  if (isRejectionCode(code)) {
    const problem = problemOf(code, outcome.message ?? errorRegistry[code].title, { commandId: outcome.commandId });
    return { status: problem.status, problem };
  }
  // A code this gateway does not know yet (a newer processor): still a refusal, never a 500.
  const status = 422;
  const problem: Problem = { type: problemType(code), title: 'Command rejected', status, code, detail: outcome.message ?? code, commandId: outcome.commandId };
  return { status, problem };
}

/** The original outcome of this commandId was for another request: the key was reused. */
function keyReusedReply(commandId: string): Reply {
  const problem = problemOf('IDEMPOTENCY_KEY_REUSED', `the Idempotency-Key was already used for a different request (command ${commandId})`, { commandId });
  return { status: problem.status, body: problem, headers: {} };
}

/**
 * The answer for a command's outcome: 409 when it belongs to a different request under the same
 * key, the problem of a rejection, or `accepted(outcome)`; replays carry Idempotent-Replayed.
 */
export async function outcomeReply(
  received: ReceivedOutcome,
  fingerprint: string,
  accepted: (outcome: CommandOutcome) => Reply | Promise<Reply>,
): Promise<Reply> {
  const { outcome, replayed } = received;
  if (outcome.fingerprint !== fingerprint) return keyReusedReply(outcome.commandId);
  if (outcome.code === 'IDEMPOTENCY_KEY_REUSED') return rejectionReply(outcome);
  const reply = outcome.status === 'ACCEPTED' ? await accepted(outcome) : rejectionReply(outcome);
  return replayed ? { ...reply, headers: { ...reply.headers, [replayedResponseHeader]: 'true' } } : reply;
}

function rejectionReply(outcome: CommandOutcome): Reply {
  const { status, problem } = rejectionProblem(outcome);
  return { status, body: problem, headers: {} };
}

/** No outcome within the command timeout: accepted for processing, poll the command. */
export function pendingReply(commandId: string, extra: Record<string, string> = {}): Reply {
  return { status: 202, body: { commandId, ...extra, status: 'pending' }, headers: { location: commandLocation(commandId) } };
}

export function transferCompletedReply(transferId: string, commandId: string): Reply {
  return { status: 201, body: { transferId, status: 'completed', commandId }, headers: {} };
}

/**
 * The destination refused the credit (and the source refunds it): the destination's code and its
 * HTTP status. DESIGN §5 fixes `status: "failed"` in the body, so here (only here) the problem's
 * `status` member is the transfer's status, not the HTTP status, which is in the status line.
 */
export function transferFailedReply(credit: CommandOutcome, transferId: string, commandId: string): Reply {
  const { status, problem } = rejectionProblem(credit);
  return { status, body: { ...problem, status: 'failed', transferId, commandId }, headers: {} };
}

export type TransferProgress = { transferId: string; status: 'pending' | 'completed' | 'failed'; code?: string };

/** Whether an outcome is the accepted source side of a transfer (not its internal credit, refund or settlement). */
export function isTransferInitiation(outcome: CommandOutcome): outcome is CommandOutcome & { transferId: string } {
  return outcome.transferId !== null && outcome.transferStatus !== null;
}

/** The credit's command id: caused by the initiation's TransferDebited event (DESIGN §8). */
export function creditCommandIdOf(initiation: CommandOutcome): string | undefined {
  const debitSequence = initiation.eventSequences[0];
  return debitSequence === undefined ? undefined : creditCommandId(`${initiation.accountId}:${debitSequence}`);
}

/** How far an initiated transfer got: its own record once final, else the credit's outcome if it is known. */
export function transferProgress(initiation: CommandOutcome & { transferId: string }, credit: CommandOutcome | undefined): TransferProgress {
  const transferId = initiation.transferId;
  if (initiation.transferStatus === 'completed') return { transferId, status: 'completed' };
  if (initiation.transferStatus === 'failed') return { transferId, status: 'failed', ...(initiation.transferCode === null ? {} : { code: initiation.transferCode }) };
  if (credit === undefined) return { transferId, status: 'pending' };
  if (credit.status === 'ACCEPTED') return { transferId, status: 'completed' };
  return { transferId, status: 'failed', ...(credit.code === null ? {} : { code: credit.code }) };
}
