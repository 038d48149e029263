// buildApp(deps): the query processor's HTTP surface without listening, so tests drive it with
// inject(). Reads come straight from the LevelDB views; `?minVersion=N` parks the request in the
// bounded waiters table until the consumer has written version N of the account (read your own
// writes), else 503 VIEW_LAGGING with Retry-After. Every error is problem+json with a code from
// the edge's one error registry (gateway/errors.ts).
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { HttpProblem, problemContentType } from '../../gateway/errors.ts';
import { metricsContentType } from '../metrics.ts';
import type { Logger } from '../log.ts';
import { decodeAccountsCursor, decodeHistoryCursor, encodeAccountsCursor, encodeHistoryCursor } from './cursor.ts';
import * as schemas from './http-schemas.ts';
import type { ProgressReport } from './progress.ts';
import { unavailable, type Unavailable, type ViewReader } from './stores.ts';
import type { AccountSummary, HistoryEntry, TransferView } from './views/types.ts';
import type { VersionWaiters } from './waiters.ts';
import type { QueryMetrics } from './metrics.ts';

/** Seconds a client should wait before retrying a 503 VIEW_LAGGING. */
export const viewLaggingRetryAfterSeconds = 1;

export interface QueryAppDeps {
  views: ViewReader;
  waiters: VersionWaiters;
  readiness: () => ProgressReport;
  /** How long ?minVersion waits for the view (MIN_VERSION_WAIT_MS). */
  minVersionWaitMs: number;
  log?: Logger;
  /** Serves GET /metrics and times every request when given. */
  metrics?: QueryMetrics;
}

type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: { minVersion?: number } }>;
type HistoryRequest = FastifyRequest<{ Params: { id: string }; Querystring: { minVersion?: number; limit: number; cursor?: string } }>;
type PageRequest = FastifyRequest<{ Querystring: { limit: number; cursor?: string } }>;

const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
const renderAccount = (a: AccountSummary) => ({ ...a, openedAt: iso(a.openedAt), updatedAt: iso(a.updatedAt) });
const renderEntry = (e: HistoryEntry) => ({
  sequence: e.sequence,
  type: e.type,
  amount: e.amount,
  balanceAfter: e.balanceAfter,
  occurredAt: iso(e.occurredAt),
  commandId: e.commandId,
  transferId: e.transferId,
  counterpartyAccountId: e.counterpartyAccountId,
  reference: e.reference,
  reason: e.reason,
});
const renderTransfer = (t: TransferView) => ({ ...t, debitedAt: isoOrNull(t.debitedAt), creditedAt: isoOrNull(t.creditedAt), refundedAt: isoOrNull(t.refundedAt) });
const versionOf = (row: AccountSummary | undefined | Unavailable): number => (row === undefined || row === unavailable ? 0 : row.version);

function notServed(accountId: string): HttpProblem {
  return new HttpProblem('VIEW_LAGGING', `the view of account ${accountId} is not available on this instance yet`, { accountId });
}

/** The account's row, after waiting for `minVersion` when asked; a problem when there is none. */
async function accountRow(deps: QueryAppDeps, accountId: string, minVersion: number | undefined): Promise<AccountSummary> {
  let row = deps.views.account(accountId);
  if (minVersion !== undefined && versionOf(row) < minVersion) {
    const reached = await deps.waiters.wait(accountId, minVersion, deps.minVersionWaitMs, () => versionOf(deps.views.account(accountId)));
    row = deps.views.account(accountId);
    if (!reached) {
      const version = row === unavailable || row === undefined ? null : row.version;
      const detail = `the view has not applied version ${minVersion} of account ${accountId} within ${deps.minVersionWaitMs} ms`;
      throw new HttpProblem('VIEW_LAGGING', detail, { accountId, minVersion, version });
    }
  }
  if (row === unavailable) throw notServed(accountId);
  if (row === undefined) throw new HttpProblem('ACCOUNT_NOT_FOUND', `account ${accountId} does not exist`, { accountId });
  return row;
}

export function buildApp(deps: QueryAppDeps): FastifyInstance {
  // Request logging off: at tens of thousands of GETs a second it would cost more than the reads.
  const app = Fastify({ logger: false, return503OnClosing: false });
  app.setErrorHandler((error: FastifyError, request, reply) => sendProblem(deps, request, reply, problemFor(error), error));
  app.setNotFoundHandler((request, reply) => sendProblem(deps, request, reply, new HttpProblem('ROUTE_NOT_FOUND', `no route ${request.method} ${request.url}`)));
  const errors = { 400: schemas.problem, 404: schemas.problem, 503: schemas.problem };

  app.get('/api/v1/accounts', { schema: { querystring: schemas.pageQuery, response: { 200: schemas.pageOf(schemas.account), ...errors } } }, async (request: PageRequest) => {
    const { limit, cursor } = request.query;
    const after = cursor === undefined ? null : (decodeAccountsCursor(cursor) ?? invalidCursor()).after;
    const page = await deps.views.accounts(after, limit);
    return { items: page.items.map(renderAccount), nextCursor: page.lastKey === null ? null : encodeAccountsCursor({ after: page.lastKey }) };
  });

  const accountSchema = (answer: object) => ({ params: schemas.idParams, querystring: schemas.accountQuery, response: { 200: answer, ...errors } });
  app.get('/api/v1/accounts/:id', { schema: accountSchema(schemas.account) }, async (request: IdRequest) =>
    renderAccount(await accountRow(deps, request.params.id, request.query.minVersion)),
  );
  app.get('/api/v1/accounts/:id/balance', { schema: accountSchema(schemas.balance) }, async (request: IdRequest) => {
    const { accountId, currency, balance, version } = await accountRow(deps, request.params.id, request.query.minVersion);
    return { accountId, currency, balance, version };
  });

  const historySchema = { params: schemas.idParams, querystring: schemas.historyQuery, response: { 200: schemas.pageOf(schemas.historyEntry), ...errors } };
  app.get('/api/v1/accounts/:id/history', { schema: historySchema }, async (request: HistoryRequest) => {
    const { id } = request.params;
    const { limit, cursor, minVersion } = request.query;
    const before = cursor === undefined ? null : historyCursorFor(id, cursor);
    const account = await accountRow(deps, id, minVersion);
    const items = await deps.views.history(id, account.version, before, limit);
    if (items === unavailable) throw notServed(id);
    // Sequences run 1..version without gaps: the page ends the history when it reaches 1.
    const last = items[items.length - 1];
    const nextCursor = last !== undefined && last.sequence > 1 ? encodeHistoryCursor({ accountId: id, before: last.sequence }) : null;
    return { items: items.map(renderEntry), nextCursor };
  });

  app.get('/api/v1/transfers/:id', { schema: { params: schemas.idParams, response: { 200: schemas.transfer, ...errors } } }, async (request: IdRequest) => {
    const view = await deps.views.transfer(request.params.id);
    if (view === undefined) throw new HttpProblem('TRANSFER_NOT_FOUND', `transfer ${request.params.id} is not known to the views`);
    return renderTransfer(view);
  });

  app.get('/health', { schema: { response: { 200: schemas.health } } }, async () => ({ status: 'up' }));
  app.get('/ready', { schema: { response: { 200: schemas.readiness, 503: schemas.problem } } }, async (_request, reply) => {
    const report = deps.readiness();
    if (report.ready) return report;
    const problem = new HttpProblem('VIEW_LAGGING', 'not ready: the views have not caught up with the log yet', { partitions: report.partitions });
    reply.header('retry-after', String(viewLaggingRetryAfterSeconds));
    return reply.code(503).type(problemContentType).send(problem.toProblem());
  });
  if (deps.metrics !== undefined) serveMetrics(app, deps.metrics);
  return app;
}

const statusClasses = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

function serveMetrics(app: FastifyInstance, metrics: QueryMetrics): void {
  app.get('/metrics', async (_request, reply) => reply.type(metricsContentType).send(metrics.registry.render()));
  // By route template, never the raw URL, so the series stay bounded.
  app.addHook('onResponse', (request, reply, done) => {
    const status = statusClasses[Math.floor(reply.statusCode / 100)] ?? 'other';
    metrics.httpRequestSeconds.observe([request.routeOptions.url ?? 'unmatched', request.method, status], reply.elapsedTime / 1000);
    done();
  });
}

function invalidCursor(): never {
  throw new HttpProblem('VALIDATION_FAILED', 'cursor is not one this service issued');
}

function historyCursorFor(accountId: string, text: string): number {
  const cursor = decodeHistoryCursor(text) ?? invalidCursor();
  if (cursor.accountId !== accountId) throw new HttpProblem('VALIDATION_FAILED', 'cursor belongs to the history of another account');
  return cursor.before;
}

/** fastify's and our errors, as one of the registry's codes. */
function problemFor(error: FastifyError): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error.validation !== undefined) return new HttpProblem('VALIDATION_FAILED', error.message);
  // A partition's store closed under a read: the partition moved to another instance or is being rebuilt.
  if (error.code === 'LEVEL_DATABASE_NOT_OPEN') return new HttpProblem('VIEW_LAGGING', 'the view of this partition closed during the read; retry');
  const status = error.statusCode ?? 500;
  if (status === 404) return new HttpProblem('ROUTE_NOT_FOUND', error.message);
  if (status >= 400 && status < 500) return new HttpProblem('VALIDATION_FAILED', error.message);
  return new HttpProblem('INTERNAL_ERROR', 'the query processor failed unexpectedly; the error is logged');
}

function sendProblem(deps: QueryAppDeps, request: FastifyRequest, reply: FastifyReply, problem: HttpProblem, cause?: unknown): FastifyReply {
  if (problem.code === 'INTERNAL_ERROR') deps.log?.error('request failed', { method: request.method, url: request.url, error: String((cause as Error)?.stack ?? cause) });
  if (problem.status === 503) reply.header('retry-after', String(viewLaggingRetryAfterSeconds));
  return reply.code(problem.status).type(problemContentType).send(problem.toProblem());
}
