// Opaque page cursors: base64url of a small JSON object. Clients must treat them as opaque; we
// validate their shape on the way back in, so a forged or truncated cursor is a 400, not a crash.
// A history cursor names its account, so it cannot be replayed against another account.

const cursorVersion = 1;

export interface AccountsCursor {
  after: string;
}

export interface HistoryCursor {
  accountId: string;
  before: number;
}

function encode(fields: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify({ v: cursorVersion, ...fields }), 'utf8').toString('base64url');
}

function decode(cursor: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const fields = value as Record<string, unknown>;
    return fields.v === cursorVersion ? fields : undefined;
  } catch {
    return undefined;
  }
}

export const encodeAccountsCursor = (cursor: AccountsCursor): string => encode({ after: cursor.after });

export function decodeAccountsCursor(text: string): AccountsCursor | undefined {
  const fields = decode(text);
  if (fields === undefined || typeof fields.after !== 'string' || fields.after.length === 0) return undefined;
  return { after: fields.after };
}

export const encodeHistoryCursor = (cursor: HistoryCursor): string => encode({ accountId: cursor.accountId, before: cursor.before });

export function decodeHistoryCursor(text: string): HistoryCursor | undefined {
  const fields = decode(text);
  if (fields === undefined || typeof fields.accountId !== 'string') return undefined;
  const before = fields.before;
  if (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 1) return undefined;
  return { accountId: fields.accountId, before };
}

/** A filtered account list's cursor: the sort key to go on after, bound to the filters it was issued for. */
export interface FilteredAccountsCursor {
  /** A digest of the filters (filtersDigest in routes-read.ts). */
  filters: string;
  after: string;
}

export const encodeFilteredAccountsCursor = (cursor: FilteredAccountsCursor): string => encode({ filters: cursor.filters, after: cursor.after });

export function decodeFilteredAccountsCursor(text: string): FilteredAccountsCursor | undefined {
  const fields = decode(text);
  if (fields === undefined || typeof fields.filters !== 'string' || typeof fields.after !== 'string' || fields.after.length === 0) return undefined;
  return { filters: fields.filters, after: fields.after };
}

/** A holds page's cursor: the HoldPlaced sequence to go on below, bound to its account and status filter. */
export interface HoldsCursor {
  accountId: string;
  /** The status filter it was issued for, "*" for none. */
  status: string;
  before: number;
}

export const encodeHoldsCursor = (cursor: HoldsCursor): string => encode({ accountId: cursor.accountId, status: cursor.status, before: cursor.before });

export function decodeHoldsCursor(text: string): HoldsCursor | undefined {
  const fields = decode(text);
  if (fields === undefined || typeof fields.accountId !== 'string' || typeof fields.status !== 'string') return undefined;
  const before = fields.before;
  if (typeof before !== 'number' || !Number.isSafeInteger(before) || before < 1) return undefined;
  return { accountId: fields.accountId, status: fields.status, before };
}
