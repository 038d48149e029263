// JSON schemas of every query route: what it accepts and what it answers. fastify validates
// requests with them (a bad limit, cursor, version or id is 400 VALIDATION_FAILED) and
// serializes answers with them (fast-json-stringify, which also keeps internal fields out).

import { problemSchema } from '../http/errors.ts';

/** DESIGN §6: pages hold 1 to 1000 entries, 100 unless asked. */
/** A filtered list's cursor holds an owner name (up to 200 characters, JSON-escaped): hence 4 KiB. */
export const pageBounds = { limitMin: 1, limitMax: 1000, limitDefault: 100, cursorLengthMax: 4096 } as const;

const uuid = { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' } as const;
const money = { type: 'integer', description: 'minor units (cents)' } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;
const nullableString = { type: ['string', 'null'] } as const;
const nullableTimestamp = { type: ['string', 'null'], format: 'date-time' } as const;
/** DESIGN §10: string → string ({} when none was given); an object of strings for fast-json-stringify. */
const metadata = (what: string) => ({ type: 'object', additionalProperties: { type: 'string' }, description: what }) as const;
// Query parameters stay strings, checked by pattern and converted by the routes: ajv's coercion
// let "1e400" through as Infinity (which then broke the 503 body: a 500), " 5" and "0x10" as
// numbers. Decimal digits only, no sign, no exponent, no leading zero.
const minVersion = {
  type: 'string',
  pattern: '^[1-9][0-9]{0,14}$',
  description: 'a positive integer (at most 15 digits, so a safe integer): wait (bounded) until the view has applied this sequence of the account; 503 VIEW_LAGGING if it does not in time',
} as const;
const limit = {
  type: 'string',
  pattern: '^[1-9][0-9]{0,3}$',
  default: String(pageBounds.limitDefault),
  description: `${pageBounds.limitMin} to ${pageBounds.limitMax} entries`,
} as const;
const cursor = { type: 'string', minLength: 1, maxLength: pageBounds.cursorLengthMax, pattern: '^[A-Za-z0-9_-]+$' } as const;

export const idParams = { type: 'object', required: ['id'], additionalProperties: false, properties: { id: uuid } } as const;
export const accountQuery = { type: 'object', properties: { minVersion } } as const;
// Filters are strings here (documented) and parsed by filters.ts, which names the bound a value breaks.
const instant = (what: string) => ({ type: 'string', description: `ISO-8601 date-time with a zone, or a date (UTC midnight): ${what}` }) as const;
const from = instant('entries at or after it');
const to = instant('entries at or before it');
export const historyQuery = {
  type: 'object',
  properties: { limit, cursor, minVersion, type: { type: 'string', description: 'event types, comma-separated (AccountOpened,MoneyDeposited,…)' }, from, to },
} as const;
export const accountsQuery = {
  type: 'object',
  properties: {
    limit,
    cursor,
    ownerName: { type: 'string', description: 'owner-name prefix, case-insensitive; the page is then ordered by owner name' },
    status: { type: 'string', enum: ['OPEN', 'CLOSED'] },
    currency: { type: 'string', description: 'ISO 4217 code' },
  },
  patternProperties: { '^metadata\\.': { type: 'string', description: 'metadata.<key>=<value>: the account metadata value of key (at most 32 such filters)' } },
} as const;
export const streamQuery = {
  type: 'object',
  properties: { lastEventId: { type: 'string', description: 'resume after this event id (<partition>:<offset>), as the Last-Event-ID header does' } },
} as const;
export const balanceQuery = { type: 'object', properties: { minVersion, asOf: instant('the balance after the last event at or before it') } } as const;
export const statementQuery = {
  type: 'object',
  properties: { minVersion, from, to, format: { type: 'string', enum: ['json', 'csv'], description: 'csv, or send Accept: text/csv' } },
} as const;

const partitionsProgress = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      partition: { type: 'integer' },
      phase: { type: 'string', enum: ['preparing', 'rebuilding', 'catching-up', 'live'] },
      position: { type: 'string', description: 'next offset to apply' },
      target: { type: 'string', description: 'the log end to reach before the partition is ready' },
      percent: { type: 'number' },
    },
  },
} as const;

/** The edge's problem+json (one shape for both HTTP services), with the query side's extensions. */
export const problem = {
  ...problemSchema,
  properties: {
    ...problemSchema.properties,
    accountId: { type: 'string' },
    minVersion: { type: 'integer' },
    version: { type: ['integer', 'null'] },
    partitions: partitionsProgress,
  },
} as const;

export const account = {
  type: 'object',
  required: ['accountId', 'ownerName', 'currency', 'balance', 'status', 'version', 'openedAt', 'updatedAt'],
  properties: {
    accountId: { type: 'string' },
    ownerName: { type: 'string' },
    currency: { type: 'string' },
    balance: money,
    status: { type: 'string', enum: ['OPEN', 'CLOSED'] },
    version: { type: 'integer' },
    openedAt: timestamp,
    updatedAt: timestamp,
    heldBalance: { type: 'integer', description: 'sum of the active holds (DESIGN §10)' },
    overdraftLimit: { type: 'integer', description: 'how far below 0 debits may take the balance' },
    availableBalance: { type: 'integer', description: 'balance − heldBalance + overdraftLimit' },
    metadata: metadata('the metadata the account was opened with (filter the list by it with metadata.<key>=<value>)'),
  },
} as const;

export const balance = {
  type: 'object',
  required: ['accountId', 'balance', 'version'],
  properties: {
    accountId: { type: 'string' },
    currency: { type: 'string', description: 'the current balance only' },
    balance: money,
    version: { type: 'integer' },
    asOf: { ...timestamp, description: '?asOf only: the balance after the last event at or before it, version its sequence' },
  },
} as const;

const statementEntry = {
  type: 'object',
  properties: {
    sequence: { type: 'integer' },
    occurredAt: timestamp,
    type: { type: 'string' },
    amount: money,
    signedAmount: { ...money, description: 'what the entry did to the balance' },
    balanceAfter: money,
    reference: nullableString,
    transferId: nullableString,
    counterpartyAccountId: nullableString,
    commandId: { type: 'string' },
    actor: nullableString,
  },
} as const;

/** Documentation only: statements are streamed, not serialized by fastify. */
export const statement = {
  type: 'object',
  required: ['accountId', 'currency', 'from', 'to', 'openingBalance', 'entries', 'closingBalance', 'totalCredits', 'totalDebits'],
  properties: {
    accountId: { type: 'string' },
    currency: { type: 'string' },
    from: timestamp,
    to: timestamp,
    openingBalance: money,
    entries: { type: 'array', items: statementEntry },
    closingBalance: money,
    totalCredits: money,
    totalDebits: money,
  },
} as const;

export const historyEntry = {
  type: 'object',
  required: ['sequence', 'type', 'amount', 'balanceAfter', 'occurredAt', 'commandId', 'transferId', 'counterpartyAccountId', 'reference', 'reason', 'actor', 'metadata'],
  properties: {
    sequence: { type: 'integer' },
    type: { type: 'string' },
    amount: money,
    balanceAfter: money,
    occurredAt: timestamp,
    commandId: { type: 'string' },
    transferId: nullableString,
    counterpartyAccountId: nullableString,
    reference: nullableString,
    reason: nullableString,
    actor: { ...nullableString, description: 'the API key (keyId) whose command caused the event: who moved this money' },
    metadata: metadata("the metadata of the command that caused the event; a transfer's credit, settlement and refund carry its initiation's"),
  },
} as const;

export const transfer = {
  type: 'object',
  required: ['transferId', 'status', 'fromAccountId', 'toAccountId', 'amount', 'currency', 'reason', 'debitedAt', 'creditedAt', 'refundedAt'],
  properties: {
    transferId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'completed', 'failed'] },
    fromAccountId: { type: 'string' },
    toAccountId: { type: 'string' },
    amount: money,
    currency: { type: 'string' },
    reason: nullableString,
    debitedAt: nullableTimestamp,
    creditedAt: nullableTimestamp,
    refundedAt: nullableTimestamp,
  },
} as const;

export const pageOf = (item: object) =>
  ({
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
  }) as const;

export const readiness = {
  type: 'object',
  properties: { ready: { type: 'boolean' }, partitions: partitionsProgress },
} as const;

export const health = { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['up'] } } } as const;

// Holds (DESIGN §11): an account's holds, newest placed first.
export const holdStatuses = ['ACTIVE', 'CAPTURED', 'VOIDED', 'EXPIRED'] as const;
export const holdParams = { type: 'object', required: ['id', 'holdId'], additionalProperties: false, properties: { id: uuid, holdId: uuid } } as const;
export const holdsQuery = { type: 'object', properties: { limit, cursor, minVersion, status: { type: 'string', enum: holdStatuses, description: 'only holds with this status' } } } as const;
export const hold = {
  type: 'object',
  required: ['holdId', 'accountId', 'amount', 'status', 'reference', 'expiresAt', 'placedAt', 'capturedAmount', 'releasedAmount', 'closedAt', 'commandId', 'actor'],
  properties: {
    holdId: { type: 'string' },
    accountId: { type: 'string' },
    amount: { ...money, description: 'what the hold reserved' },
    status: { type: 'string', enum: holdStatuses },
    reference: nullableString,
    expiresAt: timestamp,
    placedAt: timestamp,
    capturedAmount: { type: ['integer', 'null'], description: 'CAPTURED: what left the account' },
    releasedAmount: { type: ['integer', 'null'], description: 'once closed: what went back to the available balance' },
    closedAt: { ...nullableTimestamp, description: 'when the hold left ACTIVE' },
    commandId: { type: 'string', description: 'the command that placed the hold' },
    actor: { ...nullableString, description: 'the API key (keyId) that placed the hold' },
  },
} as const;

/** GET /api/v1/system/health (system.ts): the dashboard's health panel. */
export const systemHealth = {
  type: 'object',
  required: ['at', 'ready', 'eventsApplied', 'eventsPerSecond', 'partitions', 'deadLetters', 'parkedEvents', 'streams', 'problem'],
  properties: {
    at: timestamp,
    ready: { type: 'boolean' },
    eventsApplied: { type: 'integer', description: 'events folded into the views since this process started' },
    eventsPerSecond: { type: ['number', 'null'], description: 'applied per second over the last ~30 s of reads of this route; null until two reads are a second apart' },
    partitions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'integer' },
          phase: { type: 'string', enum: ['preparing', 'rebuilding', 'catching-up', 'live', 'elsewhere'], description: 'elsewhere: another instance applies this partition' },
          appliedOffset: { ...nullableString, description: 'the next offset the views apply' },
          logEndOffset: { ...nullableString, description: 'the log end offset now' },
          lag: { type: ['integer', 'null'], description: 'offsets between them (transaction markers included)' },
        },
      },
    },
    deadLetters: {
      type: 'object',
      properties: {
        topic: { type: 'string' },
        offsets: { type: ['integer', 'null'], description: 'offsets retained in the dead-letter topic: its records, plus a marker per transaction that wrote some (0: none)' },
      },
    },
    parkedEvents: { type: 'integer', description: 'events the views could not apply, kept for diagnosis' },
    streams: { type: 'integer', description: 'open event streams' },
    problem: { ...nullableString, description: 'why some numbers are null (Kafka did not give the log end offsets)' },
  },
} as const;
