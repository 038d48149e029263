// The query processor's OpenAPI document (/docs), built by the gateway's openApiDocument from the
// same JSON schemas the routes validate with. A test checks every registered route is listed
// here, so the table cannot drift from the routes.
import type { FastifyInstance } from 'fastify';
import { docsRoutes, openApiDocument, serveDocs, type DocumentedRoute } from '../../gateway/openapi.ts';
import * as s from './http-schemas.ts';
import { streamBounds } from './event-stream.ts';
import { metadataFiltersMax } from './filters.ts';

const problem = (codes: string): [string, object] => [`problem+json: ${codes}`, s.problem];
const invalid = problem('VALIDATION_FAILED');
const lagging = problem('VIEW_LAGGING (Retry-After): ?minVersion not reached in time, or the partition is not served here yet');
const notFound = problem('ACCOUNT_NOT_FOUND');

export const queryRoutes: DocumentedRoute[] = [
  {
    method: 'GET', url: '/api/v1/accounts', operationId: 'listAccounts', summary: 'Accounts, cursor-paged; filtered by owner-name prefix, status, currency and metadata',
    description: `Add metadata.<key>=<value> (at most ${metadataFiltersMax}) to filter by account metadata. Without ownerName the page is ordered by accountId; with it, by owner name. A page of a selective filter may be short (even empty) with a nextCursor: follow it.`,
    schema: { querystring: s.accountsQuery }, responses: { 200: ['a page', s.pageOf(s.account)], 400: invalid },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id', operationId: 'getAccount', summary: 'An account as the views hold it',
    schema: { params: s.idParams, querystring: s.accountQuery }, responses: { 200: ['the account', s.account], 400: invalid, 404: notFound, 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id/balance', operationId: 'getBalance', summary: 'The balance now, or after the last event at or before ?asOf',
    schema: { params: s.idParams, querystring: s.balanceQuery }, responses: { 200: ['the balance', s.balance], 400: invalid, 404: problem('ACCOUNT_NOT_FOUND (also: not opened yet at asOf)'), 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id/history', operationId: 'getHistory', summary: 'Entries newest first, cursor-paged; filtered by type and time range',
    schema: { params: s.idParams, querystring: s.historyQuery }, responses: { 200: ['a page', s.pageOf(s.historyEntry)], 400: invalid, 404: notFound, 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id/statement', operationId: 'getStatement', summary: 'A statement of a time range: JSON, or CSV with Accept: text/csv or ?format=csv (streamed)',
    description: 'CSV header: sequence,occurredAt,type,amount,signedAmount,balanceAfter,reference,transferId,counterpartyAccountId,commandId,actor (RFC 4180). openingBalance + totalCredits - totalDebits = closingBalance.',
    schema: { params: s.idParams, querystring: s.statementQuery }, responses: { 200: ['the statement', s.statement, ['application/json', 'text/csv']], 400: invalid, 404: notFound, 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id/holds', operationId: 'listHolds', summary: 'The account\'s holds, newest placed first, cursor-paged; ?status=ACTIVE|CAPTURED|VOIDED|EXPIRED filters',
    schema: { params: s.idParams, querystring: s.holdsQuery }, responses: { 200: ['a page', s.pageOf(s.hold)], 400: invalid, 404: notFound, 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/accounts/:id/holds/:holdId', operationId: 'getHold', summary: 'One hold of the account',
    schema: { params: s.holdParams, querystring: s.accountQuery }, responses: { 200: ['the hold', s.hold], 400: invalid, 404: problem('ACCOUNT_NOT_FOUND, HOLD_NOT_FOUND'), 503: lagging },
  },
  {
    method: 'GET', url: '/api/v1/transfers/:id', operationId: 'getTransfer', summary: 'A transfer: pending, completed or failed',
    schema: { params: s.idParams }, responses: { 200: ['the transfer', s.transfer], 400: invalid, 404: problem('TRANSFER_NOT_FOUND') },
  },
  {
    method: 'GET', url: '/api/v1/events/stream', operationId: 'streamEvents', summary: 'Server-Sent Events of committed events as the views apply them; id <partition>:<offset>',
    description: `Send Last-Event-ID (or ?lastEventId) to resume after an event; the last ${streamBounds.resumeEventsMax} are kept for that, an older id resumes live after an "event: gap". A client that leaves ${streamBounds.clientBufferBytesMax} bytes unread is cut off; at most ${streamBounds.clientsMax} streams at once (defaults; STREAM_* variables).`,
    schema: { querystring: s.streamQuery }, responses: { 200: ['the event stream', { type: 'string' }, ['text/event-stream']], 400: invalid, 503: problem('UNAVAILABLE: too many streams') },
  },
  {
    method: 'GET', url: '/api/v1/system/health', operationId: 'systemHealth', summary: 'Lag per partition (applied vs log end), dead-letter topic size, events applied per second: the dashboard\'s health panel',
    schema: {}, responses: { 200: ['what this instance knows', s.systemHealth] },
  },
  { method: 'GET', url: '/', operationId: 'dashboard', summary: 'The operations dashboard (HTML; its scripts and styles are under /dashboard/). Public: the page asks for an API key', schema: {}, responses: { 200: ['the page', { type: 'string' }, ['text/html']] } },
  { method: 'GET', url: '/health', operationId: 'health', summary: 'The process is up', schema: {}, responses: { 200: ['up', s.health] } },
  { method: 'GET', url: '/ready', operationId: 'ready', summary: 'Every partition\'s views reached the log end (with rebuild progress)', schema: {}, responses: { 200: ['ready', s.readiness], 503: problem('VIEW_LAGGING, with partitions') } },
  ...docsRoutes,
];

const info = {
  title: 'kafka-ledger query processor',
  description:
    'Reads from the views the query processor folds from bank.events. Money is integer minor units, times ISO-8601. Pass ?minVersion=<version from the gateway> on account routes to read your own writes. ' +
    'Errors are application/problem+json; their codes are listed under x-error-codes and at /docs/errors.',
};

export function registerDocs(app: FastifyInstance): void {
  serveDocs(app, openApiDocument(queryRoutes, info));
}
