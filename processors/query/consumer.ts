// The query processor's consumer: group `<appId>.query` on the events topic, read_committed,
// offsets committed by hand. Delivery: at least once from Kafka, effectively once on the views:
// each chunk's view rows and the partition checkpoint are one atomic LevelDB write, and the
// offset is committed only after it, so a crash in between replays events that the per-account
// sequence check skips. On every assignment each partition is paused until replay.ts decided
// whether its store can resume or must be wiped and rebuilt from the start of the log. An event
// the views cannot apply is parked (views/parked.ts) in the same atomic write, never fatal: the
// log keeps it forever, so stopping on it would stop on every restart.
import type { Admin, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Codecs } from '../../schemas/registry.ts';
import { DecodeError } from '../../schemas/codec.ts';
import type { AccountEvent } from '../../schemas/types.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Logger } from '../log.ts';
import type { Progress } from './progress.ts';
import { replayDecision } from './replay.ts';
import type { ViewStores } from './stores.ts';
import { accountsOf, applyEvents, entryRef, holdsNamedBy, parkedKey, storedDuplicates, type BatchChanges, type ParkedEvent } from './views/index.ts';
import type { VersionWaiters } from './waiters.ts';

/** Events per store write (and offset commit): bounds the write batch and the memory of a fold. */
export const batchEventsMax = 5000;
/** Bytes fetched per partition per request: about 6,000 events of ~160 bytes. */
export const fetchBytesPerPartitionMax = 1024 * 1024;
/** Attempts to read the group's offsets and the log's ends for an assignment before giving up. */
const prepareAttemptsMax = 5;
/** Parked events logged one by one per partition and process; past it they are only counted and stored, so a bad producer cannot flood the log. */
export const parkedLoggedPerPartitionMax = 1000;
const prepareBackoffMs = 500;

/** kafkajs wraps what eachBatch threw (KafkaJSNonRetriableError); the cause names what broke. */
function rootCause(error: Error): Error {
  let current = error;
  while (current.name.startsWith('KafkaJS') && current.cause instanceof Error) current = current.cause;
  return current;
}

export interface QueryConsumerOptions {
  kafka: Kafka;
  admin: Admin;
  appId: string;
  topic: string;
  stores: ViewStores;
  codecs: Codecs;
  waiters: VersionWaiters;
  progress: Progress;
  log: Logger;
  /** Partitions folded at the same time (each has its own store, so they never contend). */
  partitionsConsumedConcurrently: number;
  /** How long the group waits for a silent instance (QUERY_SESSION_TIMEOUT_MS). */
  sessionTimeoutMs: number;
  /** The consumer cannot go on (a broken invariant of this code, Kafka past its retries): stop the process. */
  onFatal: (error: Error) => void;
  /** An event was parked (once per parking; a rebuild that meets it again parks it again). */
  onParked?: (event: ParkedEvent) => void;
  /** An event was applied to the views and written (the live stream); not called for duplicates or parked events. */
  onApplied?: (partition: number, offset: string, event: AccountEvent) => void;
}

/** A chunk's records split into the events to fold (with their records) and the records parked before the fold. */
interface DecodedChunk {
  events: AccountEvent[];
  records: KafkaMessage[];
  parked: ParkedEvent[];
}

interface PartitionOffsets {
  committed: Map<number, bigint | null>;
  ends: Map<number, { low: bigint; high: bigint }>;
}

export class QueryConsumer {
  private readonly consumer: Consumer;
  private generation = 0;
  /** Partitions prepared in the current generation: only their batches are applied. */
  private readonly active = new Set<number>();
  /** Serializes preparation, batches and closing of each partition's store. */
  private readonly locks = new Map<number, Promise<unknown>>();
  /** Parked events logged so far, per partition. */
  private readonly parkedLogged = new Map<number, number>();

  constructor(private readonly options: QueryConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: `${options.appId}.query`,
      readUncommitted: false,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 100,
      maxBytesPerPartition: fetchBytesPerPartitionMax,
      retry: { initialRetryTime: 100, maxRetryTime: 5000, retries: 10 },
    });
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment[options.topic] ?? []));
    // Batches holding only transaction markers or aborted records never reach eachBatch, but
    // kafkajs moves past them: follow it, or a log ending in a marker would never look caught up.
    this.consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0 && payload.topic === options.topic && this.active.has(payload.partition)) {
        options.progress.advance(payload.partition, BigInt(payload.lastOffset) + 1n, 0);
      }
    });
    this.consumer.on(CRASH, (event) => {
      if (!event.payload.restart) options.onFatal(rootCause(event.payload.error));
    });
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently,
      eachBatch: (payload) => this.withLock(payload.batch.partition, () => this.onBatch(payload)),
    });
  }

  /** Leaves the group after the batch in progress is written and committed. */
  async stop(): Promise<void> {
    this.generation += 1;
    this.active.clear();
    await this.consumer.disconnect();
  }

  private withLock<T>(partition: number, task: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(partition) ?? Promise.resolve();
    const next = previous.then(task, task);
    this.locks.set(partition, next.catch(() => undefined));
    return next;
  }

  /** Runs synchronously inside kafkajs's join, before any fetch of the new generation. */
  private onAssignment(partitions: number[]): void {
    this.generation += 1;
    const generation = this.generation;
    this.active.clear();
    if (partitions.length > 0) this.consumer.pause([{ topic: this.options.topic, partitions }]);
    this.options.progress.assign(partitions);
    this.options.log.info('partitions assigned', { topic: this.options.topic, partitions, generation });
    this.prepareAll(generation, partitions).catch((error: Error) => this.options.onFatal(error));
  }

  private async prepareAll(generation: number, partitions: number[]): Promise<void> {
    const { stores } = this.options;
    for (const partition of this.openPartitions().filter((p) => !partitions.includes(p))) {
      await this.withLock(partition, () => stores.closePartition(partition));
    }
    if (partitions.length === 0) return;
    const offsets = await this.fetchOffsets(partitions);
    for (const partition of partitions) {
      if (generation !== this.generation) return;
      await this.withLock(partition, () => this.preparePartition(generation, partition, offsets));
    }
  }

  private openPartitions(): number[] {
    return Array.from({ length: this.options.stores.partitions }, (_, p) => p).filter((p) => this.options.stores.store(p) !== undefined);
  }

  private async fetchOffsets(partitions: number[]): Promise<PartitionOffsets> {
    const { admin, appId, topic } = this.options;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const [group] = await admin.fetchOffsets({ groupId: `${appId}.query`, topics: [topic] });
        const topicOffsets = await admin.fetchTopicOffsets(topic);
        const committed = new Map(partitions.map((p) => [p, null as bigint | null]));
        for (const { partition, offset } of group?.partitions ?? []) committed.set(partition, BigInt(offset) < 0n ? null : BigInt(offset));
        const ends = new Map(topicOffsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
        return { committed, ends };
      } catch (error) {
        if (attempt >= prepareAttemptsMax) throw error;
        this.options.log.warn('reading offsets for an assignment failed; retrying', { attempt, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, prepareBackoffMs * attempt));
      }
    }
  }

  private async preparePartition(generation: number, partition: number, offsets: PartitionOffsets): Promise<void> {
    const { stores, topic, log, progress } = this.options;
    const ends = offsets.ends.get(partition);
    if (ends === undefined) throw new Error(`${topic} has no partition ${partition}`);
    const { store, problem } = await stores.openPartition(partition);
    const decision = replayDecision({
      committed: offsets.committed.get(partition) ?? null,
      checkpoint: store.checkpoint(),
      storeProblem: problem,
      logStart: ends.low,
      logEnd: ends.high,
    });
    if (decision.action === 'rebuild' && store.checkpoint() !== null) await stores.wipePartition(partition);
    if (generation !== this.generation) return;
    log.info(decision.action === 'rebuild' ? 'rebuilding partition views from the start of the log' : 'resuming partition views', {
      partition,
      reason: decision.reason,
      from: String(decision.from),
      committed: String(offsets.committed.get(partition) ?? 'none'),
      logEnd: String(ends.high),
    });
    progress.begin(partition, decision.action, decision.from, ends.high, decision.reason);
    this.consumer.seek({ topic, partition, offset: String(decision.from) });
    this.active.add(partition);
    this.consumer.resume([{ topic, partitions: [partition] }]);
  }

  private async onBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const { topic, stores, waiters, progress } = this.options;
    const partition = batch.partition;
    const store = stores.store(partition);
    if (batch.topic !== topic || store === undefined) return;
    for (let start = 0; start < batch.messages.length; start += batchEventsMax) {
      // A batch fetched before a re-assignment or seek belongs to a position we left.
      if (!isRunning() || isStale() || !this.active.has(partition)) return;
      const chunk = batch.messages.slice(start, start + batchEventsMax);
      const isLast = start + batchEventsMax >= batch.messages.length;
      // The last chunk ends at the batch's last offset, which may be a transaction marker.
      const lastOffset = isLast ? BigInt(batch.lastOffset()) : BigInt(chunk[chunk.length - 1]?.offset ?? '0');
      const { events, records, parked } = await this.decodeAll(chunk, partition);
      const current = await store.readAccounts(accountsOf(events));
      const changes = applyEvents(current, events, await store.entries(storedDuplicates(current, events)), await store.reads.holdRecords(holdsNamedBy(events)));
      for (const { index, reason, detail } of changes.parked) {
        const event = events[index];
        const record = records[index];
        if (event !== undefined && record !== undefined) parked.push(this.parkedEvent(partition, record, reason, detail, event));
      }
      await store.write(changes, lastOffset + 1n, parked);
      if (crashPointsArmed) crashPoint('query-after-write');
      for (const event of parked) this.park(event);
      this.published(partition, events, records, changes);
      for (const [accountId, row] of changes.accounts) waiters.notify(accountId, row.version);
      resolveOffset(String(lastOffset));
      await commitOffsetsIfNecessary({ topics: [{ topic, partitions: [{ partition, offset: String(lastOffset + 1n) }] }] });
      progress.advance(partition, lastOffset + 1n, events.length - changes.parked.length);
      await heartbeat();
    }
  }

  /** Hands every event the write applied, with its offset, to onApplied: all of them unless some were duplicates or parked. */
  private published(partition: number, events: AccountEvent[], records: KafkaMessage[], changes: BatchChanges): void {
    const { onApplied } = this.options;
    if (onApplied === undefined) return;
    const everyEvent = changes.duplicates === 0 && changes.parked.length === 0;
    // The first event at an account's place is the one applied; a later one there was a duplicate or parked.
    const applied = everyEvent ? null : new Set(changes.history.map((h) => entryRef(h.accountId, h.entry.sequence)));
    events.forEach((event, index) => {
      const record = records[index];
      if (record !== undefined && (applied === null || applied.delete(entryRef(event.accountId, event.sequence)))) onApplied(partition, record.offset, event);
    });
  }

  /** Decodes a chunk; records that do not decode, or whose account belongs to another partition, are parked before the fold. */
  private async decodeAll(messages: KafkaMessage[], partition: number): Promise<DecodedChunk> {
    const { codecs, stores } = this.options;
    const chunk: DecodedChunk = { events: [], records: [], parked: [] };
    for (const message of messages) {
      let event: AccountEvent;
      try {
        event = codecs.events.decodeKnown(message.value) ?? (await codecs.events.decode(message.value));
      } catch (error) {
        // Only records that can never decode are parked; an unreachable registry is retried.
        if (!(error instanceof DecodeError)) throw error;
        chunk.parked.push(this.parkedEvent(partition, message, 'UNDECODABLE', error.message, null));
        continue;
      }
      // Reads look for an account in the partition Kafka's partitioner gives its id (DESIGN §2):
      // an event elsewhere belongs to a second copy of the account that no read would find.
      const expected = stores.partitionOf(event.accountId);
      if (expected !== partition) {
        const detail = `event ${event.accountId}:${event.sequence} (${event.payload.type}): the account belongs in partition ${expected}`;
        chunk.parked.push(this.parkedEvent(partition, message, 'WRONG_PARTITION', detail, event));
        continue;
      }
      chunk.events.push(event);
      chunk.records.push(message);
    }
    return chunk;
  }

  private parkedEvent(partition: number, record: KafkaMessage, reason: ParkedEvent['reason'], detail: string, event: AccountEvent | null): ParkedEvent {
    const key = parkedKey(record.key === null ? null : record.key.toString('utf8'));
    return { partition, offset: record.offset, key, reason, detail, accountId: event?.accountId ?? null, sequence: event?.sequence ?? null };
  }

  /** Logged and counted once its store write is done; the views and every other account go on. */
  private park(event: ParkedEvent): void {
    this.options.onParked?.(event);
    const logged = (this.parkedLogged.get(event.partition) ?? 0) + 1;
    if (logged > parkedLoggedPerPartitionMax + 1) return;
    this.parkedLogged.set(event.partition, logged);
    if (logged <= parkedLoggedPerPartitionMax) this.options.log.warn('event parked: left out of the views', { topic: this.options.topic, ...event });
    else this.options.log.warn('further parked events of this partition are counted and stored, not logged', { partition: event.partition, parkedLoggedPerPartitionMax });
  }
}
