// The read side's filters (DESIGN §11), parsed from query strings into typed values, with every
// bound named. Anything malformed is a 400 VALIDATION_FAILED whose detail names the parameter:
// a filter never reaches the store unchecked, so a bad one can never become a 500.
import { HttpProblem } from '../http/errors.ts';
import type { EventType } from '../../schemas/types.ts';
import { metadataBounds, metadataKeyCharacters } from '../../schemas/metadata.ts';

/** DESIGN §10 allows 32 metadata keys per account: more filters than that could never all match. */
export const metadataFiltersMax = 32;
/** DESIGN §10's metadata key and value bounds (schemas/metadata.ts); a filter outside them could never match. */
export const metadataKeyPattern = new RegExp(`^[${metadataKeyCharacters}]{${metadataBounds.keyLengthMin},${metadataBounds.keyLengthMax}}$`);
export const metadataValueCharsMax = metadataBounds.valueLengthMax;
/** The gateway's ownerName bound (gateway/http-schemas.ts): a longer prefix could never match. */
export const ownerNamePrefixCharsMax = 200;

/**
 * Every event type the views know, so `?type=` can refuse a misspelt one instead of answering an
 * empty page. A Record over EventType: a new event type does not compile until it is listed here.
 */
const eventTypes: Record<EventType, true> = {
  AccountOpened: true,
  MoneyDeposited: true,
  MoneyWithdrawn: true,
  TransferDebited: true,
  TransferCredited: true,
  TransferRefunded: true,
  AccountClosed: true,
  TransferSettled: true,
  OverdraftLimitSet: true,
  HoldPlaced: true,
  HoldCaptured: true,
  HoldVoided: true,
  HoldExpired: true,
  TransactionReversed: true,
  TransferReversalRequested: true,
  TransferReversed: true,
  TransferReversalCredited: true,
  TransferReversalFailed: true,
};
export const knownEventTypes = Object.keys(eventTypes) as EventType[];

export interface AccountFilter {
  /** Lower case. */
  ownerNamePrefix?: string;
  status?: 'OPEN' | 'CLOSED';
  currency?: string;
  /** [key, value] pairs, each of which must match. */
  metadata: Array<[string, string]>;
}

export interface TimeRange {
  /** Epoch ms, inclusive; undefined: from the account's first event. */
  from?: number;
  /** Epoch ms, inclusive; undefined: up to its newest. */
  to?: number;
}

export interface HistoryFilter extends TimeRange {
  /** undefined: every type. */
  types?: EventType[];
}

type Query = Record<string, unknown>;

const invalid = (parameter: string, detail: string): never => {
  throw new HttpProblem('VALIDATION_FAILED', `querystring/${parameter} ${detail}`);
};

/** A parameter given once, as a string (a repeated one arrives as an array). */
function single(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return invalid(name, 'must be given once');
  return value;
}

const isoPattern = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** An ISO-8601 date (UTC midnight) or date-time with a zone, as epoch ms; a date that does not exist (02-30) is refused. */
export function parseInstant(name: string, text: string): number {
  const match = isoPattern.exec(text);
  const ms = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text);
  if (match === null || Number.isNaN(ms)) return invalid(name, `must be an ISO-8601 date or date-time with a zone (2024-03-31 or 2024-03-31T23:59:59Z), not "${text.slice(0, 64)}"`);
  const [, year, month, day, hour = '0', minute = '0', second = '0'] = match;
  const calendar = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  if (calendar.getUTCDate() !== Number(day) || Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return invalid(name, `is not a real date and time: "${text}"`);
  if (ms < 0) return invalid(name, 'must not be before 1970');
  return ms;
}

export function parseTimeRange(query: Query): TimeRange {
  const fromText = single(query, 'from');
  const toText = single(query, 'to');
  const from = fromText === undefined ? undefined : parseInstant('from', fromText);
  const to = toText === undefined ? undefined : parseInstant('to', toText);
  if (from !== undefined && to !== undefined && from > to) invalid('from', `(${fromText}) must not be after to (${toText})`);
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

export function parseHistoryFilter(query: Query): HistoryFilter {
  const range = parseTimeRange(query);
  const typeText = single(query, 'type');
  if (typeText === undefined) return range;
  const types = [...new Set(typeText.split(','))];
  const unknown = types.filter((t) => !(t in eventTypes));
  if (unknown.length > 0) invalid('type', `has unknown event types ${unknown.slice(0, 5).map((t) => JSON.stringify(t.slice(0, 40))).join(', ')}; known: ${knownEventTypes.join(', ')}`);
  return { ...range, types: types as EventType[] };
}

/** The accounts list's parameters besides limit and cursor; any other parameter is refused by name. */
export function parseAccountFilter(query: Query): AccountFilter {
  const filter: AccountFilter = { metadata: [] };
  const metadataNames = Object.keys(query).filter((name) => name.startsWith('metadata.'));
  if (metadataNames.length > metadataFiltersMax) invalid('metadata', `filters: at most ${metadataFiltersMax} (metadataFiltersMax), got ${metadataNames.length}`);
  for (const name of Object.keys(query)) {
    if (['limit', 'cursor', 'ownerName', 'status', 'currency'].includes(name) || name.startsWith('metadata.')) continue;
    invalid(name.slice(0, 64), 'is not a parameter of this route (limit, cursor, ownerName, status, currency, metadata.<key>)');
  }
  const ownerName = single(query, 'ownerName');
  if (ownerName !== undefined) {
    if (ownerName.length < 1 || ownerName.length > ownerNamePrefixCharsMax) invalid('ownerName', `must be 1 to ${ownerNamePrefixCharsMax} characters`);
    filter.ownerNamePrefix = ownerName.toLowerCase();
  }
  const status = single(query, 'status');
  if (status !== undefined) {
    if (status !== 'OPEN' && status !== 'CLOSED') invalid('status', 'must be OPEN or CLOSED');
    filter.status = status as 'OPEN' | 'CLOSED';
  }
  const currency = single(query, 'currency');
  if (currency !== undefined) {
    if (!/^[A-Za-z]{3}$/.test(currency)) invalid('currency', 'must be a three-letter ISO 4217 code');
    filter.currency = currency.toUpperCase();
  }
  for (const name of metadataNames) {
    const key = name.slice('metadata.'.length);
    if (!metadataKeyPattern.test(key)) invalid(name.slice(0, 64), 'names a metadata key that is not 1 to 40 characters of [A-Za-z0-9_.-]');
    const value = single(query, name) ?? '';
    // Characters are code points, as the gateway counts them: 500 emoji are 1000 UTF-16 units.
    if (value.length > metadataValueCharsMax && (value.length > 2 * metadataValueCharsMax || [...value].length > metadataValueCharsMax)) invalid(name, `must be at most ${metadataValueCharsMax} characters`);
    filter.metadata.push([key, value]);
  }
  return filter;
}

export const hasAccountFilter = (filter: AccountFilter): boolean =>
  filter.ownerNamePrefix !== undefined || filter.status !== undefined || filter.currency !== undefined || filter.metadata.length > 0;
