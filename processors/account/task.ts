// One assigned partition of the commands topic: its store and, by default, its transactional
// producer (transactional id `<appId>.account.<partition>`, which fences any zombie owner). Every
// transaction carries a chunk's events, states, outcomes, follow-up commands, dead letters and
// the consumer offset; the store is written only after the commit. A failed or fenced producer
// is thrown away and the task re-initialized: fence, restore, re-read the committed offset.
// With ACCOUNT_TRANSACTIONS=instance the task has no producer: the instance's one transaction
// carries its chunks (instance-transactions.ts), fenced by group generation. Initialization is
// the same in both scopes: fence a per-partition owner, wait out a per-instance one (see init).
import { eventKey } from '../../topics/record-keys.ts';
import { type IHeaders, type Kafka, type KafkaMessage, type Message, type Producer, type TopicMessages } from 'kafkajs';
import { committedOffset } from './committed-offset.ts';
import { DecodeError } from '../../schemas/codec.ts';
import { ExplicitFirstPartitioner, sharedPartitionOf } from '../../topics/partitioner.ts';
import type { Codecs } from '../../schemas/registry.ts';
import type { CommandOutcome } from '../../schemas/types.ts';
import { fetchedAtHeader, idempotencyWindowMs, replayedHeader, type TopicNames } from '../../topics/topics.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Logger } from '../log.ts';
import { routingProblem } from './routing.ts';
import { processBatch, type BatchResult, type DecodedRecord } from './batch.ts';
import { endKey, runTransaction, type CommittedTransaction, type PreparedChunk } from './transaction.ts';
import { lookupsFor } from './lookups.ts';
import { restorePartition } from './restore.ts';
import { emptyCheckpoint, PartitionStore, type Checkpoint } from './store.ts';

/**
 * Idempotency records past the window forgotten after each transaction, at most. Twice the most
 * a transaction adds (transactionCommandsMax, 2,000), so forgetting outpaces remembering at any
 * throughput and the store stays bounded by the window (DESIGN §8), while one pass stays short.
 */
export const outcomeExpiryRecordsMax = 4_000;
/**
 * A transaction that is not committed within this is aborted by the broker (ACCOUNT_TRANSACTION_TIMEOUT_MS).
 * Per partition, a new owner fences the old one at once, so it only bounds a hung transaction.
 * Per instance nothing fences a dead owner's open transaction but this, and the partition's new
 * owner waits for it: Kafka Streams' exactly_once_v2 uses 10 s for the same reason.
 */
export const transactionTimeoutMsDefault = { partition: 60_000, instance: 10_000 } as const;
/** The most ACCOUNT_TRANSACTION_TIMEOUT_MS may be: well inside restoreTimeoutMs, which may wait out such a transaction. */
export const transactionTimeoutMsMax = 300_000;
/**
 * How long a stable read of the committed offset waits for a transaction with the partition's
 * offsets pending: any instance's transaction timeout (they may differ) and the broker's abort check (10 s).
 */
const stableOffsetWaitMs = transactionTimeoutMsMax + 30_000;

/** `partition`: one transactional producer per partition (the default); `instance`: one per instance, fenced by group generation (KIP-447). */
export type TransactionScope = 'partition' | 'instance';

export interface TaskContext {
  kafka: Kafka;
  appId: string;
  dataDir: string;
  topics: TopicNames;
  /** Of the commands topic: a command must sit on murmur2(accountId) mod partitions. */
  partitions: number;
  codecs: Codecs;
  log: Logger;
  /** The processor's clock (epoch ms): Date.now in production; tests move it to cross the idempotency window. */
  clock: () => number;
  /** Every request the transactional producer sends, by kafkajs API name: what a transaction costs the broker. */
  onProducerRequest?: (apiName: string) => void;
  transactions: TransactionScope;
  transactionTimeoutMs: number;
}

export interface ChunkStats {
  commands: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Map<string, number>;
  deadLettered: number;
  transactionMs: number;
  /** Where the chunk's time went, ms: decode and store reads, decide, then the transaction's steps and the store write. */
  phases: ChunkPhases;
  /** Records of the commands topic after this chunk's last command (consumer lag). */
  lag: number;
}

export interface ChunkPhases {
  read: number;
  decide: number;
  send: number;
  offsets: number;
  commit: number;
  store: number;
}

export class PartitionTask {
  private producer: Producer | undefined;
  private store: PartitionStore | undefined;
  private checkpoint: Checkpoint = emptyCheckpoint;
  /** The consumer offset of the last commit: where processing resumes after any failure. */
  nextOffset = '0';
  ready = false;
  /** False until the first batch after (re)initialization confirmed the fetch position. */
  positionVerified = false;
  private initializing: { epoch: number; done: Promise<void> } | undefined;
  /**
   * Bumped by failed(): what the task knew is stale (its transaction failed, or per instance a
   * generation went by without us). An initialization begun before the bump must not make the
   * task ready with what it read then.
   */
  private epoch = 0;
  /** Records restored from the changelogs by the last initialization (metrics). */
  restoredRecords = 0;
  private readonly partitionOf: (accountId: string) => number;

  constructor(
    readonly partition: number,
    private readonly context: TaskContext,
    private readonly onReady: (restoredRecords: number) => void = () => {},
  ) {
    this.partitionOf = sharedPartitionOf(context.partitions);
  }

  get groupId(): string {
    return `${this.context.appId}.account`;
  }

  /** Initializes once, however many callers (assignment and first batch) ask at the same time. */
  ensureReady(heartbeat: () => Promise<void>): Promise<void> {
    if (this.ready) return Promise.resolve();
    const current = this.initializing;
    if (current !== undefined && current.epoch === this.epoch) return current.done;
    // A superseded initialization still running ends first (it fails), so two never hold the store.
    const epoch = this.epoch;
    const done = (current?.done ?? Promise.resolve()).catch(() => undefined).then(() => this.init(heartbeat, epoch));
    const entry = { epoch, done };
    this.initializing = entry;
    const settled = () => {
      if (this.initializing === entry) this.initializing = undefined;
    };
    done.then(settled, settled);
    return done;
  }

  /**
   * Makes the previous owner's last transaction final, then reads where the group left off and
   * restores the store, the same way in both transaction scopes, so instances of both can share
   * the group (a rolling switch of ACCOUNT_TRANSACTIONS):
   * 1. initializing the partition's transactional id `<appId>.account.<p>` fences a per-partition
   *    zombie and aborts its open transaction (per partition the producer is then ours to use);
   * 2. nothing fences a per-instance zombie: the committed offset is read stable, so a
   *    transaction that already sent this partition's offsets is waited for (it commits or aborts);
   * 3. the store is restored up to the changelogs' high watermarks, not their last stable offsets,
   *    waiting out any transaction still open on them: it either sent its offsets in time (and was
   *    waited for in 2, so its records are below the high watermark) or is refused them by
   *    generation and aborts.
   */
  private async init(heartbeat: () => Promise<void>, epoch: number): Promise<void> {
    const { kafka, appId, dataDir, topics, codecs, log, clock } = this.context;
    const perInstance = this.context.transactions === 'instance';
    await this.reset();
    // The store records whose it is: another cluster, other topics or another partition's store is wiped (DESIGN §8).
    const identity = { clusterId: await this.clusterId(), topics: [topics.commands, topics.accountState, topics.outcomes, topics.movements], partition: this.partition };
    this.store = await PartitionStore.open(dataDir, identity, log.warn);
    const producer = await fencingProducer(this.context, `${appId}.account.${this.partition}`);
    if (perInstance) await producer.disconnect();
    else this.producer = producer;
    this.nextOffset = await committedOffset({ kafka, groupId: this.groupId, topic: topics.commands, partition: this.partition, waitMs: stableOffsetWaitMs, heartbeat });
    const restored = await restorePartition({
      kafka,
      appId,
      partition: this.partition,
      stateTopic: topics.accountState,
      outcomesTopic: topics.outcomes,
      movementsTopic: topics.movements,
      outcomesCutoff: clock() - idempotencyWindowMs,
      store: this.store,
      codecs,
      heartbeat,
      log: log.info,
    });
    this.checkpoint = restored.checkpoint;
    this.restoredRecords = restored.states + restored.outcomes + restored.movements;
    this.positionVerified = false;
    if (epoch !== this.epoch) throw new Error(`partition ${this.partition} went stale while it initialized; initializing again`);
    this.ready = true;
    this.onReady(this.restoredRecords);
    log.info('partition ready', { partition: this.partition, nextOffset: this.nextOffset, restoredStates: restored.states, restoredOutcomes: restored.outcomes, restoredMovements: restored.movements });
  }

  private async clusterId(): Promise<string> {
    const admin = this.context.kafka.admin();
    await admin.connect();
    try {
      return (await admin.describeCluster()).clusterId;
    } finally {
      await admin.disconnect();
    }
  }

  private async decode(messages: KafkaMessage[]): Promise<DecodedRecord[]> {
    const decoded: DecodedRecord[] = [];
    for (const { offset, key, value } of messages) {
      try {
        const command = await this.context.codecs.commands.decode(value);
        // A misrouted command would be decided against the wrong store (DESIGN §8): dead-letter it.
        const misrouted = routingProblem({ key, partition: this.partition }, command.accountId, this.partitionOf);
        decoded.push(misrouted === null ? { kind: 'command', offset, key, value, command } : { kind: 'poison', offset, key, value, reason: misrouted });
      } catch (error) {
        // Only records that can never decode are poison; an unreachable registry is retried.
        if (!(error instanceof DecodeError)) throw error;
        decoded.push({ kind: 'poison', offset, key, value, reason: error.message });
      }
    }
    return decoded;
  }

  /** Processes one chunk in its own transaction (per partition). Throws on any failure; the caller resets the task. */
  async process(messages: KafkaMessage[], highWatermark: string): Promise<ChunkStats> {
    const producer = this.producer;
    if (producer === undefined) throw new Error(`partition ${this.partition} has no producer`);
    const prepared = await this.prepare(messages, highWatermark);
    let committed: CommittedTransaction;
    try {
      committed = await runTransaction(producer, [prepared], { groupId: this.groupId, commandsTopic: this.context.topics.commands, log: this.context.log });
    } catch (error) {
      this.ready = false;
      throw error;
    }
    return this.afterCommit(prepared, committed);
  }

  /** Decodes and decides a chunk against the store: what its transaction will carry. Reads only. */
  async prepare(messages: KafkaMessage[], highWatermark: string): Promise<PreparedChunk> {
    const store = this.store;
    const last = messages[messages.length - 1];
    if (!this.ready || store === undefined) throw new Error(`partition ${this.partition} is not initialized`);
    if (last === undefined) throw new Error('prepare() needs at least one message');
    const fetchedAt = Date.now();
    const decoded = await this.decode(messages);
    const commands = decoded.flatMap((d) => (d.kind === 'command' ? [d.command] : []));
    const lookups = await lookupsFor(store, commands);
    const now = this.context.clock();
    const decidedFrom = Date.now();
    const result = processBatch(decoded, lookups, now);
    const records = this.records(result, fetchedAt);
    return { partition: this.partition, messages, result, records, nextOffset: String(BigInt(last.offset) + 1n), now, fetchedAt, decidedFrom, decided: Date.now(), highWatermark };
  }

  /** The chunk's transaction committed: the store catches up, and the next chunk starts after it. */
  async afterCommit(prepared: PreparedChunk, { ends, marks }: CommittedTransaction): Promise<ChunkStats> {
    const store = this.store;
    if (store === undefined) throw new Error(`partition ${this.partition} was reset while its transaction committed`);
    const { result, now } = prepared;
    this.nextOffset = prepared.nextOffset;
    this.checkpoint = this.nextCheckpoint(ends);
    if (crashPointsArmed) crashPoint('after-commit');
    await store.write(result.states.values(), result.newOutcomes, this.checkpoint, [...result.movements.values(), ...result.postings.values()]);
    await store.expireOutcomes(now - idempotencyWindowMs, outcomeExpiryRecordsMax);
    const phases: ChunkPhases = {
      read: prepared.decidedFrom - prepared.fetchedAt,
      decide: prepared.decided - prepared.decidedFrom,
      send: marks.sent - marks.started,
      // A one-request transaction's offsets go while its records are written: only what they
      // took past the records counts here, and the commit starts after whichever ended last.
      offsets: Math.max(0, marks.offsets - marks.sent),
      commit: marks.committed - Math.max(marks.sent, marks.offsets),
      store: Date.now() - marks.committed,
    };
    return {
      phases,
      commands: prepared.messages.length,
      accepted: result.accepted,
      rejected: result.rejected,
      rejectedByCode: result.rejectedByCode,
      deadLettered: result.deadLetters.length,
      transactionMs: marks.committed - marks.started,
      lag: Math.max(0, Number(BigInt(prepared.highWatermark) - BigInt(this.nextOffset))),
    };
  }

  /**
   * What the task knew is stale (its transaction failed, or per instance a generation went by
   * without us): re-initialize before the next chunk; an initialization already under way does not count.
   */
  failed(): void {
    this.ready = false;
    this.epoch += 1;
  }

  /**
   * Active holds of this partition past their expiresAt (at most `recordsMax`), as the store knew
   * them after the last commit: the expiry step asks for each with an ExpireHold command, which is
   * decided in a transaction like any other. Empty while the task is not ready.
   */
  async dueHolds(recordsMax: number): Promise<CommandOutcome[]> {
    const store = this.store;
    if (!this.ready || store === undefined) return [];
    return store.dueHolds(this.context.clock(), recordsMax);
  }

  private records(result: BatchResult, fetchedAt: number): TopicMessages[] {
    const { topics, codecs } = this.context;
    const partition = this.partition;
    const fetched = String(fetchedAt);
    const replayed: IHeaders = { [replayedHeader]: 'true', [fetchedAtHeader]: fetched };
    const fresh: IHeaders = { [fetchedAtHeader]: fetched };
    const byTopic: TopicMessages[] = [
      { topic: topics.events, messages: result.events.map((e) => ({ partition, key: eventKey(e.accountId, e.sequence), value: codecs.events.encode(e) })) },
      { topic: topics.accountState, messages: [...result.states.values()].map((s) => ({ partition, key: s.accountId, value: codecs.accountState.encode(s) })) },
      {
        topic: topics.outcomes,
        messages: result.outcomes.map((o) => ({ partition, key: o.key, value: codecs.outcomes.encode(o.outcome), headers: o.replayed ? replayed : fresh })),
      },
      { topic: topics.movements, messages: [...result.movements.values(), ...result.postings.values()].map((o) => ({ partition, key: o.commandId, value: codecs.movements.encode(o) })) },
      // Follow-ups go to the destination account's partition: the default (murmur2) partitioner's
      // answer for its key, remembered (topics/partitioner.ts), and the one the destination's task
      // checks them against. Left to kafkajs, murmur2 ran on BigInt-backed Longs for every
      // follow-up: 8 % of all the processor allocated in bulk.
      { topic: topics.commands, messages: result.followUps.map((c): Message => ({ partition: this.partitionOf(c.accountId), key: c.accountId, value: codecs.commands.encode(c) })) },
      {
        topic: topics.commandsDlq,
        messages: result.deadLetters.map((d) => ({
          partition,
          key: d.key,
          value: d.value,
          headers: {
            'dlq.reason': d.reason,
            'dlq.source.topic': topics.commands,
            'dlq.source.partition': String(partition),
            'dlq.source.offset': d.offset,
            'dlq.processor': this.context.appId,
          },
        })),
      },
    ];
    return byTopic.filter((t) => t.messages.length > 0);
  }

  /** The changelog offsets the store reflects once this transaction's records are applied: where our records end on each. */
  private nextCheckpoint(ends: Map<string, string>): Checkpoint {
    const after = (topic: string, previous: string): string => ends.get(endKey(topic, this.partition)) ?? previous;
    return {
      stateOffset: after(this.context.topics.accountState, this.checkpoint.stateOffset),
      outcomesOffset: after(this.context.topics.outcomes, this.checkpoint.outcomesOffset),
      movementsOffset: after(this.context.topics.movements, this.checkpoint.movementsOffset),
    };
  }

  /** Drops the producer and store; the next batch re-initializes the task from Kafka. */
  async reset(): Promise<void> {
    this.ready = false;
    const producer = this.producer;
    const store = this.store;
    this.producer = undefined;
    this.store = undefined;
    if (producer !== undefined) await producer.disconnect().catch(() => undefined);
    if (store !== undefined) await store.close().catch(() => undefined);
  }
}

/**
 * A connected transactional producer for the processor's transactions, its requests counted
 * (metrics). Connecting initializes the transactional id, which fences any earlier producer with
 * that id and aborts its open transaction.
 */
export async function fencingProducer(context: TaskContext, transactionalId: string): Promise<Producer> {
  const producer = context.kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: context.transactionTimeoutMs,
    createPartitioner: ExplicitFirstPartitioner,
    // The next transaction after a commit often meets CONCURRENT_TRANSACTIONS while the
    // coordinator writes markers; kafkajs' default 300 ms first retry would throttle us.
    retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 12 },
  });
  const onRequest = context.onProducerRequest;
  if (onRequest !== undefined) producer.on(producer.events.REQUEST, (event) => onRequest(event.payload.apiName));
  try {
    await producer.connect();
    const fence = await producer.transaction();
    await fence.abort();
  } catch (error) {
    await producer.disconnect().catch(() => undefined);
    throw error;
  }
  return producer;
}
