// The reversal route of DESIGN §10, as data like routes.ts: the same command execution, replies
// and error mapping. A deposit, withdrawal or capture is reversed by its account alone, so the
// first outcome is final. A transfer's reversal is a saga (the destination pays back, then the
// source is credited): like a transfer POST, the answer waits, within the same command timeout,
// for the destination's debit and then the source's credit, whose ids derive from the reversal's
// own outcome (its TransferReversalRequested event); a retry at any age answers from the
// reversal's record, which carries its final status.
import type { FastifyRequest } from 'fastify';
import { reversalCreditCommandId, reversalDebitCommandId } from '../schemas/ids.ts';
import type { CommandOutcome } from '../schemas/types.ts';
import { UnavailableError } from '../processors/http/errors.ts';
import { reversalCommand } from './commands.ts';
import * as s from './http-schemas.ts';
import type { ReceivedOutcome } from './ports.ts';
import { pendingReply, rejectionProblem, type Reply } from './replies.ts';
import { idempotencyKey, invalid, problem, runCommand, unavailable, withKey, type RouteDeps, type RouteSpec } from './routes.ts';

const uuid = s.commandParams.properties.commandId;

export const reverseBody = {
  type: 'object',
  required: ['commandId'],
  additionalProperties: false,
  properties: {
    commandId: { ...uuid, description: 'the command that posted the transaction on this account (for a transfer: its InitiateTransfer, at the source)' },
    reason: { ...s.moneyBody.properties.reference, description: 'why, free text; kept on the reversal events' },
  },
} as const;

const reversalAnswer = {
  reversalId: uuid,
  accountId: uuid,
  reversedCommandId: uuid,
  amount: s.moneyBody.properties.amount,
  balance: s.balanceChangedSchema.properties.balance,
  version: s.balanceChangedSchema.properties.version,
  commandId: uuid,
} as const;

export const reversalCompletedSchema = { type: 'object', properties: { ...reversalAnswer, status: { const: 'completed' } } } as const;

export const reversalFailedSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail', 'reversalId'],
  description: "a transfer reversal the destination could not pay: nothing moved; `status` is \"failed\", the HTTP status is the code's",
  properties: { ...s.problemSchema.properties, status: { const: 'failed' }, reversalId: uuid, reversedCommandId: uuid },
} as const;

const reversalPending: [string, object] = [
  'no final status within COMMAND_TIMEOUT_MS (a transfer reversal under way); Location names the command to poll',
  { ...s.pendingSchema, properties: { ...s.pendingSchema.properties, reversalId: uuid } },
];

function completedReply(reversal: CommandOutcome, landing: Pick<CommandOutcome, 'balance' | 'version'> = reversal): Reply {
  const { reversalId, accountId, reversedCommandId, amount, commandId } = reversal;
  return { status: 201, body: { reversalId, accountId, reversedCommandId, amount, status: 'completed', balance: landing.balance, version: landing.version, commandId }, headers: {} };
}

/** The destination's code and its HTTP status; as for a failed transfer, the body's `status` is the reversal's ("failed"). */
function failedReply(refusal: CommandOutcome, reversal: CommandOutcome): Reply {
  const { status, problem } = rejectionProblem(refusal);
  return { status, body: { ...problem, status: 'failed', reversalId: reversal.reversalId, reversedCommandId: reversal.reversedCommandId, commandId: reversal.commandId }, headers: {} };
}

/** The answer a reversal's own record gives once it is final (at once for an account-level one). */
function finalReply(reversal: CommandOutcome): Reply | undefined {
  if (reversal.reversalStatus === 'completed') return completedReply(reversal);
  if (reversal.reversalStatus === 'failed') return failedReply({ ...reversal, status: 'REJECTED', code: reversal.reversalCode ?? null, message: null }, reversal);
  return undefined;
}

async function waitFor(deps: RouteDeps, commandId: string, deadlineMs: number): Promise<ReceivedOutcome | undefined> {
  try {
    return await deps.outcomes.wait(commandId, undefined, deadlineMs - Date.now());
  } catch (error) {
    // The reversal is under way; too many waiters only means we cannot watch it finish.
    if (!(error instanceof UnavailableError)) throw error;
    return undefined;
  }
}

/** A transfer reversal: the destination's debit decides it, the source's credit ends it. */
async function sagaReply(deps: RouteDeps, reversal: CommandOutcome, deadlineMs: number): Promise<Reply> {
  const known = finalReply(reversal);
  if (known !== undefined) return known;
  const stillPending = (): Reply => finalReply(deps.outcomes.get(reversal.commandId) ?? reversal) ?? pendingReply(reversal.commandId, { reversalId: reversal.reversalId ?? '' });
  const requestSequence = reversal.eventSequences[0];
  if (requestSequence === undefined) return stillPending();
  const debitId = reversalDebitCommandId(`${reversal.accountId}:${requestSequence}`);
  const debit = await waitFor(deps, debitId, deadlineMs);
  if (debit === undefined) return stillPending();
  if (debit.outcome.status === 'REJECTED') return failedReply(debit.outcome, reversal);
  const credit = await waitFor(deps, reversalCreditCommandId(debitId), deadlineMs);
  if (credit === undefined || credit.outcome.status !== 'ACCEPTED') return stillPending();
  return completedReply(reversal, credit.outcome);
}

async function reverse(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const deadlineMs = Date.now() + deps.config.commandTimeoutMs;
  const { id } = request.params as { id: string };
  const command = reversalCommand(id, request.body as { commandId: string; reason?: string }, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => sagaReply(deps, o, deadlineMs), { reversalId: command.payload.reversalId });
}

/** A function, not a constant: routes.ts imports this module and calls it once its own helpers exist. */
export function reversalRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST', url: '/api/v1/accounts/:id/reversals', operationId: 'reverseTransaction',
      summary: 'Reverse a deposit, withdrawal, hold capture or completed transfer (at its source), at most once, at any age',
      schema: { ...withKey(reverseBody), params: s.accountParams },
      responses: {
        201: ['reversed', reversalCompletedSchema], 202: reversalPending, 400: invalid,
        404: ['ACCOUNT_NOT_FOUND, TRANSACTION_NOT_FOUND (problem+json); ACCOUNT_NOT_FOUND at the destination (a failed transfer reversal)', reversalFailedSchema],
        409: problem('ACCOUNT_CLOSED (or the destination: failed), ALREADY_REVERSED, IDEMPOTENCY_KEY_REUSED'),
        422: ['NOT_REVERSIBLE, INSUFFICIENT_FUNDS (a deposit reversal; or the destination: failed), AMOUNT_TOO_LARGE (problem+json)', reversalFailedSchema],
        503: unavailable,
      },
      handle: reverse,
    },
  ];
}
