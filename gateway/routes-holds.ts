// The hold routes of DESIGN §10 (authorize, then capture or void; the processor expires them),
// as data like routes.ts: the same command execution, replies and error mapping.
import type { FastifyRequest } from 'fastify';
import type { CommandOutcome } from '../schemas/types.ts';
import { captureHoldCommand, placeHoldCommand, voidHoldCommand, type PlaceHoldRequest } from './commands.ts';
import * as s from './http-schemas.ts';
import type { Reply } from './replies.ts';
import { idempotencyKey, invalid, pending, problem, runCommand, unavailable, withKey, type RouteDeps, type RouteSpec } from './routes.ts';

const held = (o: CommandOutcome) => ({
  holdId: o.holdId,
  accountId: o.accountId,
  balance: o.balance,
  availableBalance: o.availableBalance,
  version: o.version,
  commandId: o.commandId,
});

async function placeHold(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const { id } = request.params as { id: string };
  const command = placeHoldCommand(id, request.body as PlaceHoldRequest, idempotencyKey(request), Date.now());
  const holdId = command.payload.type === 'PlaceHold' ? command.payload.holdId : '';
  return runCommand(
    deps,
    command,
    (o) => ({
      status: 201,
      body: { ...held(o), amount: o.holdAmount, status: 'ACTIVE', expiresAt: o.expiresAt === null ? null : new Date(o.expiresAt).toISOString() },
      headers: {},
    }),
    { holdId },
  );
}

async function captureHold(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const { id, holdId } = request.params as { id: string; holdId: string };
  const command = captureHoldCommand(id, holdId, request.body as { amount?: number } | undefined, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => ({ status: 200, body: { ...held(o), status: 'CAPTURED', capturedAmount: o.capturedAmount }, headers: {} }));
}

async function voidHold(request: FastifyRequest, deps: RouteDeps): Promise<Reply> {
  const { id, holdId } = request.params as { id: string; holdId: string };
  const command = voidHoldCommand(id, holdId, idempotencyKey(request), Date.now());
  return runCommand(deps, command, (o) => ({ status: 200, body: { ...held(o), status: 'VOIDED' }, headers: {} }));
}

/** A function, not a constant: routes.ts imports this module and calls it once its own helpers exist. */
export function holdRoutes(): RouteSpec[] {
  return [
    {
      method: 'POST', url: '/api/v1/accounts/:id/holds', operationId: 'placeHold', summary: 'Authorize: hold part of the available balance until expiresAt',
      schema: { ...withKey(s.placeHoldBody), params: s.accountParams },
      responses: { 201: ['hold placed', s.holdPlacedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, IDEMPOTENCY_KEY_REUSED'), 422: problem('INSUFFICIENT_FUNDS'), 503: unavailable },
      handle: placeHold,
    },
    {
      method: 'POST', url: '/api/v1/accounts/:id/holds/:holdId/capture', operationId: 'captureHold', summary: 'Capture all or part of an active hold (the rest is released); the money leaves the ledger',
      schema: { ...withKey(s.captureHoldBody), params: s.holdParams }, emptyBodyAllowed: true,
      responses: { 200: ['captured', s.holdCapturedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND, HOLD_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, HOLD_NOT_ACTIVE, IDEMPOTENCY_KEY_REUSED'), 422: problem('AMOUNT_EXCEEDS_HOLD, INSUFFICIENT_FUNDS'), 503: unavailable },
      handle: captureHold,
    },
    {
      method: 'POST', url: '/api/v1/accounts/:id/holds/:holdId/void', operationId: 'voidHold', summary: 'Release an active hold; no body',
      schema: { ...withKey(s.emptyBody), params: s.holdParams }, emptyBodyAllowed: true,
      responses: { 200: ['voided', s.holdVoidedSchema], 202: pending, 400: invalid, 404: problem('ACCOUNT_NOT_FOUND, HOLD_NOT_FOUND'), 409: problem('ACCOUNT_CLOSED, HOLD_NOT_ACTIVE, IDEMPOTENCY_KEY_REUSED'), 503: unavailable },
      handle: voidHold,
    },
  ];
}
