// The one error registry of the HTTP edge (both services: gateway and query processor): every code a client can see, its HTTP status and its
// title. Routes, the error handler, the OpenAPI document and the README all read this table, so
// a code cannot have two statuses. Bodies are RFC 9457 problem details (application/problem+json).
import { REJECTION_CODES, type RejectionCode } from '../../schemas/types.ts';

export const problemContentType = 'application/problem+json; charset=utf-8';

export interface ErrorEntry {
  status: number;
  title: string;
}

/** Business refusals carried by rejected outcomes (DESIGN §3, §5). */
const rejectionEntries: Record<RejectionCode, ErrorEntry> = {
  ACCOUNT_NOT_FOUND: { status: 404, title: 'Account not found' },
  ACCOUNT_ALREADY_EXISTS: { status: 409, title: 'Account already exists' },
  ACCOUNT_CLOSED: { status: 409, title: 'Account is closed' },
  ACCOUNT_NOT_EMPTY: { status: 409, title: 'Account balance is not zero' },
  IDEMPOTENCY_KEY_REUSED: { status: 409, title: 'Idempotency key reused for a different request' },
  INSUFFICIENT_FUNDS: { status: 422, title: 'Insufficient funds' },
  CURRENCY_MISMATCH: { status: 422, title: 'Currency mismatch' },
  SAME_ACCOUNT_TRANSFER: { status: 422, title: 'Transfer to the same account' },
  AMOUNT_TOO_LARGE: { status: 422, title: 'Amount too large' },
  HOLD_NOT_FOUND: { status: 404, title: 'Hold not found' },
  HOLD_NOT_ACTIVE: { status: 409, title: 'Hold is not active' },
  AMOUNT_EXCEEDS_HOLD: { status: 422, title: 'Amount exceeds the hold' },
  TRANSACTION_NOT_FOUND: { status: 404, title: 'Transaction not found on this account' },
  NOT_REVERSIBLE: { status: 422, title: 'Transaction cannot be reversed' },
  ALREADY_REVERSED: { status: 409, title: 'Transaction already reversed' },
};

/** Codes of the HTTP edge only (never in an outcome). The query side's codes are listed too. */
const edgeEntries = {
  VALIDATION_FAILED: { status: 400, title: 'Request is not valid' },
  UNAUTHENTICATED: { status: 401, title: 'A valid API key is required' },
  FORBIDDEN: { status: 403, title: 'The API key lacks the scope this route needs' },
  API_KEY_NOT_FOUND: { status: 404, title: 'API key not found' },
  COMMAND_NOT_FOUND: { status: 404, title: 'Command not found' },
  TRANSFER_NOT_FOUND: { status: 404, title: 'Transfer not found' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Request body must be application/json' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  VIEW_LAGGING: { status: 503, title: 'Query view is behind' },
} as const satisfies Record<string, ErrorEntry>;

export type EdgeCode = keyof typeof edgeEntries;
export type ErrorCode = RejectionCode | EdgeCode;

export const errorRegistry: Record<ErrorCode, ErrorEntry> = { ...rejectionEntries, ...edgeEntries };

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(errorRegistry, code);
}

export function isRejectionCode(code: string): code is RejectionCode {
  return (REJECTION_CODES as readonly string[]).includes(code);
}

/** The `type` URI of a problem: a relative reference into the served error list. */
export const problemType = (code: string): string => `/docs/errors#${code}`;

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  [extension: string]: unknown;
}

export function problemOf(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const entry = errorRegistry[code];
  return { type: problemType(code), title: entry.title, status: entry.status, code, detail, ...extensions };
}

/** An error the edge answers with its registered status and a problem body. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
  }

  get status(): number {
    return errorRegistry[this.code].status;
  }

  toProblem(): Problem {
    return problemOf(this.code, this.detail, this.extensions);
  }
}

/**
 * Kafka (or the schema registry) cannot take or answer a command right now. Retriable: the
 * client may retry, and with the same Idempotency-Key a retry can never apply a command twice.
 */
export class UnavailableError extends HttpProblem {
  override name = 'UnavailableError';
  readonly retriable = true;
  constructor(detail: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', detail, {}, options);
  }
}

/**
 * Kafka failed or refused a send. The client gets a fixed detail that says what to do; the Kafka
 * client's own message (broker addresses, internal error names) stays in `cause`, which the 503
 * log line carries (pino appends causes), and is never echoed in a response.
 */
export function kafkaUnavailable(cause: unknown): UnavailableError {
  return new UnavailableError('Kafka did not take the command; retry with the same Idempotency-Key, which never applies a command twice', { cause });
}

/** Seconds a client should wait before retrying a 503. */
export const unavailableRetryAfterSeconds = 1;

export function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/** The body schema of every problem answer (both services document it). */
export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    commandId: { type: 'string' },
  },
} as const;
