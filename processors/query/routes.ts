// buildApp(deps): the query processor's HTTP surface without listening, so tests drive it with
// inject(). Reads come straight from the LevelDB views; `?minVersion=N` parks the request in the
// bounded waiters table until the consumer has written version N of the account (read your own
// writes), else 503 VIEW_LAGGING with Retry-After. Every error is problem+json with a code from
// the edge's one error registry, the framework's own answers included, and every route but the
// public ones (health, ready, metrics, docs) needs an API key with the `read` scope, the live
// event stream included: the shared edge (processors/http). Ids are case-insensitive: every route
// lower-cases them before hashing the account to its partition or looking anything up.
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import { canonicalId } from '../http/edge.ts';
import { HttpProblem, problemContentType } from '../http/errors.ts';
import type { ApiKeyDirectory } from '../http/api-keys.ts';
import { accessBounds, ledgerEdge, serverOptionsFor, type EdgeOptions } from '../http/plugin.ts';
import type { Logger } from '../log.ts';
import { decodeHistoryCursor } from './cursor.ts';
import { registerReadRoutes } from './routes-read.ts';
import { registerHoldRoutes } from './routes-holds.ts';
import { registerDashboard } from './routes-dashboard.ts';
import { registerSystemHealth, type SystemHealth } from './system.ts';
import { registerEventStream } from './routes-stream.ts';
import type { EventStream } from './event-stream.ts';
import { registerDocs } from './openapi.ts';
import * as schemas from './http-schemas.ts';
import type { ProgressReport } from './progress.ts';
import { unavailable, type Unavailable, type ViewReader } from './stores.ts';
import type { AccountSummary, HistoryEntry, TransferView } from './views/types.ts';
import type { VersionWaiters, WaiterRefusal } from './waiters.ts';
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
  /** Serves GET /api/v1/events/stream when given. */
  events?: EventStream;
  /** Serves GET /api/v1/system/health (the dashboard's health panel) when given. */
  system?: SystemHealth;
  /** The API keys this instance knows (DESIGN §9). */
  keys: ApiKeyDirectory;
  /** RATE_LIMIT_PER_SECOND (default 5000; 0: off). */
  rateLimitPerSecond?: number;
  /** CORS_ORIGINS; none: CORS off. */
  corsOrigins?: readonly string[];
}

/** The query service takes no bodies; whatever a client sends anyway is read this far at most. */
export const requestBodyBytesMax = 16 * 1024;

// Query parameters arrive as strings checked by pattern (http-schemas.ts); the routes convert them.
type IdRequest = FastifyRequest<{ Params: { id: string }; Querystring: { minVersion?: string } }>;

/** A page size, already digits by schema; its range is checked here so the message can name it. */
export function pageLimit(text: string): number {
  const limit = Number(text);
  if (limit < schemas.pageBounds.limitMin || limit > schemas.pageBounds.limitMax) {
    throw new HttpProblem('VALIDATION_FAILED', `querystring/limit must be ${schemas.pageBounds.limitMin} to ${schemas.pageBounds.limitMax}`);
  }
  return limit;
}

export const optionalNumber = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));

export const iso = (ms: number): string => new Date(ms).toISOString();
const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
/** The account as answered (DESIGN §11): with its available balance = balance − heldBalance + overdraftLimit. */
export const renderAccount = (a: AccountSummary) => ({ ...a, availableBalance: a.balance - a.heldBalance + a.overdraftLimit, openedAt: iso(a.openedAt), updatedAt: iso(a.updatedAt) });
export const renderEntry = (e: HistoryEntry) => ({
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
  actor: e.actor,
  metadata: e.metadata,
});
const renderTransfer = (t: TransferView) => ({ ...t, debitedAt: isoOrNull(t.debitedAt), creditedAt: isoOrNull(t.creditedAt), refundedAt: isoOrNull(t.refundedAt) });
const versionOf = (row: AccountSummary | undefined | Unavailable): number => (row === undefined || row === unavailable ? 0 : row.version);

export function notServed(accountId: string): HttpProblem {
  return new HttpProblem('VIEW_LAGGING', `the view of account ${accountId} is not available on this instance yet`, { accountId });
}

/**
 * A ?minVersion request the waiters table cannot park. 503 VIEW_LAGGING, not 429: DESIGN §5 has
 * no 429 code, and a read-your-writes client already handles VIEW_LAGGING by waiting Retry-After
 * and asking again, which is what it should do here.
 */
function notParked(accountId: string, minVersion: number, refusal: WaiterRefusal, deps: QueryAppDeps): HttpProblem {
  const detail = refusal === 'client'
    ? `this client already has ${deps.waiters.perClientMax} requests waiting for account versions (minVersionWaitersPerClientMax); retry after the others are answered`
    : `${deps.waiters.waitersMax} requests are already waiting for account versions (MIN_VERSION_WAITERS_MAX); retry shortly`;
  return new HttpProblem('VIEW_LAGGING', detail, { accountId, minVersion });
}

/** The account's row, after waiting for `minVersion` when asked; a problem when there is none. */
export async function accountRow(deps: QueryAppDeps, accountId: string, minVersion: number | undefined, client: string): Promise<AccountSummary> {
  let row = deps.views.account(accountId);
  if (minVersion !== undefined && versionOf(row) < minVersion) {
    const refusal = deps.waiters.refusal(client);
    if (refusal !== undefined) throw notParked(accountId, minVersion, refusal, deps);
    const reached = await deps.waiters.wait(accountId, minVersion, deps.minVersionWaitMs, () => versionOf(deps.views.account(accountId)), client);
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
  const edgeOptions: EdgeOptions = {
    bodyBytesMax: requestBodyBytesMax,
    keys: deps.keys,
    rateLimitPerSecond: deps.rateLimitPerSecond ?? accessBounds.perKeyPerSecondDefault,
    ...(deps.corsOrigins === undefined ? {} : { corsOrigins: deps.corsOrigins }),
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
    mapError: problemFor,
    onProblem: (request, problem, cause) => {
      if (problem.code === 'INTERNAL_ERROR') deps.log?.error('request failed', { method: request.method, url: request.url, error: String((cause as Error)?.stack ?? cause) });
    },
  };
  const app = Fastify({ logger: false, return503OnClosing: false, bodyLimit: requestBodyBytesMax, ...serverOptionsFor(edgeOptions) });
  // Problems, authentication, rate limits and /metrics: the edge both services share.
  app.register(ledgerEdge, edgeOptions);
  const errors = { 400: schemas.problem, 404: schemas.problem, 503: schemas.problem };

  const accountSchema = (answer: object) => ({ params: schemas.idParams, querystring: schemas.accountQuery, response: { 200: answer, ...errors } });
  const rowFor = (request: IdRequest) => accountRow(deps, canonicalId(request.params.id), optionalNumber(request.query.minVersion), request.ip);
  app.get('/api/v1/accounts/:id', { schema: accountSchema(schemas.account) }, async (request: IdRequest) => renderAccount(await rowFor(request)));
  // The list, balance, history and statement routes, with their filters (DESIGN §11).
  registerReadRoutes(app, deps);
  registerHoldRoutes(app, deps);
  if (deps.events !== undefined) registerEventStream(app, deps.events);
  if (deps.system !== undefined) registerSystemHealth(app, deps.system);
  registerDashboard(app);
  registerDocs(app);

  app.get('/api/v1/transfers/:id', { schema: { params: schemas.idParams, response: { 200: schemas.transfer, ...errors } } }, async (request: IdRequest) => {
    const transferId = canonicalId(request.params.id);
    const view = await deps.views.transfer(transferId);
    if (view === undefined) throw new HttpProblem('TRANSFER_NOT_FOUND', `transfer ${transferId} is not known to the views`);
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
  return app;
}

export function invalidCursor(): never {
  throw new HttpProblem('VALIDATION_FAILED', 'cursor is not one this service issued');
}

export function historyCursorFor(accountId: string, text: string): number {
  const cursor = decodeHistoryCursor(text) ?? invalidCursor();
  if (cursor.accountId !== accountId) throw new HttpProblem('VALIDATION_FAILED', 'cursor belongs to the history of another account');
  return cursor.before;
}

/** The views' own errors; everything else takes the edge's shared mapping. */
function problemFor(error: FastifyError): HttpProblem | undefined {
  // A partition's store closed under a read: the partition moved to another instance or is being rebuilt.
  if (error.code === 'LEVEL_DATABASE_NOT_OPEN') return new HttpProblem('VIEW_LAGGING', 'the view of this partition closed during the read; retry');
  return undefined;
}
