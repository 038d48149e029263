// The reads that use the indexes of keys.ts: seeks by time and by type over an account's history,
// ascending runs of entries for statements, and index scans for the filtered account list. Reads
// only; store.ts writes rows and index keys in one atomic batch, so what a seek finds exists.
// Every read is bounded by its caller's limit or the named budgets here.
import type { Level } from 'level';
import type { AccountSummary, HistoryEntry } from './views/types.ts';
import type { FilteredScan } from './views/filtered-list.ts';
import { rows, type RowCodec } from './rows.ts';
import { accountKey, historyKey, holdIndexKey, holdIndexPrefix, holdKey, padded, separator, sequenceOfKey, timePrefix, typeKey } from './keys.ts';
import { holdRef, type HoldRecord } from './views/holds.ts';

/** Index keys read per native call of a filtered account scan at most: one multi-get of rows follows each. */
export const indexScanChunkKeys = 1024;

/** An index range to scan in key order for the account list (see keys.ts's "n" and "f" keys). */
export interface IndexScan {
  /** Every key of the range starts with it. */
  prefix: string;
  /** What is cut off a key to give its sort key (the page order, and what a cursor holds). */
  sortBase: string;
}

export class StoreReads {
  constructor(private readonly db: () => Level<string, string>) {}

  /** The sequence of the account's last event indexed at or before `time`, if any. */
  async sequenceAtOrBefore(accountId: string, time: number): Promise<number | undefined> {
    if (time < 0) return undefined;
    const [key] = await this.db().keys({ gte: timePrefix(accountId), lt: timePrefix(accountId) + padded(time + 1), reverse: true, limit: 1 }).all();
    return key === undefined ? undefined : sequenceOfKey(key);
  }

  /** The sequence of the account's first event indexed at or after `time`, if any. */
  async sequenceAtOrAfter(accountId: string, time: number): Promise<number | undefined> {
    const prefix = timePrefix(accountId);
    const [key] = await this.db().keys({ gte: prefix + padded(Math.max(0, time)), lt: prefix.slice(0, -1) + '\u0001', limit: 1 }).all();
    return key === undefined ? undefined : sequenceOfKey(key);
  }

  /** Up to `limit` sequences from `high` down to `low` whose entries have one of `types`, newest first: one seek per type. */
  async sequencesOfTypes(accountId: string, types: readonly string[], low: number, high: number, limit: number): Promise<number[]> {
    if (high < low) return [];
    const perType = await Promise.all(
      types.map((type) => this.db().keys({ gte: typeKey(accountId, type, low), lte: typeKey(accountId, type, high), reverse: true, limit }).all()),
    );
    return perType.flat().map(sequenceOfKey).sort((a, b) => b - a).slice(0, limit);
  }

  /** The rows at these keys, in that order, by one multi-get; undefined when one is missing (only a concurrent wipe does that). */
  private async rowsAt<T>(keys: readonly string[], codec: RowCodec<T>): Promise<T[] | undefined> {
    if (keys.length === 0) return [];
    const values = await this.db().getMany([...keys]);
    const found: T[] = [];
    for (const value of values) {
      if (value === undefined) return undefined;
      found.push(codec.decode(value));
    }
    return found;
  }

  /** The entries at these sequences, in that order; undefined when one is missing. */
  async entries(accountId: string, sequences: readonly number[]): Promise<HistoryEntry[] | undefined> {
    return this.rowsAt(sequences.map((s) => historyKey(accountId, s)), rows.history);
  }

  /**
   * Entries `low` to `high` oldest first, `chunk` at a time: a statement holds one chunk in memory
   * whatever its length. Sequences are gapless, so each chunk is one multi-get of known keys.
   */
  async *entriesAscending(accountId: string, low: number, high: number, chunk: number): AsyncGenerator<HistoryEntry[]> {
    for (let first = low; first <= high; first += chunk) {
      const sequences = Array.from({ length: Math.min(chunk, high - first + 1) }, (_, i) => first + i);
      const entries = await this.entries(accountId, sequences);
      if (entries === undefined) throw new Error(`history of ${accountId} changed under a statement (the partition's views were wiped)`);
      yield entries;
    }
  }

  /** The stored records of these holds (for the fold of the events that end them), by holdRef. */
  async holdRecords(refs: ReadonlyArray<{ accountId: string; holdId: string }>): Promise<Map<string, HoldRecord | undefined>> {
    const found = new Map<string, HoldRecord | undefined>();
    if (refs.length === 0) return found;
    const values = await this.db().getMany(refs.map((r) => holdKey(r.accountId, r.holdId)));
    refs.forEach((r, i) => {
      const value = values[i];
      found.set(holdRef(r.accountId, r.holdId), value === undefined ? undefined : rows.hold.decode(value));
    });
    return found;
  }

  async hold(accountId: string, holdId: string): Promise<HoldRecord | undefined> {
    const value = await this.db().get(holdKey(accountId, holdId));
    return value === undefined ? undefined : rows.hold.decode(value);
  }

  /**
   * Up to `limit` holds of the account with `status` ("*": any), newest placed first, placed before
   * sequence `before` (all when null): one seek of the holds index, then one multi-get of records.
   * Undefined when a record is missing, which only a concurrent wipe can cause.
   */
  async holds(accountId: string, status: string, before: number | null, limit: number): Promise<HoldRecord[] | undefined> {
    const prefix = holdIndexPrefix(accountId, status);
    const upper = before === null ? { lt: prefix.slice(0, -1) + '\u0001' } : { lt: holdIndexKey(accountId, status, before) };
    const holdIds = await this.db().values({ gte: prefix, ...upper, reverse: true, limit }).all();
    return this.rowsAt(holdIds.map((holdId) => holdKey(accountId, holdId)), rows.hold);
  }

  /**
   * Scans an index range after the sort key `after`, keeping rows `accept` takes, until `limit + 1`
   * are kept or `scanKeysMax` keys were read: a page of a selective filter stops early rather than
   * read the whole index, and says where it stopped (scannedThrough) so the next page goes on there.
   */
  async scanAccounts(scan: IndexScan, after: string | null, limit: number, scanKeysMax: number, accept: (row: AccountSummary) => boolean): Promise<FilteredScan> {
    const start = after === null ? { gte: scan.prefix } : { gt: scan.sortBase + after };
    const iterator = this.db().keys({ ...start, lt: scan.sortBase.slice(0, 1) + '\u0001' });
    const matches: FilteredScan['matches'] = [];
    let scanned = 0;
    try {
      for (;;) {
        // First as many keys as the page still needs (every one may match), then more as the filter proves selective.
        const wanted = Math.min(indexScanChunkKeys, scanKeysMax - scanned, Math.max(limit + 1 - matches.length, 16) * (scanned === 0 ? 1 : 4));
        const keys = (await iterator.nextv(wanted)).filter((k) => k.startsWith(scan.prefix));
        if (keys.length === 0) return { matches, scannedThrough: null };
        const values = await this.db().getMany(keys.map((k) => accountKey(k.slice(k.lastIndexOf(separator) + 1))));
        for (let i = 0; i < keys.length; i += 1) {
          scanned += 1;
          const value = values[i];
          const sortKey = (keys[i] as string).slice(scan.sortBase.length);
          const row = value === undefined ? undefined : rows.account.decode(value);
          if (row !== undefined && accept(row)) matches.push({ sortKey, row });
          if (matches.length > limit || scanned >= scanKeysMax) return { matches, scannedThrough: sortKey };
        }
      }
    } finally {
      await iterator.close();
    }
  }
}
