// Delivery guarantee: reads `<prefix>outcomes` read_committed, so the gateway only ever answers
// with outcomes of committed processor transactions; each outcome reaches the table at least once
// (a restart rereads `outcomeLookbackMs` of history), which is harmless because accept() is idempotent.
import type { Admin, Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage } from 'kafkajs';
import { DecodeError, type TopicCodec } from '../schemas/codec.ts';
import type { CommandOutcome } from '../schemas/types.ts';
import type { OutcomeTable } from './outcome-table.ts';
import type { Log } from './ports.ts';
import { retryUntilDone } from './retry.ts';
import { fetchedAtHeader, replayedHeader } from '../topics/topics.ts';

/** The broker answers a fetch after this at the latest when no outcome arrives: bounds shutdown and lag. */
const fetchWaitMaxMs = 250;
/** Readiness waits this long at most for the lookback history; after it, misses may be stale. */
export const outcomeCatchUpMaxMs = 30_000;

type PartitionOffset = { partition: number; offset: string };

/**
 * The partitions whose history (up to their end when the feed started) is not read yet. Until
 * it is, a miss in the table may only mean "not loaded", so the feed does not report ready.
 */
export class CatchUp {
  private readonly remaining = new Map<number, number>();

  constructor(starts: PartitionOffset[], ends: PartitionOffset[]) {
    const startOf = new Map(starts.map((s) => [s.partition, Number(s.offset)]));
    for (const end of ends) {
      if ((startOf.get(end.partition) ?? 0) < Number(end.offset)) this.remaining.set(end.partition, Number(end.offset));
    }
  }

  /** A batch of `partition` was processed up to `lastOffset` (control records included). */
  observe(partition: number, lastOffset: string): void {
    const end = this.remaining.get(partition);
    if (end !== undefined && Number(lastOffset) + 1 >= end) this.remaining.delete(partition);
  }

  get done(): boolean {
    return this.remaining.size === 0;
  }
}

export interface OutcomeFeedOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  /** `<appId>.gateway.<instanceId>.<random>`: its own group, so this instance reads every partition. */
  groupId: string;
  outcomeLookbackMs: number;
  table: OutcomeTable;
  log: Log;
}

export class KafkaOutcomeFeed {
  private consumer: Consumer | undefined;
  private codec: TopicCodec<CommandOutcome> | undefined;
  private closing = false;
  private joined = false;
  private catchUp: CatchUp | undefined;
  private catchUpDeadlineMs = Number.POSITIVE_INFINITY;
  /**
   * Per partition, the next offset this feed has to read: the lookback start, then past each
   * outcome accepted. The group commits nothing, so after a rejoin (a broker restart moves the
   * coordinator) kafkajs would resume at the latest offset and skip every outcome in between:
   * requests waiting for them would answer 202 and GET /commands 404 (fault campaign seed 2026,
   * run 70). Each join seeks back to these; a restarted consumer resumes from them too.
   */
  private readonly next = new Map<number, string>();

  constructor(private readonly options: OutcomeFeedOptions) {}

  /**
   * Joins the group, then seeks every partition back `outcomeLookbackMs` so recent outcomes are
   * known; reports ready once that history is read (or after outcomeCatchUpMaxMs).
   */
  async start(codec: TopicCodec<CommandOutcome>): Promise<void> {
    this.codec = codec;
    const { kafka, admin, topic, groupId, log } = this.options;
    const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: fetchWaitMaxMs, allowAutoTopicCreation: false });
    this.consumer = consumer;
    this.joined = false;
    this.listen(consumer);
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: false });
      const since = Date.now() - this.options.outcomeLookbackMs;
      const starts = await admin.fetchTopicOffsetsByTimestamp(topic, since);
      this.catchUp ??= new CatchUp(starts, await admin.fetchTopicOffsets(topic));
      for (const { partition, offset } of starts) if (!this.next.has(partition)) this.next.set(partition, offset);
      setTimeout(() => this.updateReady(), outcomeCatchUpMaxMs + 1).unref();
      this.catchUpDeadlineMs = Date.now() + outcomeCatchUpMaxMs;
      // No offset commits: every start seeks by timestamp (below), so a committed offset would
      // never be read, and committing after each batch cost a broker round trip per fetch.
      await consumer.run({ autoCommit: false, eachBatch: (payload) => this.eachBatch(payload) });
      // Seeks after run() are applied before the first fetch of each partition.
      this.seekToNext(consumer);
      log.info({ topic, groupId, partitions: starts.length, sinceMs: since }, 'outcome consumer started');
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
  }

  private listen(consumer: Consumer): void {
    const { groupId, log } = this.options;
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.joined = true;
      this.seekToNext(consumer);
      this.updateReady();
    });
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      this.catchUp?.observe(payload.partition, payload.lastOffset);
      this.updateReady();
    });
    consumer.on(consumer.events.STOP, () => {
      this.joined = false;
      this.updateReady();
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      this.updateReady();
      log.warn({ err: payload.error, groupId, restart: payload.restart }, 'outcome consumer crashed');
      // kafkajs restarts after retriable failures itself; after any other we start over.
      if (!payload.restart) void this.restart();
    });
  }

  private seekToNext(consumer: Consumer): void {
    try {
      for (const [partition, offset] of this.next) consumer.seek({ topic: this.options.topic, partition, offset });
    } catch (error) {
      // Called from kafkajs' join event too: never throw into it. Not seeking costs only GET /commands misses.
      this.options.log.warn({ err: error, topic: this.options.topic }, 'could not seek the outcome consumer back to what it had read');
    }
  }

  private updateReady(): void {
    const caughtUp = this.catchUp?.done === true || Date.now() >= this.catchUpDeadlineMs;
    const ready = this.joined && caughtUp && !this.closing;
    if (ready && !this.options.table.feedRunning) {
      if (this.catchUp?.done === true) this.options.log.info({}, 'outcome consumer ready: recent history read');
      else this.options.log.warn({ outcomeCatchUpMaxMs }, 'outcome consumer ready before reading all recent history; GET /commands may miss older outcomes');
    }
    this.options.table.feedRunning = ready;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.options.table.feedRunning = false;
    await this.consumer?.disconnect().catch(() => {});
  }

  private async restart(): Promise<void> {
    const codec = this.codec;
    if (codec === undefined) return;
    await this.consumer?.disconnect().catch(() => {});
    await retryUntilDone('outcome consumer restart', () => this.start(codec), { log: this.options.log, stopped: () => this.closing });
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    // The consumer's state can only change while we wait, so it is checked before the batch and
    // after each await, and the offset is resolved once per batch, not per outcome (both parse
    // and look up per call in kafkajs, a measurable cost at thousands of outcomes per second).
    if (!isRunning() || isStale()) return;
    let accepted: string | undefined;
    try {
      for (const message of batch.messages) {
        // Known schema ids decode synchronously: no promise per outcome on the hot path.
        const pending = this.acceptMessage(message, batch.partition);
        if (pending !== undefined) await pending;
        accepted = message.offset;
        if (pending !== undefined && (!isRunning() || isStale())) return;
      }
    } finally {
      if (accepted !== undefined) {
        resolveOffset(accepted);
        this.next.set(batch.partition, String(BigInt(accepted) + 1n));
      }
    }
    await heartbeat();
  }

  /** Accepts the outcome in `message`; a promise only when its schema must be fetched first. */
  private acceptMessage(message: KafkaMessage, partition: number): Promise<void> | undefined {
    const codec = this.codec;
    if (codec === undefined || message.value === null) return undefined; // a tombstone answers no request
    let known: CommandOutcome | undefined;
    try {
      known = codec.decodeKnown(message.value);
    } catch (error) {
      this.skipUndecodable(error, message, partition);
      return undefined;
    }
    if (known !== undefined) {
      this.acceptOutcome(known, message);
      return undefined;
    }
    return this.acceptUnknownSchema(message, partition);
  }

  private async acceptUnknownSchema(message: KafkaMessage, partition: number): Promise<void> {
    const codec = this.codec;
    if (codec === undefined || message.value === null) return;
    let outcome: CommandOutcome;
    try {
      outcome = await codec.decode(message.value);
    } catch (error) {
      this.skipUndecodable(error, message, partition);
      return;
    }
    this.acceptOutcome(outcome, message);
  }

  private skipUndecodable(error: unknown, message: KafkaMessage, partition: number): void {
    // Undecodable outcomes answer nobody; skipping them loses no money (the processor's
    // store is the idempotency record). Registry outages are retriable: the batch is retried.
    if (!(error instanceof DecodeError)) throw error;
    this.options.log.error({ err: error, topic: this.options.topic, partition, offset: message.offset }, 'skipping an undecodable outcome');
  }

  private acceptOutcome(outcome: CommandOutcome, message: KafkaMessage): void {
    const fetchedAt = Number(headerText(message.headers, fetchedAtHeader));
    const timing = Number.isSafeInteger(fetchedAt) && fetchedAt > 0 ? { fetchedAt, sentAt: Number(message.timestamp), readAt: Date.now() } : undefined;
    this.options.table.accept(outcome, { replayed: headerText(message.headers, replayedHeader) === 'true', timing });
  }
}

function headerText(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
