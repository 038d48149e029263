// The read routes with filters (DESIGN §6 and §11): the account list (owner-name prefix, status,
// currency, metadata), balance now or as of a time, history by type and time range, and
// statements as JSON or CSV. Filtered reads seek the indexes of keys.ts, so a filtered page reads
// about what an unfiltered one does; every account route honours ?minVersion through accountRow.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalId } from '../http/edge.ts';
import { HttpProblem } from '../http/errors.ts';
import { decodeAccountsCursor, decodeFilteredAccountsCursor, encodeAccountsCursor, encodeFilteredAccountsCursor, encodeHistoryCursor } from './cursor.ts';
import { hasAccountFilter, parseAccountFilter, parseHistoryFilter, parseInstant, parseTimeRange, type AccountFilter, type HistoryFilter } from './filters.ts';
import * as schemas from './http-schemas.ts';
import { accountRow, historyCursorFor, invalidCursor, iso, notServed, optionalNumber, pageLimit, renderAccount, renderEntry, type QueryAppDeps } from './routes.ts';
import { csvStatement, jsonStatement, statementRange } from './statement.ts';
import { unavailable, type ViewReader } from './stores.ts';
import type { StoreReads } from './store-reads.ts';
import type { AccountSummary, HistoryEntry } from './views/types.ts';

type Query = Record<string, string | undefined>;
type ListRequest = FastifyRequest<{ Querystring: Query & { limit: string } }>;
type AccountRequest = FastifyRequest<{ Params: { id: string }; Querystring: Query }>;
type HistoryRequest = FastifyRequest<{ Params: { id: string }; Querystring: Query & { limit: string } }>;

const errors = { 400: schemas.problem, 404: schemas.problem, 503: schemas.problem };

/** A cursor is bound to the filters it was issued for: another filter set would resume at a meaningless place. */
const filtersDigest = (filter: AccountFilter): string => createHash('sha256').update(JSON.stringify(filter)).digest('base64url').slice(0, 16);

/** The indexed reads of the account's partition; VIEW_LAGGING when this instance does not serve it. */
export function readsOf(views: ViewReader, accountId: string): StoreReads {
  const reads = views.reads(accountId);
  if (reads === unavailable) throw notServed(accountId);
  return reads;
}

const accountOf = (deps: QueryAppDeps, request: AccountRequest): Promise<AccountSummary> =>
  accountRow(deps, canonicalId(request.params.id), optionalNumber(request.query.minVersion), request.ip);

async function accountsPage(deps: QueryAppDeps, query: Query, limit: number) {
  const filter = parseAccountFilter(query);
  const { cursor } = query;
  if (!hasAccountFilter(filter)) {
    const after = cursor === undefined ? null : (decodeAccountsCursor(cursor) ?? invalidCursor()).after;
    const page = await deps.views.accounts(after, limit);
    return { items: page.items.map(renderAccount), nextCursor: page.lastKey === null ? null : encodeAccountsCursor({ after: page.lastKey }) };
  }
  const filters = filtersDigest(filter);
  let after: string | null = null;
  if (cursor !== undefined) {
    const decoded = decodeFilteredAccountsCursor(cursor) ?? invalidCursor();
    if (decoded.filters !== filters) throw new HttpProblem('VALIDATION_FAILED', 'cursor was issued for other filters; page from the first page again');
    after = decoded.after;
  }
  const page = await deps.views.filteredAccounts(filter, after, limit);
  return { items: page.items.map(renderAccount), nextCursor: page.lastKey === null ? null : encodeFilteredAccountsCursor({ filters, after: page.lastKey }) };
}

/**
 * A page of filtered history, newest first, below `before`: the time range becomes a sequence
 * range (two seeks of the time index), the types one seek each of the type index; limit + 1
 * sequences say whether another page follows.
 */
async function filteredHistory(reads: StoreReads, account: AccountSummary, filter: HistoryFilter, before: number | null, limit: number) {
  const { accountId, version } = account;
  // Both seeks at once: a page's latency is one seek, not two.
  const [lastBeforeTo, firstFrom] = await Promise.all([
    filter.to === undefined ? version : reads.sequenceAtOrBefore(accountId, filter.to),
    filter.from === undefined ? 1 : reads.sequenceAtOrAfter(accountId, filter.from),
  ]);
  const high = Math.min(version, before === null ? version : before - 1, lastBeforeTo ?? 0);
  const low = firstFrom ?? version + 1;
  const sequences = filter.types !== undefined
    ? await reads.sequencesOfTypes(accountId, filter.types, low, high, limit + 1)
    : Array.from({ length: Math.max(0, Math.min(limit + 1, high - low + 1)) }, (_, i) => high - i);
  const page = sequences.slice(0, limit);
  const items = await reads.entries(accountId, page);
  if (items === undefined) throw notServed(accountId);
  const last = page[page.length - 1];
  return { items, nextCursor: sequences.length > limit && last !== undefined ? encodeHistoryCursor({ accountId, before: last }) : null };
}

async function history(deps: QueryAppDeps, request: HistoryRequest) {
  const id = canonicalId(request.params.id);
  const limit = pageLimit(request.query.limit);
  const filter = parseHistoryFilter(request.query);
  const before = request.query.cursor === undefined ? null : historyCursorFor(id, request.query.cursor);
  const account = await accountOf(deps, request);
  let page: { items: HistoryEntry[]; nextCursor: string | null };
  if (filter.types === undefined && filter.from === undefined && filter.to === undefined) {
    const items = await deps.views.history(id, account.version, before, limit);
    if (items === unavailable) throw notServed(id);
    // Sequences run 1..version without gaps: the page ends the history when it reaches 1.
    const last = items[items.length - 1];
    page = { items, nextCursor: last !== undefined && last.sequence > 1 ? encodeHistoryCursor({ accountId: id, before: last.sequence }) : null };
  } else {
    page = await filteredHistory(readsOf(deps.views, id), account, filter, before, limit);
  }
  return { items: page.items.map(renderEntry), nextCursor: page.nextCursor };
}

/** The balance after the last event at or before `asOf`; 404 before the account opened. */
async function balanceAsOf(deps: QueryAppDeps, account: AccountSummary, asOf: number) {
  const reads = readsOf(deps.views, account.accountId);
  const sequence = Math.min(account.version, (await reads.sequenceAtOrBefore(account.accountId, asOf)) ?? 0);
  if (sequence < 1) throw new HttpProblem('ACCOUNT_NOT_FOUND', `account ${account.accountId} had not been opened at ${iso(asOf)}`, { accountId: account.accountId });
  const [entry] = (await reads.entries(account.accountId, [sequence])) ?? [];
  if (entry === undefined) throw notServed(account.accountId);
  return { accountId: account.accountId, balance: entry.balanceAfter, version: sequence, asOf: iso(asOf) };
}

const wantsCsv = (request: AccountRequest): boolean =>
  request.query.format === 'csv' || (request.query.format === undefined && /(^|,)\s*text\/csv\b/i.test(request.headers.accept ?? ''));

async function statement(deps: QueryAppDeps, request: AccountRequest, reply: FastifyReply) {
  const timeRange = parseTimeRange(request.query);
  const account = await accountOf(deps, request);
  const reads = readsOf(deps.views, account.accountId);
  const range = await statementRange(reads, account, timeRange);
  if (wantsCsv(request)) {
    reply.header('content-disposition', `attachment; filename="statement-${account.accountId}.csv"`);
    return reply.type('text/csv; charset=utf-8; header=present').send(csvStatement(reads, account.accountId, range));
  }
  const head = { accountId: account.accountId, currency: account.currency, from: iso(timeRange.from ?? account.openedAt), to: iso(timeRange.to ?? Date.now()) };
  return reply.type('application/json; charset=utf-8').send(jsonStatement(reads, head, range));
}

export function registerReadRoutes(app: FastifyInstance, deps: QueryAppDeps): void {
  app.get('/api/v1/accounts', { schema: { querystring: schemas.accountsQuery, response: { 200: schemas.pageOf(schemas.account), ...errors } } }, async (request: ListRequest) =>
    accountsPage(deps, request.query, pageLimit(request.query.limit)),
  );
  const balanceSchema = { params: schemas.idParams, querystring: schemas.balanceQuery, response: { 200: schemas.balance, ...errors } };
  app.get('/api/v1/accounts/:id/balance', { schema: balanceSchema }, async (request: AccountRequest) => {
    const asOf = request.query.asOf === undefined ? undefined : parseInstant('asOf', request.query.asOf);
    const account = await accountOf(deps, request);
    if (asOf !== undefined) return balanceAsOf(deps, account, asOf);
    const { accountId, currency, balance, version } = account;
    return { accountId, currency, balance, version };
  });
  const historySchema = { params: schemas.idParams, querystring: schemas.historyQuery, response: { 200: schemas.pageOf(schemas.historyEntry), ...errors } };
  app.get('/api/v1/accounts/:id/history', { schema: historySchema }, async (request: HistoryRequest) => history(deps, request));
  const statementSchema = { params: schemas.idParams, querystring: schemas.statementQuery, response: errors };
  app.get('/api/v1/accounts/:id/statement', { schema: statementSchema }, async (request: AccountRequest, reply) => statement(deps, request, reply));
}
