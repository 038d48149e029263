// An account's holds (DESIGN §11): the list, newest placed first, optionally by status, and one
// hold by id. Both seek the holds index of keys.ts (a filtered page reads what an unfiltered one
// does) and honour ?minVersion through accountRow, like every route under /accounts/:id.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { canonicalId } from '../http/edge.ts';
import { HttpProblem } from '../http/errors.ts';
import { decodeHoldsCursor, encodeHoldsCursor } from './cursor.ts';
import * as schemas from './http-schemas.ts';
import { anyHoldStatus } from './keys.ts';
import { accountRow, invalidCursor, iso, notServed, optionalNumber, pageLimit, type QueryAppDeps } from './routes.ts';
import { readsOf } from './routes-read.ts';
import type { HoldRecord } from './views/holds.ts';

type HoldsRequest = FastifyRequest<{ Params: { id: string }; Querystring: { limit: string; cursor?: string; minVersion?: string; status?: string } }>;
type HoldRequest = FastifyRequest<{ Params: { id: string; holdId: string }; Querystring: { minVersion?: string } }>;

const errors = { 400: schemas.problem, 404: schemas.problem, 503: schemas.problem };

export const renderHold = (h: HoldRecord) => ({
  holdId: h.holdId,
  accountId: h.accountId,
  amount: h.amount,
  status: h.status,
  reference: h.reference,
  expiresAt: iso(h.expiresAt),
  placedAt: iso(h.placedAt),
  capturedAmount: h.capturedAmount,
  releasedAmount: h.releasedAmount,
  closedAt: h.closedAt === null ? null : iso(h.closedAt),
  commandId: h.commandId,
  actor: h.actor,
});

async function holdsPage(deps: QueryAppDeps, request: HoldsRequest) {
  const accountId = canonicalId(request.params.id);
  const limit = pageLimit(request.query.limit);
  const status = request.query.status ?? anyHoldStatus;
  let before: number | null = null;
  if (request.query.cursor !== undefined) {
    const cursor = decodeHoldsCursor(request.query.cursor) ?? invalidCursor();
    if (cursor.accountId !== accountId) throw new HttpProblem('VALIDATION_FAILED', 'cursor belongs to the holds of another account');
    if (cursor.status !== status) throw new HttpProblem('VALIDATION_FAILED', 'cursor was issued for another status; page from the first page again');
    before = cursor.before;
  }
  await accountRow(deps, accountId, optionalNumber(request.query.minVersion), request.ip);
  // One more than the page: whether another page follows.
  const holds = await readsOf(deps.views, accountId).holds(accountId, status, before, limit + 1);
  if (holds === undefined) throw notServed(accountId);
  const items = holds.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = holds.length > limit && last !== undefined ? encodeHoldsCursor({ accountId, status, before: last.placedSequence }) : null;
  return { items: items.map(renderHold), nextCursor };
}

async function oneHold(deps: QueryAppDeps, request: HoldRequest) {
  const accountId = canonicalId(request.params.id);
  const holdId = canonicalId(request.params.holdId);
  await accountRow(deps, accountId, optionalNumber(request.query.minVersion), request.ip);
  const hold = await readsOf(deps.views, accountId).hold(accountId, holdId);
  if (hold === undefined) throw new HttpProblem('HOLD_NOT_FOUND', `account ${accountId} has no hold ${holdId}`, { accountId });
  return renderHold(hold);
}

export function registerHoldRoutes(app: FastifyInstance, deps: QueryAppDeps): void {
  const listSchema = { params: schemas.idParams, querystring: schemas.holdsQuery, response: { 200: schemas.pageOf(schemas.hold), ...errors } };
  app.get('/api/v1/accounts/:id/holds', { schema: listSchema }, async (request: HoldsRequest) => holdsPage(deps, request));
  const holdSchema = { params: schemas.holdParams, querystring: schemas.accountQuery, response: { 200: schemas.hold, ...errors } };
  app.get('/api/v1/accounts/:id/holds/:holdId', { schema: holdSchema }, async (request: HoldRequest) => oneHold(deps, request));
}
