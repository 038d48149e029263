// One assigned partition of the commands topic: its store and its transactional producer
// (transactional id `<appId>.account.<partition>`, which fences any zombie owner). Every
// transaction carries a chunk's events, states, outcomes, follow-up commands, dead letters and
// the consumer offset; the store is written only after the commit. A failed or fenced producer
// is thrown away and the task re-initialized: fence, restore, re-read the committed offset.
import { eventKey } from '../../topics/record-keys.ts';
import { Partitioners, type IHeaders, type Kafka, type KafkaMessage, type Message, type Producer, type RecordMetadata, type TopicMessages } from 'kafkajs';
import { DecodeError } from '../../schemas/codec.ts';
import { sharedPartitionOf } from '../../topics/partitioner.ts';
import type { Codecs } from '../../schemas/registry.ts';
import type { CommandOutcome } from '../../schemas/types.ts';
import { fetchedAtHeader, idempotencyWindowMs, replayedHeader, type TopicNames } from '../../topics/topics.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Logger } from '../log.ts';
import { routingProblem } from './routing.ts';
import { processBatch, type BatchResult, type DecodedRecord } from './batch.ts';
import { lookupsFor } from './lookups.ts';
import { restorePartition } from './restore.ts';
import { emptyCheckpoint, PartitionStore, type Checkpoint } from './store.ts';

/**
 * Idempotency records past the window forgotten after each transaction, at most. Twice the most
 * a transaction adds (transactionCommandsMax, 2,000), so forgetting outpaces remembering at any
 * throughput and the store stays bounded by the window (DESIGN §8), while one pass stays short.
 */
export const outcomeExpiryRecordsMax = 4_000;
/** A transaction that is not committed within this is aborted by the broker. */
export const transactionTimeoutMs = 60_000;

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
  private initializing: Promise<void> | undefined;
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
    this.initializing ??= this.init(heartbeat).finally(() => (this.initializing = undefined));
    return this.initializing;
  }

  /** Fences the previous owner, restores the store and reads where the group left off. */
  private async init(heartbeat: () => Promise<void>): Promise<void> {
    const { kafka, appId, dataDir, topics, codecs, log, clock } = this.context;
    await this.reset();
    // The store records whose it is: another cluster, other topics or another partition's store is wiped (DESIGN §8).
    const identity = { clusterId: await this.clusterId(), topics: [topics.commands, topics.accountState, topics.outcomes, topics.movements], partition: this.partition };
    this.store = await PartitionStore.open(dataDir, identity, log.warn);
    this.producer = kafka.producer({
      transactionalId: `${appId}.account.${this.partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: transactionTimeoutMs,
      createPartitioner: Partitioners.DefaultPartitioner,
      // The next transaction after a commit often meets CONCURRENT_TRANSACTIONS while the
      // coordinator writes markers; kafkajs' default 300 ms first retry would throttle us.
      retry: { initialRetryTime: 10, maxRetryTime: 1000, retries: 12 },
    });
    const onRequest = this.context.onProducerRequest;
    if (onRequest !== undefined) this.producer.on(this.producer.events.REQUEST, (event) => onRequest(event.payload.apiName));
    await this.producer.connect();
    const fence = await this.producer.transaction();
    await fence.abort();
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
    this.nextOffset = await this.committedOffset();
    this.positionVerified = false;
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

  private async committedOffset(): Promise<string> {
    const admin = this.context.kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.context.topics.commands] });
      const offset = committed?.partitions.find((p) => p.partition === this.partition)?.offset ?? '-1';
      const bounds = (await admin.fetchTopicOffsets(this.context.topics.commands)).find((p) => p.partition === this.partition);
      const low = bounds?.low ?? '0';
      return offset === '-1' || BigInt(offset) < BigInt(low) ? low : offset;
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

  /** Processes one chunk in one transaction. Throws on any failure; the caller resets the task. */
  async process(messages: KafkaMessage[], highWatermark: string): Promise<ChunkStats> {
    const store = this.store;
    const producer = this.producer;
    const last = messages[messages.length - 1];
    if (!this.ready || store === undefined || producer === undefined) throw new Error(`partition ${this.partition} is not initialized`);
    if (last === undefined) throw new Error('process() needs at least one message');
    const fetchedAt = Date.now();
    const decoded = await this.decode(messages);
    const commands = decoded.flatMap((d) => (d.kind === 'command' ? [d.command] : []));
    const lookups = await lookupsFor(store, commands);
    const now = this.context.clock();
    const decidedFrom = Date.now();
    const result = processBatch(decoded, lookups, now);
    const started = Date.now();
    const marks = { sent: started, offsets: started };
    const transaction = await producer.transaction();
    let metadata: RecordMetadata[];
    try {
      metadata = await transaction.sendBatch({ topicMessages: this.records(result, fetchedAt) });
      marks.sent = Date.now();
      // LOG_LEVEL=debug: what this still-open transaction wrote, so a test can show it fenced (zombie test).
      this.context.log.debug?.('transaction open', { partition: this.partition, firstOffset: messages[0]?.offset, lastOffset: last.offset, events: result.events.length, states: result.states.size, outcomes: result.outcomes.length, written: metadata.map(({ topicName, partition, baseOffset }) => ({ topicName, partition, baseOffset })) });
      if (crashPointsArmed) crashPoint('after-send');
      const nextOffset = String(BigInt(last.offset) + 1n);
      await transaction.sendOffsets({ consumerGroupId: this.groupId, topics: [{ topic: this.context.topics.commands, partitions: [{ partition: this.partition, offset: nextOffset }] }] });
      marks.offsets = Date.now();
      if (crashPointsArmed) crashPoint('after-offsets');
      await transaction.commit();
      this.nextOffset = nextOffset;
    } catch (error) {
      this.ready = false;
      if (transaction.isActive()) await transaction.abort().catch(() => undefined);
      throw error;
    }
    const committed = Date.now();
    const transactionMs = committed - started;
    this.checkpoint = this.nextCheckpoint(metadata, result);
    if (crashPointsArmed) crashPoint('after-commit');
    await store.write(result.states.values(), result.newOutcomes, this.checkpoint, [...result.movements.values(), ...result.postings.values()]);
    await store.expireOutcomes(now - idempotencyWindowMs, outcomeExpiryRecordsMax);
    const phases: ChunkPhases = { read: decidedFrom - fetchedAt, decide: started - decidedFrom, send: marks.sent - started, offsets: marks.offsets - marks.sent, commit: committed - marks.offsets, store: Date.now() - committed };
    return {
      phases,
      commands: messages.length,
      accepted: result.accepted,
      rejected: result.rejected,
      rejectedByCode: result.rejectedByCode,
      deadLettered: result.deadLetters.length,
      transactionMs,
      lag: Math.max(0, Number(BigInt(highWatermark) - BigInt(this.nextOffset))),
    };
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
      // Follow-ups go to the destination account's partition, chosen by the default (murmur2) partitioner.
      { topic: topics.commands, messages: result.followUps.map((c): Message => ({ key: c.accountId, value: codecs.commands.encode(c) })) },
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

  /** The changelog offsets the store reflects once this transaction's records are applied. */
  private nextCheckpoint(metadata: RecordMetadata[], result: BatchResult): Checkpoint {
    const after = (topic: string, count: number, previous: string): string => {
      const meta = metadata.find((m) => m.topicName === topic && m.partition === this.partition);
      if (count === 0 || meta?.baseOffset === undefined) return previous;
      return String(BigInt(meta.baseOffset) + BigInt(count));
    };
    return {
      stateOffset: after(this.context.topics.accountState, result.states.size, this.checkpoint.stateOffset),
      outcomesOffset: after(this.context.topics.outcomes, result.outcomes.length, this.checkpoint.outcomesOffset),
      movementsOffset: after(this.context.topics.movements, result.movements.size + result.postings.size, this.checkpoint.movementsOffset),
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
