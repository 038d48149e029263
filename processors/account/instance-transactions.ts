// ACCOUNT_TRANSACTIONS=instance: one transactional producer for all of an instance's partitions,
// as Kafka Streams' exactly_once_v2 does (KIP-447). Each partition decides its chunk against its
// own store and hands it here; chunks handed in while a transaction is under way ride together
// in the next one, so under load an instance pays one transaction's requests and markers per
// cycle instead of one per partition. Zombies are fenced by consumer group generation: the
// offsets of a member that lost its partitions are refused (ILLEGAL_GENERATION,
// UNKNOWN_MEMBER_ID) and its transaction aborts. A partition's new owner waits for the old
// owner's last transaction to end (task.ts, init) instead of fencing it.
//
// The transactional id is `<appId>.account.instance.<id>`, the id kept in the data directory, so
// an instance restarted on its data directory fences its previous incarnation at once; an
// instance that never comes back leaves its open transaction to the transaction timeout.
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Producer } from 'kafkajs';
import type { Logger } from '../log.ts';
import { runTransaction, type GroupGeneration, type PreparedChunk } from './transaction.ts';
import { fencingProducer, type ChunkStats, type PartitionTask, type TaskContext } from './task.ts';

/**
 * Commands in one instance transaction, at most: the in-flight budget's worth. Each partition's
 * share is already bounded by its chunk (transactionCommandsMax, transactionInputBytesMax).
 */
export const instanceTransactionCommandsMax = 4000;

interface Job {
  task: PartitionTask;
  chunk: PreparedChunk;
  generation: GroupGeneration;
  resolve: (stats: ChunkStats) => void;
  reject: (error: Error) => void;
}

export class InstanceTransactions {
  private producer: Producer | undefined;
  private readonly queue: Job[] = [];
  /** The transaction cycle under way, if any (one at a time). */
  private cycling: Promise<void> | undefined;
  private stopped = false;
  private transactionalId: string | undefined;

  constructor(
    private readonly context: TaskContext,
    private readonly groupId: string,
    private readonly log: Logger,
  ) {}

  /** The instance's transactional id, made once and kept in the data directory. */
  async id(): Promise<string> {
    if (this.transactionalId !== undefined) return this.transactionalId;
    const dir = join(this.context.dataDir, 'account');
    const file = join(dir, 'instance-id');
    let id = (await readFile(file, 'utf8').catch(() => '')).trim();
    if (!/^[0-9a-f-]{36}$/.test(id)) {
      id = randomUUID();
      await mkdir(dir, { recursive: true });
      await writeFile(file, `${id}\n`);
    }
    this.transactionalId = `${this.context.appId}.account.instance.${id}`;
    return this.transactionalId;
  }

  /** Fences our own previous incarnation (aborting its open transaction) before any partition restores. */
  async start(): Promise<void> {
    await this.ensureProducer();
  }

  /** Resolves once the chunk's transaction committed and the task's store caught up; rejects if it failed. */
  commit(task: PartitionTask, chunk: PreparedChunk, generation: GroupGeneration): Promise<ChunkStats> {
    if (this.stopped) return Promise.reject(new Error('the instance transactions are stopped'));
    return new Promise<ChunkStats>((resolve, reject) => {
      this.queue.push({ task, chunk, generation, resolve, reject });
      this.kick();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    while (this.cycling !== undefined) await this.cycling;
    for (const job of this.queue.splice(0)) job.reject(new Error('the instance transactions are stopped'));
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private kick(): void {
    if (this.cycling !== undefined || this.queue.length === 0) return;
    // One event-loop turn: chunks decided in the same turn ride along.
    this.cycling = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.cycle());
  }

  /**
   * The queued chunks of the first one's generation, up to the bound, at most one per partition
   * (a task's checkpoint is where the transaction's records end on its partition, which is right
   * only for the partition's last chunk); the rest wait for the next cycle.
   */
  private take(): Job[] {
    const first = this.queue[0];
    if (first === undefined) return [];
    const taken: Job[] = [];
    const partitions = new Set<number>();
    let commands = 0;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i] as Job;
      const same = job.generation.generationId === first.generation.generationId && job.generation.memberId === first.generation.memberId;
      if (!same || partitions.has(job.chunk.partition) || (taken.length > 0 && commands + job.chunk.messages.length > instanceTransactionCommandsMax)) {
        i += 1;
        continue;
      }
      partitions.add(job.chunk.partition);
      taken.push(job);
      commands += job.chunk.messages.length;
      this.queue.splice(i, 1);
    }
    return taken;
  }

  private async cycle(): Promise<void> {
    const jobs = this.take();
    try {
      if (jobs.length === 0) return;
      const generation = (jobs[0] as Job).generation;
      let committed: Awaited<ReturnType<typeof runTransaction>>;
      try {
        const producer = await this.ensureProducer();
        committed = await runTransaction(
          producer,
          jobs.map((j) => j.chunk),
          { groupId: this.groupId, commandsTopic: this.context.topics.commands, log: this.log, generation },
        );
      } catch (error) {
        // The transaction's outcome is unknown to us or the producer unusable: replace the
        // producer before the tasks re-initialize, so nothing of ours stays open for them to wait on.
        for (const { task } of jobs) task.failed();
        await this.replaceProducer();
        for (const job of jobs) job.reject(error as Error);
        return;
      }
      for (const job of jobs) {
        try {
          job.resolve(await job.task.afterCommit(job.chunk, committed));
        } catch (error) {
          job.task.failed();
          job.reject(error as Error);
        }
      }
    } finally {
      this.cycling = undefined;
      if (!this.stopped) this.kick();
    }
  }

  private async ensureProducer(): Promise<Producer> {
    this.producer ??= await fencingProducer(this.context, await this.id());
    return this.producer;
  }

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.producer = undefined;
    await old?.disconnect().catch(() => undefined);
    try {
      await this.ensureProducer();
    } catch (error) {
      this.log.warn('instance producer could not be re-created; the next transaction retries', { error: (error as Error).message });
    }
  }
}
