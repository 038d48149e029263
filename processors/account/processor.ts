// The account processor: consumer group `<appId>.account` on the commands topic, one
// PartitionTask per assigned partition, partitions processed concurrently. Exactly-once comes
// from the transactions: each partition's own (the default), or with ACCOUNT_TRANSACTIONS=instance
// the instance's one, carrying every partition's chunk decided meanwhile (instance-transactions.ts).
// This file decides when a task (re)initializes, how a batch is cut into transactions, and what
// happens after a failure (seek back to the last commit, back off, and after too many failures
// in a row, stop the process so it restarts from Kafka).
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Codecs } from '../../schemas/registry.ts';
import type { TopicNames } from '../../topics/topics.ts';
import type { Logger } from '../log.ts';
import { InvariantViolation } from './domain/index.ts';
import { CommandBudget } from './command-budget.ts';
import { HoldExpiry } from './hold-expiry.ts';
import { InstanceTransactions } from './instance-transactions.ts';
import { PartitionTask, type ChunkStats, type TransactionScope } from './task.ts';
import type { GroupGeneration } from './transaction.ts';

/** Commands per transaction: large transactions amortize the commit, bounded to keep each produce request well under 1 MB per partition. */
export const transactionCommandsMax = 2000;
/** Input bytes per transaction, for the same reason (a poison record may be large). */
export const transactionInputBytesMax = 512 * 1024;
/**
 * What one fetch may bring, per partition and in all: the records fetched stay in memory until
 * their transactions commit (a fetch response is one buffer the records are slices of), so these
 * bound the processor's memory under load with the chunk bounds above. One partition's fetch is
 * a transaction's worth of input (transactionInputBytesMax); kafkajs' defaults are 1 MB and 10 MB.
 */
export const fetchBytesPerPartitionMax = transactionInputBytesMax;
export const fetchBytesMax = 4 * 1024 * 1024;
/**
 * Commands an instance decides and has in transactions at once, across all its partitions
 * (command-budget.ts): two full transactions, or many small ones under HTTP load. Without it the
 * instance held partitions × transactionCommandsMax, and its memory grew with the partitions.
 */
export const commandsInFlightMax = 2 * transactionCommandsMax;
/** Consecutive failures of one partition before the process gives up and exits. */
export const partitionFailuresMax = 8;
const failureBackoffMaxMs = 5000;

export interface ProcessorOptions {
  kafka: Kafka;
  appId: string;
  dataDir: string;
  topics: TopicNames;
  partitions: number;
  codecs: Codecs;
  log: Logger;
  /** Called when the processor cannot go on (broken invariant, failures past the bound). */
  onFatal: (error: Error) => void;
  onChunk?: (partition: number, stats: ChunkStats) => void;
  /** A partition finished (re)initializing: fenced, restored, positioned. */
  onReady?: (partition: number, restoredRecords: number) => void;
  onFailure?: (partition: number) => void;
  /** How long the group waits for a silent instance before moving its partitions (ACCOUNT_SESSION_TIMEOUT_MS). */
  sessionTimeoutMs: number;
  /** The processor's clock (epoch ms). */
  clock: () => number;
  /** Every request a partition's transactional producer sends to a broker, by kafkajs API name (metrics). */
  onProducerRequest?: (apiName: string) => void;
  /** ACCOUNT_TRANSACTIONS: a transactional producer per partition (default) or one per instance. */
  transactions: TransactionScope;
  /** ACCOUNT_TRANSACTION_TIMEOUT_MS. */
  transactionTimeoutMs: number;
}

/** Cuts a batch into transactions of at most transactionCommandsMax commands and transactionInputBytesMax bytes. */
export function chunksOf(messages: KafkaMessage[]): KafkaMessage[][] {
  const chunks: KafkaMessage[][] = [];
  let current: KafkaMessage[] = [];
  let bytes = 0;
  for (const message of messages) {
    const size = (message.value?.length ?? 0) + (message.key?.length ?? 0);
    if (current.length > 0 && (current.length >= transactionCommandsMax || bytes + size > transactionInputBytesMax)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** While awaiting work inside eachBatch, the group session must stay alive. */
const heartbeatIntervalMs = 3000;

async function whileHeartbeating<T>(work: Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
  const timer = setInterval(() => void heartbeat().catch(() => undefined), heartbeatIntervalMs);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

export class AccountProcessor {
  private readonly consumer: Consumer;
  private readonly holdExpiry: HoldExpiry;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly failures = new Map<number, number>();
  private readonly budget = new CommandBudget(commandsInFlightMax);
  private readonly instance: InstanceTransactions | undefined;
  /** The group generation we joined last, and what it assigned us (per-instance transactions are fenced by it). */
  private generation: (GroupGeneration & { assigned: Set<number> }) | undefined;

  constructor(private readonly options: ProcessorOptions) {
    this.instance = options.transactions === 'instance' ? new InstanceTransactions(options, `${options.appId}.account`, options.log) : undefined;
    this.holdExpiry = new HoldExpiry(options.kafka, options.topics.commands, options.codecs, options.log, () => [...this.tasks.values()], options.clock);
    this.consumer = options.kafka.consumer({
      groupId: `${options.appId}.account`,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: fetchBytesPerPartitionMax,
      maxBytes: fetchBytesMax,
      retry: { initialRetryTime: 100, maxRetryTime: 5000, retries: 10 },
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
      const assigned = event.payload.memberAssignment[options.topics.commands] ?? [];
      // Synchronous: kafkajs emits this before it fetches for the new generation.
      const { generationId, memberId } = event.payload;
      const previous = this.generation;
      // The generation right after ours, joined as the same member: nobody else owned our partitions in between.
      const continued = previous !== undefined && previous.memberId === memberId && generationId === previous.generationId + 1 ? previous.assigned : new Set<number>();
      this.generation = { generationId, memberId, assigned: new Set(assigned) };
      void this.onAssignment(assigned, continued);
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      if (!event.payload.restart) options.onFatal(event.payload.error);
    });
  }

  async start(): Promise<void> {
    await this.instance?.start();
    this.holdExpiry.start();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.topics.commands, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitions,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  async stop(): Promise<void> {
    await this.holdExpiry.stop();
    await this.consumer.disconnect();
    await this.instance?.stop();
    await Promise.all([...this.tasks.values()].map((t) => t.reset()));
    this.tasks.clear();
  }

  /**
   * Partitions taken away are closed (their new owner fences our producer anyway); partitions
   * given to us restore their stores now rather than on their first command. Per instance,
   * nothing fences us: a partition we kept is kept only if we owned it in the generation just
   * before (`continued`); otherwise another owner may have worked it since, and it re-initializes
   * before deciding anything (per partition, that owner's fence fails our next transaction).
   */
  private async onAssignment(assigned: number[], continued: Set<number>): Promise<void> {
    this.options.log.info('partitions assigned', { partitions: assigned });
    if (this.instance !== undefined) {
      for (const [partition, task] of this.tasks) if (!continued.has(partition)) task.failed();
    }
    const keep = new Set(assigned);
    for (const [partition, task] of this.tasks) {
      if (keep.has(partition)) continue;
      this.tasks.delete(partition);
      await task.reset();
    }
    for (const partition of assigned) {
      this.task(partition)
        .ensureReady(async () => {})
        .catch((error: Error) => this.options.log.warn('partition initialization failed; the next batch retries it', { partition, error: error.message }));
    }
  }

  private task(partition: number): PartitionTask {
    let task = this.tasks.get(partition);
    if (task === undefined) {
      task = new PartitionTask(partition, this.options, (restored) => this.options.onReady?.(partition, restored));
      this.tasks.set(partition, task);
    }
    return task;
  }

  /** Partitions this instance owns now. */
  assignedPartitions(): number[] {
    return [...this.tasks.keys()].sort((a, b) => a - b);
  }

  private async onBatch({ batch, heartbeat, isRunning, isStale, resolveOffset }: EachBatchPayload): Promise<void> {
    // Per instance, a chunk's offsets are committed under the generation that assigned its partition.
    const generation = this.generation;
    if (this.instance !== undefined && (generation === undefined || !generation.assigned.has(batch.partition))) return;
    const task = this.task(batch.partition);
    try {
      // The initialization may have started at assignment without this batch's heartbeat: keep
      // the session alive while a long restore finishes.
      await whileHeartbeating(task.ensureReady(heartbeat), heartbeat);
      if (!task.positionVerified) {
        task.positionVerified = true;
        // After (re)initialization the fetch position may be past the last commit: go back to it.
        if (batch.firstOffset() !== task.nextOffset) {
          this.seek(batch.topic, batch.partition, task.nextOffset);
          return;
        }
      }
      const messages = batch.messages.filter((m) => BigInt(m.offset) >= BigInt(task.nextOffset));
      // After a rejoin kafkajs starts from a plain read of the committed offset, which may not yet
      // show our last transaction's: commands below the task's position are done. A batch wholly
      // below must still move kafkajs past it, or it fetches the same records again at once.
      if (messages.length === 0 && batch.messages.length > 0) resolveOffset(batch.lastOffset());
      for (const chunk of chunksOf(messages)) {
        if (!isRunning() || isStale()) return;
        const release = await whileHeartbeating(this.budget.acquire(chunk.length), heartbeat);
        let stats: ChunkStats;
        try {
          if (!isRunning() || isStale()) return;
          if (this.instance === undefined || generation === undefined) stats = await task.process(chunk, batch.highWatermark);
          else stats = await whileHeartbeating(this.instance.commit(task, await task.prepare(chunk, batch.highWatermark), generation), heartbeat);
        } finally {
          release();
        }
        // Tells kafkajs where to fetch next; the group offset itself was committed in the transaction.
        resolveOffset(chunk[chunk.length - 1]?.offset ?? task.nextOffset);
        this.failures.delete(batch.partition);
        this.options.onChunk?.(batch.partition, stats);
        await heartbeat();
      }
    } catch (error) {
      await this.onFailure(task, batch.topic, error as Error);
    }
  }

  private seek(topic: string, partition: number, offset: string): void {
    try {
      this.consumer.seek({ topic, partition, offset });
    } catch (error) {
      // The partition may have been revoked meanwhile; its next owner starts from the commit.
      this.options.log.warn('seek failed', { partition, offset, error: (error as Error).message });
    }
  }

  private async onFailure(task: PartitionTask, topic: string, error: Error): Promise<void> {
    if (error instanceof InvariantViolation) {
      this.options.onFatal(error);
      return;
    }
    this.options.onFailure?.(task.partition);
    const count = (this.failures.get(task.partition) ?? 0) + 1;
    this.failures.set(task.partition, count);
    this.options.log.warn('partition failed; retrying from its last commit', {
      partition: task.partition,
      failures: count,
      error: error.message,
      errorName: error.name,
      // kafkajs' protocol error name, e.g. INVALID_PRODUCER_EPOCH when a newer owner fenced us.
      errorType: (error as { type?: string }).type,
      retriable: (error as { retriable?: boolean }).retriable,
    });
    await task.reset();
    if (count >= partitionFailuresMax) {
      this.options.onFatal(new Error(`partition ${task.partition} failed ${count} times in a row: ${error.message}`, { cause: error }));
      return;
    }
    this.seek(topic, task.partition, task.nextOffset);
    const backoff = Math.min(failureBackoffMaxMs, 100 * 2 ** count) * (0.5 + Math.random() / 2);
    await new Promise((resolve) => setTimeout(resolve, backoff));
  }
}
