// One LevelDB per partition of the events topic, under `${DATA_DIR}/query/p<partition>`. Each
// batch's view rows and the partition's checkpoint (next offset) go in ONE atomic LevelDB batch,
// so the store always holds exactly the fold of the events before its checkpoint. The offset is
// committed to Kafka only after that write: a crash in between replays events that the
// per-account sequence check skips. The store is a cache of the log, wiped and rebuilt when in
// doubt (see replay.ts).
//
// Key layout: keys.ts (ids never contain NUL; views/apply.ts asserts it). Rows are JSON arrays
// in a fixed field order (see rows.ts): half the bytes of objects, and faster to write during a
// rebuild. Besides the rows and indexes of keys.ts:
//   t\0<transferId>\0<role>              "<accountId>\0<sequence>": the history entry holding
//                                        this partition's fact of the transfer (read back with
//                                        views' factFromEntry, so the fact is not written twice)
//   p\0<offset, 20 digits>               a parked event (views/parked.ts), JSON; the newest
//                                        parkedEventsMax are kept
//   m\0checkpoint                        { format, topic, partition, nextOffset, previousNextOffset }
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import { entryRef, type BatchChanges } from './views/batch.ts';
import type { AccountSummary, HistoryEntry, TransferFacts, TransferRole } from './views/types.ts';
import type { ParkedEvent } from './views/parked.ts';
import type { StoredCheckpoint } from './replay.ts';
import { rows } from './rows.ts';
import { factFromEntry } from './views/transfer.ts';
import { accountIndexKeys, accountKey, anyHoldStatus, historyKey, holdIndexKey, holdKey, lastTimeKey, separator, timeKey, typeKey } from './keys.ts';
import { StoreReads } from './store-reads.ts';
import { AccountCache } from './account-cache.ts';

/**
 * Bumped when the layout or a row's meaning changes: a store of another format is rebuilt. 2: the
 * indexes of keys.ts. 4: holds, and metadata on account rows, their index keys and history entries
 * (a store built before them dropped the metadata of the events it applied).
 */
export const storeFormat = 4;
export { accountsCachedMax, accountsCachedCharsMax } from './account-cache.ts';
/** Parked events kept per partition (the newest; older ones are dropped): enough to diagnose, bounded if a producer keeps writing bad events. */
export const parkedEventsMax = 1000;

interface CheckpointRecord {
  format: number;
  topic: string;
  partition: number;
  nextOffset: string;
  previousNextOffset: string | null;
}

const accountsFirst = `a${separator}`;
const accountsEnd = 'a\u0001';
const transferKey = (transferId: string, role: TransferRole) => `t${separator}${transferId}${separator}${role}`;
const checkpointKey = `m${separator}checkpoint`;
const offsetDigits = 20; // a Kafka offset is a signed 64-bit integer: at most 19 digits
const parkedPrefix = `p${separator}`;
const parkedEnd = 'p\u0001';
const parkedKey = (offset: bigint) => parkedPrefix + String(offset).padStart(offsetDigits, '0');
const transferRoles: TransferRole[] = ['debited', 'credited', 'refunded'];
/** Values are strings we encode ourselves (rows.ts); LevelDB's own defaults otherwise (4 MiB memtable, 8 MiB block cache). */
const levelOptions = { valueEncoding: 'utf8' } as const;

export interface OpenedStore {
  store: PartitionStore;
  /** Why the store's contents cannot be trusted (then it has been wiped), or null. */
  problem: string | null;
}

export class PartitionStore {
  private readonly accounts = new AccountCache();
  private stored: StoredCheckpoint | null = null;
  /** Offsets of the parked events kept, ascending. */
  private parkedOffsets: bigint[] = [];
  /** The filtered and time-indexed reads (store-reads.ts), always on the current database. */
  readonly reads = new StoreReads(() => this.db);

  private constructor(
    readonly path: string,
    readonly topic: string,
    readonly partition: number,
    private db: Level<string, string>,
  ) {}

  static async open(root: string, topic: string, partition: number): Promise<OpenedStore> {
    const path = join(root, `p${partition}`);
    mkdirSync(path, { recursive: true });
    const store = new PartitionStore(path, topic, partition, new Level<string, string>(path, levelOptions));
    let problem: string | null;
    try {
      await store.db.open();
      problem = await store.loadCheckpoint();
      if (problem === null) store.parkedOffsets = (await store.db.keys({ gte: parkedPrefix, lt: parkedEnd }).all()).map((k) => BigInt(k.slice(parkedPrefix.length)));
    } catch (error) {
      problem = `the view store cannot be read: ${(error as Error).message}`;
    }
    if (problem !== null) await store.wipe();
    return { store, problem };
  }

  /** Reads and checks the checkpoint; returns why the store is unusable, or null. */
  private async loadCheckpoint(): Promise<string | null> {
    const text = await this.db.get(checkpointKey);
    if (text === undefined) return 'the view store is missing';
    const record = JSON.parse(text) as CheckpointRecord;
    if (record.format !== storeFormat) return `the view store has format ${record.format}, not ${storeFormat}`;
    if (record.topic !== this.topic || record.partition !== this.partition) {
      return `the view store belongs to ${record.topic}/${record.partition}, not ${this.topic}/${this.partition}`;
    }
    this.stored = {
      nextOffset: BigInt(record.nextOffset),
      previousNextOffset: record.previousNextOffset === null ? null : BigInt(record.previousNextOffset),
    };
    return null;
  }

  checkpoint(): StoredCheckpoint | null {
    return this.stored;
  }

  /** Deletes every view of the partition: deleting the directory is O(1) where clear() is O(rows). */
  async wipe(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
    rmSync(this.path, { recursive: true, force: true });
    mkdirSync(this.path, { recursive: true });
    this.db = new Level<string, string>(this.path, levelOptions);
    await this.db.open();
    this.accounts.clear();
    this.stored = null;
    this.parkedOffsets = [];
  }

  /** The current rows of these accounts (undefined for an account not seen yet). */
  async readAccounts(accountIds: readonly string[]): Promise<Map<string, AccountSummary | undefined>> {
    const found = new Map<string, AccountSummary | undefined>();
    const missing = accountIds.filter((id) => {
      const cached = this.accounts.get(id);
      if (cached !== undefined) found.set(id, cached);
      return cached === undefined;
    });
    if (missing.length > 0) {
      const values = await this.db.getMany(missing.map(accountKey));
      missing.forEach((id, i) => {
        const value = values[i];
        found.set(id, value === undefined ? undefined : rows.account.decode(value));
      });
    }
    return found;
  }

  /** The stored history entries at these places (for duplicates), by entryRef. */
  async entries(refs: ReadonlyArray<{ accountId: string; sequence: number }>): Promise<Map<string, HistoryEntry>> {
    const found = new Map<string, HistoryEntry>();
    if (refs.length === 0) return found;
    const values = await this.db.getMany(refs.map((r) => historyKey(r.accountId, r.sequence)));
    refs.forEach((r, i) => {
      const value = values[i];
      if (value !== undefined) found.set(entryRef(r.accountId, r.sequence), rows.history.decode(value));
    });
    return found;
  }

  /** Writes a batch's view changes, its parked events and the new checkpoint atomically. */
  async write(changes: BatchChanges, nextOffset: bigint, parked: readonly ParkedEvent[] = []): Promise<void> {
    // A chained batch: one native call per row and no intermediate operation objects.
    const batch = this.db.batch();
    await this.putIndexes(batch, changes);
    const encoded = new Map<string, string>();
    for (const [accountId, row] of changes.accounts) {
      const text = rows.account.encode(row);
      encoded.set(accountId, text);
      batch.put(accountKey(accountId), text);
    }
    for (const { accountId, entry } of changes.history) batch.put(historyKey(accountId, entry.sequence), rows.history.encode(entry));
    for (const { fact, accountId, sequence } of changes.transferFacts) batch.put(transferKey(fact.transferId, fact.role), accountId + separator + sequence);
    for (const { hold, storedStatus } of changes.holds.values()) {
      batch.put(holdKey(hold.accountId, hold.holdId), rows.hold.encode(hold));
      // One key for every hold and one by its status, which moves (once) when the hold closes.
      if (storedStatus === null) batch.put(holdIndexKey(hold.accountId, anyHoldStatus, hold.placedSequence), hold.holdId);
      else if (storedStatus !== hold.status) batch.del(holdIndexKey(hold.accountId, storedStatus, hold.placedSequence));
      batch.put(holdIndexKey(hold.accountId, hold.status, hold.placedSequence), hold.holdId);
    }
    const previousNextOffset = this.stored?.nextOffset ?? null;
    const checkpoint: CheckpointRecord = {
      format: storeFormat,
      topic: this.topic,
      partition: this.partition,
      nextOffset: String(nextOffset),
      previousNextOffset: previousNextOffset === null ? null : String(previousNextOffset),
    };
    batch.put(checkpointKey, JSON.stringify(checkpoint));
    const parkedOffsets = this.keepParked(batch, parked);
    await batch.write();
    this.stored = { nextOffset, previousNextOffset };
    this.parkedOffsets = parkedOffsets;
    for (const [accountId, row] of changes.accounts) this.accounts.set(accountId, row, encoded.get(accountId)?.length ?? 0);
  }

  /**
   * The index keys (keys.ts) of the batch's rows, and deletes of the keys the changed rows no
   * longer have. Two multi-gets per batch (previous rows, mostly cached, and the accounts' last
   * indexed times), not per event.
   */
  private async putIndexes(batch: ReturnType<Level<string, string>['batch']>, changes: BatchChanges): Promise<void> {
    const previous = await this.readAccounts([...changes.accounts.keys()]);
    for (const [accountId, row] of changes.accounts) {
      const before = previous.get(accountId);
      const keys = accountIndexKeys(row);
      const keysBefore = before === undefined ? [] : accountIndexKeys(before);
      // Most changes move only the balance: then no index key changes and none is written.
      for (const key of keysBefore) if (!keys.includes(key)) batch.del(key);
      for (const key of keys) if (!keysBefore.includes(key)) batch.put(key, '');
    }
    const accountIds = [...new Set(changes.history.map((h) => h.accountId))];
    const stored = await this.db.getMany(accountIds.map(lastTimeKey));
    const lastTimes = new Map(accountIds.map((id, i) => [id, Number(stored[i] ?? 0)]));
    for (const { accountId, entry } of changes.history) {
      // Raised to the previous event's time when a clock stepped back (and never below 0): monotonic in sequence.
      const time = Math.max(entry.occurredAt, lastTimes.get(accountId) ?? 0);
      lastTimes.set(accountId, time);
      batch.put(timeKey(accountId, time, entry.sequence), '');
      batch.put(typeKey(accountId, entry.type, entry.sequence), '');
    }
    for (const [accountId, time] of lastTimes) batch.put(lastTimeKey(accountId), String(time));
  }

  /** Puts the parked events and drops the oldest past parkedEventsMax; returns the offsets kept. A replayed chunk re-parks the same offsets: same keys. */
  private keepParked(batch: ReturnType<Level<string, string>['batch']>, parked: readonly ParkedEvent[]): bigint[] {
    if (parked.length === 0) return this.parkedOffsets;
    const offsets = new Set(this.parkedOffsets);
    for (const event of parked) {
      const offset = BigInt(event.offset);
      batch.put(parkedKey(offset), JSON.stringify(event));
      offsets.add(offset);
    }
    const kept = [...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const dropped = kept.splice(0, Math.max(0, kept.length - parkedEventsMax));
    for (const offset of dropped) batch.del(parkedKey(offset));
    return kept;
  }

  /** The parked events kept, newest first, at most `limit`. */
  async parked(limit: number = parkedEventsMax): Promise<ParkedEvent[]> {
    const values = await this.db.values({ gte: parkedPrefix, lt: parkedEnd, reverse: true, limit }).all();
    return values.map((v) => JSON.parse(v) as ParkedEvent);
  }

  parkedCount(): number {
    return this.parkedOffsets.length;
  }

  /** What the account cache holds now (account-cache.ts bounds it). */
  cacheUsage(): { rows: number; chars: number } {
    return this.accounts.usage();
  }

  /** Synchronous: the hot GET path costs no thread-pool hop (LevelDB's block cache or ours). */
  account(accountId: string): AccountSummary | undefined {
    const cached = this.accounts.get(accountId);
    if (cached !== undefined) return cached;
    const value = this.db.getSync(accountKey(accountId));
    if (value === undefined) return undefined;
    const row = rows.account.decode(value);
    this.accounts.set(accountId, row, value.length);
    return row;
  }

  /**
   * Up to `limit` entries, newest first, from sequence `newest` down. An account's sequences are
   * gapless (views/apply.ts asserts it) and its row and entries are written together, so the keys
   * are known: one multi-get, no iterator to open and close. Undefined when an entry is missing,
   * which only a concurrent wipe can cause.
   */
  async history(accountId: string, newest: number, limit: number): Promise<HistoryEntry[] | undefined> {
    const keys: string[] = [];
    for (let sequence = newest; sequence >= 1 && keys.length < limit; sequence -= 1) keys.push(historyKey(accountId, sequence));
    const values = await this.db.getMany(keys);
    const entries: HistoryEntry[] = [];
    for (const value of values) {
      if (value === undefined) return undefined;
      entries.push(rows.history.decode(value));
    }
    return entries;
  }

  /** Up to `limit` account rows in accountId order, after `after` (from the first when null). */
  async accountsAfter(after: string | null, limit: number): Promise<AccountSummary[]> {
    const range = after === null ? { gte: accountsFirst } : { gt: accountKey(after) };
    const values = await this.db.values({ ...range, lt: accountsEnd, limit }).all();
    return values.map(rows.account.decode);
  }

  async transferFacts(transferId: string): Promise<TransferFacts> {
    const pointers = await this.db.getMany(transferRoles.map((role) => transferKey(transferId, role)));
    const facts: TransferFacts = {};
    for (const pointer of pointers) {
      if (pointer === undefined) continue;
      const [accountId = '', sequence = ''] = pointer.split(separator);
      const value = await this.db.get(historyKey(accountId, Number(sequence)));
      const account = this.account(accountId);
      if (value === undefined || account === undefined) throw new Error(`store ${this.path}: transfer ${transferId} points at missing row ${accountId}:${sequence}`);
      const fact = factFromEntry(accountId, account.currency, rows.history.decode(value));
      facts[fact.role] = fact;
    }
    return facts;
  }

  async close(): Promise<void> {
    this.accounts.clear();
    await this.db.close();
  }
}
