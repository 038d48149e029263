// One LevelDB per assigned partition: the account states and idempotency records of that
// partition, with the changelog offsets they reflect. It is a cache of the changelogs
// (account-state, outcomes): written only after a transaction commits, restored from its
// checkpoint on assignment, wiped and rebuilt whenever it cannot be trusted: unreadable, of
// another format, or of another ledger (cluster, topics or partition differ: DESIGN §8).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { AccountState, CommandOutcome } from '../../schemas/types.ts';
import type { Log } from '../log.ts';
import { isPostingRecord, reversalIdOf } from './reversal-records.ts';
import { storeSchemasHash, storeValueEncoding } from './store-encoding.ts';

/**
 * Bumped when the layout changes: a store of another format is wiped and rebuilt. 3: states and
 * outcomes in Avro binary (store-encoding.ts) instead of JSON, tied to the schemas they were
 * written with (their hash is part of the format). The checkpoint and identity stay JSON, so any
 * release can read them and tell.
 */
export const storeFormat = `3:${storeSchemasHash}`;
/**
 * Account states kept in memory per partition; beyond it, the least recently inserted are dropped
 * (and read from LevelDB when next needed). With 8 partitions an instance holds at most 20,000
 * states (about 10 MB of heap), so memory stays bounded at a million accounts (issue 13). It was
 * 10,000. At a million accounts such a cache hits 8 % of the time (2 % now), and in three pairs
 * of `npm run bench:processor -- --accounts 1000000 --commands 1200000` the smaller one used less
 * of the main thread every time (60.6, 62.4, 70.1 s against 72.8, 86.9, 90.5 s; 12,928–14,797
 * against 10,223–12,740 commands/s). Why is not known: under the CPU profiler (`--profile`, one
 * pair) the two did not differ, and garbage collection was 11.4–11.6 % of the busy samples in
 * both. At 100,000 accounts the two were even (main thread 25.8 · 24.9 against 24.1 · 26.9 s)
 * with 40 MB less peak RSS; at 10,000 every state fits either way.
 */
export const statesCachedMax = 2_500;
/**
 * LevelDB's own memory per partition store, named and bounded: an instance owns every partition
 * when alone, so these multiply by the partition count (8 by default). LevelDB's defaults (8 MB
 * block cache, 4 MB write buffer, 1,000 open tables) cost about 16 MB a partition; the hot
 * account states are in `states` anyway, and idempotency lookups touch recent blocks.
 */
export const storeLevelOptions = {
  /** Uncompressed blocks cached (LRU). */
  cacheSize: 2 * 1024 * 1024,
  /** The memtable: written, then converted to a sorted table (two may exist at once). */
  writeBufferSize: 2 * 1024 * 1024,
  /** Table files kept open, each with its index block in memory. */
  maxOpenFiles: 100,
} as const;

export interface Checkpoint {
  /** Next offset of this partition of the account-state changelog the store has not applied. */
  stateOffset: string;
  /** Next offset of this partition of the outcomes changelog the store has not applied. */
  outcomesOffset: string;
  /** Next offset of this partition of the movements changelog the store has not applied. */
  movementsOffset: string;
}

export const emptyCheckpoint: Checkpoint = { stateOffset: '0', outcomesOffset: '0', movementsOffset: '0' };

/** Which ledger a store caches: a store whose identity differs belongs to another and is wiped. */
export interface StoreIdentity {
  clusterId: string;
  topics: string[];
  partition: number;
}

type Value = AccountState | CommandOutcome | (Checkpoint & { format: number | string }) | StoreIdentity | string;
type BatchOp = { type: 'put'; key: string; value: Value } | { type: 'del'; key: string };

const stateKey = (accountId: string) => `s!${accountId}`;
const outcomeKey = (commandId: string) => `o!${commandId}`;
/**
 * Records kept forever (movements) have keys of their own: expiry deletes `o!` keys only, so no
 * windowed record of the same command (say a refusal replayed for 7 days, then a retry accepted
 * past the window) can ever overwrite or delete one, whatever order a restore writes them in.
 */
const movementKey = (commandId: string) => `M!${commandId}`;
const expiryKey = (processedAt: number, commandId: string) => `x!${String(processedAt).padStart(15, '0')}!${commandId}`;
const expiryKeyTime = (key: string): number => Number(key.slice(2, 17));
/** Past every expiry key (`x!…`): the index's upper bound. */
const expiryKeysEnd = 'x"';
/** transferId → commandId of its initiation (a movement, kept forever). */
const transferKey = (transferId: string) => `t!${transferId}`;
/** holdId → commandId of the command that placed it (a movement, kept forever). */
const holdKey = (holdId: string) => `h!${holdId}`;
/** What a command posted, kept forever for reversals (reversal-records.ts); found by commandId only, never by `outcomes()`. */
const postingKey = (commandId: string) => `P!${commandId}`;
/** reversalId → commandId of the reversal (a movement, kept forever). */
const reversalKey = (reversalId: string) => `v!${reversalId}`;
/** Active holds by expiry time, for the expiry step: value is the placing commandId. */
const holdExpiryKey = (expiresAt: number, holdId: string) => `e!${String(expiresAt).padStart(15, '0')}!${holdId}`;
const checkpointKey = 'm!checkpoint';
const identityKey = 'm!identity';

const sameIdentity = (a: StoreIdentity, b: StoreIdentity): boolean =>
  a.clusterId === b.clusterId && a.partition === b.partition && JSON.stringify(a.topics) === JSON.stringify(b.topics);

/** The partition's LevelDB, its values in the store's encoding (store-encoding.ts), within its bounds. */
const levelAt = (path: string) => new Level<string, Value>(path, { valueEncoding: storeValueEncoding<Value>(), ...storeLevelOptions });

export class PartitionStore {
  /** Recently used account states (at most statesCachedMax): a shortcut past LevelDB, never the answer itself. */
  private readonly cachedStates = new Map<string, AccountState>();
  /**
   * No idempotency record in the store was processed before this (epoch ms; Infinity: none at
   * all), or undefined when not known. Lets the expiry pass, which runs after every commit, skip
   * its LevelDB scan until a record can be due: in steady state there is nothing to expire for
   * days, and an iterator per transaction was a fixed cost of every cycle (issue 13).
   */
  private oldestOutcomeAt: number | undefined;
  /** Writes begun (and not yet ended): an expiry scan learns its bound only if none overlapped it. */
  private writesBegun = 0;
  private writesRunning = 0;

  private constructor(
    readonly path: string,
    private readonly db: Level<string, Value>,
  ) {}

  /** Opens the partition's store; an unreadable, foreign-format or other ledger's store is wiped first. */
  static async open(dataDir: string, identity: StoreIdentity, log: Log): Promise<PartitionStore> {
    const partition = identity.partition;
    const path = join(dataDir, 'account', `p${partition}`);
    mkdirSync(path, { recursive: true });
    try {
      const store = new PartitionStore(path, levelAt(path));
      await store.db.open();
      const checkpoint = await store.db.get(checkpointKey);
      const recorded = (await store.db.get(identityKey)) as StoreIdentity | undefined;
      if (checkpoint === undefined && recorded === undefined) return await store.claim(identity);
      if (checkpoint !== undefined && (checkpoint as { format?: number | string }).format !== storeFormat) log('store has another format; wiping it', { partition, path });
      else if (recorded === undefined || !sameIdentity(recorded, identity)) log('store belongs to another ledger; wiping it', { partition, path, recorded, expected: identity });
      else return store;
      await store.db.close();
    } catch (error) {
      log('store cannot be opened; wiping it', { partition, path, error: (error as Error).message });
    }
    rmSync(path, { recursive: true, force: true });
    mkdirSync(path, { recursive: true });
    const store = new PartitionStore(path, levelAt(path));
    await store.db.open();
    return store.claim(identity);
  }

  private async claim(identity: StoreIdentity): Promise<PartitionStore> {
    await this.db.put(identityKey, identity);
    return this;
  }

  async checkpoint(): Promise<Checkpoint | undefined> {
    const value = (await this.db.get(checkpointKey)) as (Checkpoint & { format: number | string }) | undefined;
    return value === undefined ? undefined : { stateOffset: value.stateOffset, outcomesOffset: value.outcomesOffset, movementsOffset: value.movementsOffset };
  }

  /** Empties the store (keeping whose it is), for a rebuild from the beginning of the changelogs. */
  async clear(): Promise<void> {
    this.cachedStates.clear();
    const identity = (await this.db.get(identityKey)) as StoreIdentity | undefined;
    await this.db.clear();
    if (identity !== undefined) await this.db.put(identityKey, identity);
  }

  /**
   * The states of the given accounts (absent: the account does not exist), from the cache or
   * LevelDB. The answer is its own map: the cache is only a shortcut, so an account it evicts
   * while this loads the others is still answered (decisions must never take an existing account
   * for a missing one).
   */
  async states(accountIds: Iterable<string>): Promise<Map<string, AccountState>> {
    const found = new Map<string, AccountState>();
    const missing: string[] = [];
    for (const id of new Set(accountIds)) {
      const cached = this.cachedStates.get(id);
      if (cached !== undefined) found.set(id, cached);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const values = await this.db.getMany(missing.map(stateKey));
    for (const value of values) {
      if (value === undefined) continue;
      const state = value as AccountState;
      found.set(state.accountId, state);
      this.remember(state);
    }
    return found;
  }

  /** The state in the cache, if it is there (tests and diagnostics; decisions use states()). */
  cachedState(accountId: string): AccountState | undefined {
    return this.cachedStates.get(accountId);
  }

  /** Idempotency records of the given commands (undefined where the command is new). */
  async outcomes(commandIds: string[]): Promise<Map<string, CommandOutcome>> {
    // A record kept forever wins over a windowed one of the same command.
    return this.firstRecords(commandIds, [movementKey, outcomeKey]);
  }

  /** The accepted initiations of the given transfers (kept forever), by transferId. */
  async initiations(transferIds: string[]): Promise<Map<string, CommandOutcome>> {
    return this.byIndex(transferIds.map(transferKey), transferIds);
  }

  /** The records of the given holds (kept forever, with their current status), by holdId. */
  async holds(holdIds: string[]): Promise<Map<string, CommandOutcome>> {
    return this.byIndex(holdIds.map(holdKey), holdIds);
  }

  /** What the given commands posted (kept forever), by commandId: a posting record, else the command's movement. */
  async postings(commandIds: string[]): Promise<Map<string, CommandOutcome>> {
    return this.firstRecords(commandIds, [postingKey, movementKey]);
  }

  /** The posting records of the given commands alone (their movements are in outcomes()), by commandId. */
  async postingRecords(commandIds: string[]): Promise<Map<string, CommandOutcome>> {
    return this.firstRecords(commandIds, [postingKey]);
  }

  /** Per command, the record under the first of `keysOf` that holds one; one LevelDB read for all. */
  private async firstRecords(commandIds: string[], keysOf: ((commandId: string) => string)[]): Promise<Map<string, CommandOutcome>> {
    const found = new Map<string, CommandOutcome>();
    if (commandIds.length === 0) return found;
    const values = await this.db.getMany(keysOf.flatMap((keyOf) => commandIds.map(keyOf)));
    commandIds.forEach((commandId, i) => {
      for (let k = 0; k < keysOf.length; k += 1) {
        const value = values[k * commandIds.length + i];
        if (value !== undefined) {
          found.set(commandId, value as CommandOutcome);
          return;
        }
      }
    });
    return found;
  }

  /** The records of the given reversals (kept forever, with their current status), by reversalId. */
  async reversals(reversalIds: string[]): Promise<Map<string, CommandOutcome>> {
    return this.byIndex(reversalIds.map(reversalKey), reversalIds);
  }

  /** Active holds whose expiresAt is at or before `now`, oldest first, at most `recordsMax`: the expiry step's work. */
  async dueHolds(now: number, recordsMax: number): Promise<CommandOutcome[]> {
    const commandIds: string[] = [];
    for await (const value of this.db.values({ gte: 'e!', lte: holdExpiryKey(now, '\uffff'), limit: recordsMax })) commandIds.push(value as string);
    return [...(await this.outcomes(commandIds)).values()];
  }

  private async byIndex(keys: string[], ids: string[]): Promise<Map<string, CommandOutcome>> {
    const found = new Map<string, CommandOutcome>();
    if (keys.length === 0) return found;
    const commandIds = await this.db.getMany(keys);
    const known = ids.flatMap((id, i) => {
      const commandId = commandIds[i];
      return typeof commandId === 'string' ? [{ id, commandId }] : [];
    });
    const outcomes = await this.outcomes(known.map((k) => k.commandId));
    for (const { id, commandId } of known) {
      const outcome = outcomes.get(commandId);
      if (outcome !== undefined) found.set(id, outcome);
    }
    return found;
  }

  private remember(state: AccountState): void {
    this.cachedStates.delete(state.accountId);
    this.cachedStates.set(state.accountId, state);
    if (this.cachedStates.size > statesCachedMax) {
      const oldest = this.cachedStates.keys().next().value;
      if (oldest !== undefined) this.cachedStates.delete(oldest);
    }
  }

  /**
   * Writes states, idempotency records (forgotten after the window), movements (kept forever,
   * indexed by transferId) and the checkpoint in one atomic LevelDB batch.
   */
  async write(states: Iterable<AccountState>, outcomes: Iterable<CommandOutcome>, checkpoint: Checkpoint, movements: Iterable<CommandOutcome> = []): Promise<void> {
    const ops: BatchOp[] = [];
    for (const state of states) {
      ops.push({ type: 'put', key: stateKey(state.accountId), value: state });
      this.remember(state);
    }
    let oldestWritten = Infinity;
    for (const outcome of outcomes) {
      ops.push({ type: 'put', key: outcomeKey(outcome.commandId), value: outcome });
      ops.push({ type: 'put', key: expiryKey(outcome.processedAt, outcome.commandId), value: '' });
      oldestWritten = Math.min(oldestWritten, outcome.processedAt);
    }
    for (const movement of movements) {
      if (isPostingRecord(movement)) {
        ops.push({ type: 'put', key: postingKey(movement.commandId), value: movement });
        continue;
      }
      ops.push({ type: 'put', key: movementKey(movement.commandId), value: movement });
      const reversalId = reversalIdOf(movement);
      if (reversalId !== null) ops.push({ type: 'put', key: reversalKey(reversalId), value: movement.commandId });
      if (movement.transferId !== null) ops.push({ type: 'put', key: transferKey(movement.transferId), value: movement.commandId });
      if (movement.holdId !== null && movement.expiresAt !== null) {
        ops.push({ type: 'put', key: holdKey(movement.holdId), value: movement.commandId });
        const expiry = holdExpiryKey(movement.expiresAt, movement.holdId);
        ops.push(movement.holdStatus === 'ACTIVE' ? { type: 'put', key: expiry, value: movement.commandId } : { type: 'del', key: expiry });
      }
    }
    ops.push({ type: 'put', key: checkpointKey, value: { ...checkpoint, format: storeFormat } });
    // Lowered before the write, so an expiry pass that runs beside it cannot skip these records.
    if (this.oldestOutcomeAt !== undefined) this.oldestOutcomeAt = Math.min(this.oldestOutcomeAt, oldestWritten);
    this.writesBegun += 1;
    this.writesRunning += 1;
    try {
      await this.db.batch(ops);
    } finally {
      this.writesRunning -= 1;
    }
  }

  /**
   * Forgets idempotency records processed before `cutoff` (epoch ms): the outcomes topic's
   * retention. At most `recordsMax` index entries a call; returns how many records it forgot.
   * Scans only when a record can be due (`oldestOutcomeAt`), and learns from each scan when the
   * next one can be.
   */
  async expireOutcomes(cutoff: number, recordsMax: number): Promise<number> {
    // Not a time (a broken clock): nothing is due, as the key range below it was empty before.
    if (!Number.isFinite(cutoff)) return 0;
    if (this.oldestOutcomeAt !== undefined && cutoff <= this.oldestOutcomeAt) return 0;
    const writesBefore = this.writesRunning === 0 ? this.writesBegun : undefined;
    const due: string[] = [];
    // The first record not due, if the scan reaches it: none is older until one is written.
    let firstKept: number | undefined;
    for await (const key of this.db.keys({ gte: 'x!', lt: expiryKeysEnd, limit: recordsMax + 1 })) {
      const processedAt = expiryKeyTime(key);
      if (processedAt >= cutoff || due.length === recordsMax) {
        firstKept = processedAt;
        break;
      }
      due.push(key);
    }
    let forgotten = 0;
    if (due.length > 0) {
      // An index entry names the record it was written with: a newer record of the same command
      // (decided again after this one expired, both restored by an instance whose clock is behind)
      // has an entry of its own, and stays until that one is due.
      const commandIds = due.map((key) => key.slice(key.indexOf('!', 2) + 1));
      const records = await this.db.getMany(commandIds.map(outcomeKey));
      const ops: BatchOp[] = due.map((key) => ({ type: 'del', key }));
      commandIds.forEach((commandId, i) => {
        const record = records[i] as CommandOutcome | undefined;
        if (record === undefined || record.processedAt !== expiryKeyTime(due[i] as string)) return;
        ops.push({ type: 'del', key: outcomeKey(commandId) });
        forgotten += 1;
      });
      await this.db.batch(ops);
    }
    // The scan saw every record only if no write ran beside it (its iterator reads a snapshot);
    // otherwise the bound stays what write() kept it, still a lower bound, as deleting only raises
    // the oldest record's time.
    if (writesBefore !== undefined && writesBefore === this.writesBegun) this.oldestOutcomeAt = firstKept ?? Infinity;
    return forgotten;
  }

  async close(): Promise<void> {
    this.cachedStates.clear();
    await this.db.close();
  }
}
