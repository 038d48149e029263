// The command routes of DESIGN §5, as data (method, url, schema, responses) plus a handler each:
// fastify registers them, openapi.ts documents them. A handler turns a validated request into a
// Command, answers from a remembered outcome or sends it and waits, then maps the outcome.
import { serverTiming, type RequestMarks } from './server-timing.ts';
import type { FastifyRequest } from 'fastify';
import { creditCommandIdOf } from './replies.ts';
import type { Command, CommandOutcome } from '../schemas/types.ts';
import {
  canonicalId,
  closeAccountCommand,
  moneyCommand,
  overdraftLimitCommand,
  openAccountCommand,
  transferCommand,
  type MoneyRequest,
  type OpenAccountRequest,
  type RequestOrigin,
  type TransferRequest,
} from './commands.ts';
import type { GatewayConfig } from './config.ts';
import { HttpProblem, UnavailableError, isRetriable, kafkaUnavailable } from '../processors/http/errors.ts';
import * as s from './http-schemas.ts';
import { holdRoutes } from './routes-holds.ts';
import { reversalRoutes } from './routes-reversals.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { CommandSink, OutcomeSource, ReceivedOutcome } from './ports.ts';
import {
  isTransferInitiation,
  outcomeReply,
  pendingReply,
  transferCompletedReply,
  transferFailedReply,
  transferProgress,
  type Reply,
} from './replies.ts';

export interface RouteDeps {
  commandSink: CommandSink;
  outcomes: OutcomeSource;
  config: GatewayConfig;
  metrics: GatewayMetrics;
}

export interface RouteSpec {
  method: 'GET' | 'POST';
  url: string;
  operationId: string;
  summary: string;
  schema: { body?: object; params?: object; headers?: object };
  /** Status → [description, schema]; problem statuses name the codes they carry. */
  responses: Record<number, [string, object?]>;
  /** POST close: an absent body counts as `{}`. */
  emptyBodyAllowed?: boolean;
  handle(request: FastifyRequest, deps: RouteDeps): Promise<Reply>;
}

export const problem = (codes: string): [string, object] => [`problem+json: ${codes}`, s.problemSchema];
export const unavailable = problem('UNAVAILABLE (Kafka or the schema registry unreachable, or too many waiting requests)');
export const invalid = problem('VALIDATION_FAILED, PAYLOAD_TOO_LARGE (413), UNSUPPORTED_MEDIA_TYPE (415)');
export const pending: [string, object] = ['no outcome within COMMAND_TIMEOUT_MS; Location names the command to poll', s.pendingSchema];

/** The API key that sent the request (its actor) and the Idempotency-Key scoped to it. */
export function idempotencyKey(request: FastifyRequest): RequestOrigin {
  const key = request.headers['idempotency-key'];
  return { actor: request.principal?.keyId ?? 'anonymous', key: typeof key === 'string' ? key : undefined };
}

/**
 * Answers from a remembered outcome, or sends the command and waits for its outcome until the
 * deadline (undefined: still pending). The waiter is registered before the send so an outcome
 * that arrives before send() returns is not missed.
 */
async function execute(deps: RouteDeps, command: Command, deadlineMs: number, marks?: RequestMarks): Promise<ReceivedOutcome | undefined> {
  const known = deps.outcomes.get(command.commandId);
  if (known !== undefined) return { outcome: known, replayed: true };
  const expectation = deps.outcomes.expect(command.commandId, command.fingerprint, deadlineMs - Date.now());
  try {
    await deps.commandSink.send(command);
    if (marks !== undefined) marks.ackedAt = Date.now();
    deps.metrics.commandsSent.inc([command.payload.type]);
  } catch (error) {
    expectation.cancel();
    deps.metrics.commandSendFailures.inc([command.payload.type]);
    // A 503 here is safe even if the command did land: a client retrying with the same
    // Idempotency-Key sends the same commandId, which the processor applies at most once.
    if (error instanceof UnavailableError) throw error;
    if (isRetriable(error)) throw kafkaUnavailable(error);
    throw error;
  }
  return expectation.result;
}

type Accepted = (outcome: CommandOutcome) => Reply | Promise<Reply>;

export async function runCommand(deps: RouteDeps, command: Command, accepted: Accepted, pendingExtra: Record<string, string> = {}): Promise<Reply> {
  const marks: RequestMarks = { arrivedAt: Date.now(), answeredAt: 0 };
  const deadlineMs = marks.arrivedAt + deps.config.commandTimeoutMs;
  const received = await execute(deps, command, deadlineMs, marks);
  if (received === undefined) return pendingReply(command.commandId, pendingExtra);
  return timed(deps, marks, received, await outcomeReply(received, command.fingerprint, accepted));
}

/** The reply with its Server-Timing header, when the gateway is configured to give one. */
function timed(deps: RouteDeps, marks: RequestMarks, received: ReceivedOutcome, reply: Reply): Reply {
  if (!deps.config.serverTiming) return reply;
  const header = serverTiming({ ...marks, ...(received.timing === undefined ? {} : { outcome: received.timing }), answeredAt: Date.now() });
  return { ...reply, headers: { ...reply.headers, 'server-timing': header } };
}

const balanceChanged = (type: 'Deposit' | 'Withdraw') => async (request: FastifyRequest, deps: RouteDeps): Promise<Reply> => {
  const { id } = request.params as { id: string };
  const command = moneyCommand(type, id, request.body as MoneyRequest, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => ({
    status: 200,
    body: { accountId: o.accountId, balance: o.balance, version: o.version, commandId: o.commandId },
    headers: {},
  }));
};

async function openAccount(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const body = request.body as OpenAccountRequest;
  const command = openAccountCommand(body, idempotencyKey(request), Date.now());
  const accepted = (o: CommandOutcome): Reply => ({
    status: 201,
    body: {
      accountId: o.accountId, ownerName: body.ownerName, currency: body.currency, balance: o.balance ?? body.initialBalance,
      overdraftLimit: o.overdraftLimit ?? body.overdraftLimit ?? 0, availableBalance: o.availableBalance, version: o.version, commandId: o.commandId,
    },
    headers: { location: `/api/v1/accounts/${o.accountId}` },
  });
  return runCommand(deps, command, accepted, { accountId: command.accountId });
}

async function closeAccount(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const { id } = request.params as { id: string };
  const command = closeAccountCommand(id, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => ({
    status: 200,
    body: { accountId: o.accountId, status: 'CLOSED', version: o.version, commandId: o.commandId },
    headers: {},
  }));
}

async function setOverdraftLimit(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const { id } = request.params as { id: string };
  const command = overdraftLimitCommand(id, request.body as { limit: number }, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => ({
    status: 200,
    body: { accountId: o.accountId, overdraftLimit: o.overdraftLimit, balance: o.balance, availableBalance: o.availableBalance, version: o.version, commandId: o.commandId },
    headers: {},
  }));
}

/** A transfer completes when the destination's credit is accepted; both waits share one budget. */
async function transfer(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const marks: RequestMarks = { arrivedAt: Date.now(), answeredAt: 0 };
  const deadlineMs = marks.arrivedAt + deps.config.commandTimeoutMs;
  const command = transferCommand(request.body as TransferRequest, idempotencyKey(request), Date.now());
  const { commandId } = command;
  const { transferId } = command.payload;
  const source = await execute(deps, command, deadlineMs, marks);
  if (source === undefined) return pendingReply(commandId, { transferId });
  // The stages are the source's; the wait for the destination's credit is in `reply`.
  return timed(deps, marks, source, await outcomeReply(source, command.fingerprint, (initiation) => creditReply(deps, initiation, deadlineMs)));
}

/**
 * The source debited: the answer is the transfer's final status if the source already knows it
 * (a retry after it settled or was refunded, at any age), else the destination's credit outcome
 * if it comes in time.
 */
async function creditReply(deps: RouteDeps, initiation: CommandOutcome, deadlineMs: number): Promise<Reply> {
  const { commandId } = initiation;
  const transferId = initiation.transferId ?? '';
  const known = finalStatusReply(initiation);
  if (known !== undefined) return known;
  const creditId = creditCommandIdOf(initiation);
  if (creditId === undefined) return pendingReply(commandId, { transferId });
  let credit: ReceivedOutcome | undefined;
  try {
    credit = await deps.outcomes.wait(creditId, undefined, deadlineMs - Date.now());
  } catch (error) {
    // The transfer is under way; too many waiters only means we cannot watch it finish.
    if (!(error instanceof UnavailableError)) throw error;
  }
  if (credit === undefined) return finalStatusReply(deps.outcomes.get(commandId) ?? initiation) ?? pendingReply(commandId, { transferId });
  if (credit.outcome.status === 'ACCEPTED') return transferCompletedReply(transferId, commandId);
  return transferFailedReply(credit.outcome, transferId, commandId);
}

/** The answer an initiation's own record gives once its transfer settled or was refunded. */
function finalStatusReply(initiation: CommandOutcome): Reply | undefined {
  const transferId = initiation.transferId ?? '';
  if (initiation.transferStatus === 'completed') return transferCompletedReply(transferId, initiation.commandId);
  if (initiation.transferStatus === 'failed') {
    return transferFailedReply({ ...initiation, status: 'REJECTED', code: initiation.transferCode, message: null }, transferId, initiation.commandId);
  }
  return undefined;
}

async function getCommand(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const commandId = canonicalId((request.params as { commandId: string }).commandId);
  const outcome = deps.outcomes.get(commandId);
  if (outcome === undefined) {
    if (!deps.outcomes.ready()) throw new UnavailableError('the gateway is not reading outcomes yet; retry shortly');
    throw new HttpProblem('COMMAND_NOT_FOUND', `no outcome is known for command ${commandId}: it is unknown, still being processed, or older than this gateway remembers`);
  }
  if (!isTransferInitiation(outcome) || outcome.status !== 'ACCEPTED') return { status: 200, body: outcome, headers: {} };
  const creditId = creditCommandIdOf(outcome);
  const progress = transferProgress(outcome, creditId === undefined ? undefined : deps.outcomes.get(creditId));
  return { status: 200, body: { ...outcome, transfer: progress }, headers: {} };
}

export const withKey = (body: object) => ({ body, headers: s.idempotencyHeaders });

const baseRoutes: RouteSpec[] = [
  {
    method: 'POST', url: '/api/v1/accounts', operationId: 'openAccount', summary: 'Open an account',
    schema: withKey(s.openAccountBody),
    responses: { 201: ['account opened', s.accountOpenedSchema], 202: pending, 400: invalid, 409: problem('ACCOUNT_ALREADY_EXISTS, IDEMPOTENCY_KEY_REUSED'), 503: unavailable },
    handle: openAccount,
  },
  {
    method: 'POST', url: '/api/v1/accounts/:id/deposit', operationId: 'deposit', summary: 'Deposit money',
    schema: { ...withKey(s.moneyBody), params: s.accountParams },
    responses: { 200: ['deposited', s.balanceChangedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, IDEMPOTENCY_KEY_REUSED'), 422: problem('AMOUNT_TOO_LARGE'), 503: unavailable },
    handle: balanceChanged('Deposit'),
  },
  {
    method: 'POST', url: '/api/v1/accounts/:id/withdraw', operationId: 'withdraw', summary: 'Withdraw money',
    schema: { ...withKey(s.moneyBody), params: s.accountParams },
    responses: { 200: ['withdrawn', s.balanceChangedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, IDEMPOTENCY_KEY_REUSED'), 422: problem('INSUFFICIENT_FUNDS'), 503: unavailable },
    handle: balanceChanged('Withdraw'),
  },
  {
    method: 'POST', url: '/api/v1/transfers', operationId: 'transfer', summary: 'Transfer money between accounts',
    schema: withKey(s.transferBody),
    responses: {
      201: ['completed: the destination was credited', s.transferCompletedSchema], 202: pending, 400: invalid,
      404: ['ACCOUNT_NOT_FOUND: at the source (problem+json), or at the destination (the transfer failed and was refunded)', s.transferFailedSchema],
      409: problem('ACCOUNT_CLOSED (source, or destination: failed), IDEMPOTENCY_KEY_REUSED'),
      422: problem('INSUFFICIENT_FUNDS, SAME_ACCOUNT_TRANSFER; CURRENCY_MISMATCH, AMOUNT_TOO_LARGE at the destination (failed)'), 503: unavailable,
    },
    handle: transfer,
  },
  {
    method: 'POST', url: '/api/v1/accounts/:id/close', operationId: 'closeAccount', summary: 'Close an account (balance must be 0); no body',
    schema: { ...withKey(s.emptyBody), params: s.accountParams }, emptyBodyAllowed: true,
    responses: { 200: ['closed', s.accountClosedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, ACCOUNT_NOT_EMPTY, IDEMPOTENCY_KEY_REUSED'), 503: unavailable },
    handle: closeAccount,
  },
  {
    method: 'POST', url: '/api/v1/accounts/:id/overdraft-limit', operationId: 'setOverdraftLimit', summary: 'Set how far below 0 debits may take the balance (a limit below the current debt blocks further debits)',
    schema: { ...withKey(s.overdraftLimitBody), params: s.accountParams },
    responses: { 200: ['limit set', s.overdraftLimitSetSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, IDEMPOTENCY_KEY_REUSED'), 503: unavailable },
    handle: setOverdraftLimit,
  },
  {
    method: 'GET', url: '/api/v1/commands/:commandId', operationId: 'getCommand', summary: "A command's outcome",
    schema: { params: s.commandParams },
    responses: { 200: ['the outcome', s.outcomeSchema], 400: problem('VALIDATION_FAILED'), 404: problem('COMMAND_NOT_FOUND'), 503: unavailable },
    handle: getCommand,
  },
];

/** Every command route: the base ones here, the holds' in routes-holds.ts, the reversals' in routes-reversals.ts. */
export const commandRoutes: RouteSpec[] = [...baseRoutes, ...holdRoutes(), ...reversalRoutes()];
