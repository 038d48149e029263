// The view store's keys: rows (see store.ts) and the secondary indexes of DESIGN §11, which a
// filtered read seeks instead of scanning. Index keys have empty values; each is written in the
// same atomic batch as the row it points at (store.ts), so an index never names a row that is not
// there, and a row whose indexed fields change has its old keys deleted in that batch.
//
//   a\0<accountId>                                            account row
//   h\0<accountId>\0<sequence, 16 digits>                     history entry
//   o\0<accountId>\0<time, 16 digits>\0<sequence, 16 digits>  history by time (asOf, from/to)
//   y\0<accountId>\0<type>\0<sequence, 16 digits>             history by event type
//   n\0<owner name, lower case, escaped>\0<accountId>         accounts by owner-name prefix
//   f\0<field>\0<value, escaped>\0<accountId>                 accounts by status, currency, metadata.<k>
//   k\0<accountId>                                            the time of the account's newest "o" key
//   l\0<accountId>\0<holdId>                                  hold record (views/holds.ts)
//   g\0<accountId>\0<status or *>\0<sequence, 16 digits>      holds by status ("*": all), by the
//                                                             HoldPlaced sequence; value: holdId
//
// The time of an "o" key is the event's occurredAt, raised to the previous event's indexed time
// when a clock stepped back: the index is monotonic in sequence, so a time range is one sequence
// range and "the last event at or before T" is one seek.
import type { AccountSummary } from './views/types.ts';

export const separator = '\u0000';
const digits = 16; // Number.MAX_SAFE_INTEGER has 16 digits
export const padded = (n: number): string => String(n).padStart(digits, '0');
/** JSON's escaping, without the quotes: no raw NUL in a key, and escape(prefix) is a prefix of escape(text). */
export const escaped = (text: string): string => JSON.stringify(text).slice(1, -1);

export const accountKey = (accountId: string) => `a${separator}${accountId}`;
export const historyPrefix = (accountId: string) => `h${separator}${accountId}${separator}`;
export const historyKey = (accountId: string, sequence: number) => historyPrefix(accountId) + padded(sequence);

export const timePrefix = (accountId: string) => `o${separator}${accountId}${separator}`;
export const timeKey = (accountId: string, time: number, sequence: number) => `${timePrefix(accountId)}${padded(time)}${separator}${padded(sequence)}`;
/** The sequence an "o" or "y" key ends with. */
export const sequenceOfKey = (key: string): number => Number(key.slice(key.length - digits));

export const typePrefix = (accountId: string, type: string) => `y${separator}${accountId}${separator}${type}${separator}`;
export const typeKey = (accountId: string, type: string, sequence: number) => typePrefix(accountId, type) + padded(sequence);

export const lastTimeKey = (accountId: string) => `k${separator}${accountId}`;

export const holdKey = (accountId: string, holdId: string) => `l${separator}${accountId}${separator}${holdId}`;
/** The holds index's "status" of the key every hold has, whatever its status: the unfiltered list. */
export const anyHoldStatus = '*';
export const holdIndexPrefix = (accountId: string, status: string) => `g${separator}${accountId}${separator}${status}${separator}`;
export const holdIndexKey = (accountId: string, status: string, placedSequence: number) => holdIndexPrefix(accountId, status) + padded(placedSequence);

/** The account fields an index can be asked for, besides the owner name. */
export type IndexedField = 'status' | 'currency' | `metadata.${string}`;

export const namePrefix = `n${separator}`;
export const fieldPrefix = (field: IndexedField, value: string) => `f${separator}${field}${separator}${escaped(value)}${separator}`;

/** The account's metadata (its opening's, DESIGN §10): what the "f" metadata keys index and the filter checks. */
export function metadataOf(row: AccountSummary): Readonly<Record<string, string>> {
  return row.metadata;
}

export const ownerNameKey = (row: AccountSummary): string => `${namePrefix}${escaped(row.ownerName.toLowerCase())}${separator}${row.accountId}`;

/** Every index key of an account row. */
export function accountIndexKeys(row: AccountSummary): string[] {
  const keys = [ownerNameKey(row), fieldPrefix('status', row.status) + row.accountId, fieldPrefix('currency', row.currency) + row.accountId];
  for (const [key, value] of Object.entries(metadataOf(row))) keys.push(fieldPrefix(`metadata.${key}`, value) + row.accountId);
  return keys;
}
