// One Kafka transaction carrying decided chunks: their records and their consumer offsets (at the
// same time when the records fit one produce request), then the commit. With one chunk it is a
// partition's own transaction (transactional id per partition); with several it is an
// instance's (ACCOUNT_TRANSACTIONS=instance), whose offsets carry the consumer group generation
// so the group coordinator refuses them from a member that lost its partitions (KIP-447). Any
// failure aborts what it can and is thrown: the caller resets.
import type { KafkaMessage, Message, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Logger } from '../log.ts';
import type { BatchResult } from './batch.ts';

/** A chunk of one partition decided against its store, with the records its transaction carries. */
export interface PreparedChunk {
  partition: number;
  messages: KafkaMessage[];
  result: BatchResult;
  records: TopicMessages[];
  /** The consumer offset the transaction commits: after the chunk's last command. */
  nextOffset: string;
  /** The processor's clock when the chunk was decided. */
  now: number;
  /** Epoch ms: handed to the task, store read, decided. */
  fetchedAt: number;
  decidedFrom: number;
  decided: number;
  highWatermark: string;
}

/** When a transaction's steps ended (epoch ms). */
export interface TransactionMarks {
  started: number;
  sent: number;
  offsets: number;
  committed: number;
}

/** The consumer group member whose assignment the chunks came from (KIP-447 fencing). */
export interface GroupGeneration {
  generationId: number;
  memberId: string;
}

export interface TransactionOptions {
  groupId: string;
  commandsTopic: string;
  log: Logger;
  /** Given: the offsets are committed fenced by this generation; absent: by the transactional id alone. */
  generation?: GroupGeneration;
}

/**
 * Estimated bytes of one topic-partition's records in one produce request. A broker refuses a
 * record batch over the topic's max.message.bytes (1 MiB by default, the commands topic's
 * commandBatchBytesMax) with MESSAGE_TOO_LARGE, and kafkajs writes each partition's records of a
 * request as one batch; a full chunk's outcomes alone come to over 1 MiB. Half of it leaves room
 * for what the estimate leaves out.
 */
export const producedBytesPerPartitionMax = 512 * 1024;
/** Per record, over its key, value and headers: the varint lengths, attributes and deltas (at most 21 bytes in record format v2) and the header count. */
const recordOverheadBytes = 32;

function estimatedBytes(message: Message): number {
  let bytes = recordOverheadBytes + bufferLength(message.key) + bufferLength(message.value);
  const headers = message.headers;
  if (headers !== undefined) {
    for (const key in headers) {
      const value = headers[key];
      bytes += 8 + Buffer.byteLength(key);
      if (Array.isArray(value)) for (const v of value) bytes += bufferLength(v);
      else bytes += bufferLength(value);
    }
  }
  return bytes;
}

function bufferLength(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? Buffer.byteLength(value) : value.length;
}

/**
 * Splits a transaction's records (several chunks' lists, one topic may come more than once) into
 * produce requests of at most `bytesMax` (estimated) per topic-partition, one entry per topic in
 * each. Each partition's records keep their order: its n-th slice goes in the n-th request, and
 * the requests are sent one after another. A topic with records the partitioner places
 * (follow-ups) counts as a whole, as one sequence, since any of them may land on any partition.
 */
export function producedParts(records: TopicMessages[], bytesMax: number = producedBytesPerPartitionMax): TopicMessages[][] {
  const parts: Map<string, TopicMessages>[] = [];
  // Per topic, the slice each partition is filling; a placed topic has one, under `undefined`.
  const slices = new Map<string, { placed: boolean; partitions: Map<number | undefined, Slice> }>();
  for (const { topic, messages } of records) {
    let topicSlices = slices.get(topic);
    if (topicSlices === undefined) {
      const placed = records.some((r) => r.topic === topic && r.messages.some((m) => m.partition === undefined));
      slices.set(topic, (topicSlices = { placed, partitions: new Map() }));
    }
    for (const message of messages) {
      const size = estimatedBytes(message);
      const key = topicSlices.placed ? undefined : message.partition;
      let slice = topicSlices.partitions.get(key);
      if (slice === undefined) topicSlices.partitions.set(key, (slice = { part: 0, bytes: 0 }));
      else if (slice.bytes > 0 && slice.bytes + size > bytesMax) {
        slice.part += 1;
        slice.bytes = 0;
      }
      slice.bytes += size;
      const part = parts[slice.part] ?? (parts[slice.part] = new Map());
      let entry = part.get(topic);
      if (entry === undefined) part.set(topic, (entry = { topic, messages: [] }));
      entry.messages.push(message);
    }
  }
  return parts.map((part) => [...part.values()]);
}

interface Slice {
  /** The request it goes in. */
  part: number;
  /** Estimated bytes in that request so far. */
  bytes: number;
}

/** One produce request of a transaction: what it carried and what the broker answered. */
export interface SentRequest {
  part: TopicMessages[];
  metadata: RecordMetadata[];
}

/**
 * Where each topic-partition written with an explicit partition ends after these requests: the
 * last request's base offset there plus the records it carried there.
 */
export function endOffsets(sent: SentRequest[]): Map<string, string> {
  const ends = new Map<string, string>();
  for (const { part, metadata } of sent) {
    const counts = recordsPerPartition(part);
    for (const { topicName, partition, baseOffset } of metadata) {
      if (baseOffset === undefined) continue;
      const count = counts.get(topicName)?.get(partition) ?? 0;
      if (count > 0) ends.set(endKey(topicName, partition), String(BigInt(baseOffset) + BigInt(count)));
    }
  }
  return ends;
}

/** Topic → explicit partition → how many records a request carries there. */
function recordsPerPartition(part: TopicMessages[]): Map<string, Map<number, number>> {
  const counts = new Map<string, Map<number, number>>();
  for (const { topic, messages } of part) {
    let byPartition = counts.get(topic);
    if (byPartition === undefined) counts.set(topic, (byPartition = new Map()));
    for (const { partition } of messages) if (partition !== undefined) byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
  }
  return counts;
}

export const endKey = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * The explicit topic-partitions a produce request carried records to that its answer does not
 * name. kafkajs leaves out, without an error, every record whose partition its metadata does not
 * list (its send resolves with what it wrote): a transaction committed then would lack records it
 * meant to write, a transfer's credit after its debit. So a request answered short fails the
 * transaction. (Records the partitioner places always go to a partition the metadata lists.)
 */
export function unanswered({ part, metadata }: SentRequest): string[] {
  const answered = new Map<string, Set<number>>();
  for (const { topicName, partition } of metadata) {
    const partitions = answered.get(topicName);
    if (partitions === undefined) answered.set(topicName, new Set([partition]));
    else partitions.add(partition);
  }
  const missing = new Set<string>();
  for (const [topic, partitions] of recordsPerPartition(part)) {
    for (const partition of partitions.keys()) if (answered.get(topic)?.has(partition) !== true) missing.add(endKey(topic, partition));
  }
  return [...missing];
}

/** What a committed transaction wrote: where each explicitly partitioned topic-partition ends (endKey), and when its steps ended. */
export interface CommittedTransaction {
  ends: Map<string, string>;
  marks: TransactionMarks;
}

export async function runTransaction(producer: Producer, chunks: PreparedChunk[], options: TransactionOptions): Promise<CommittedTransaction> {
  const started = Date.now();
  const marks: TransactionMarks = { started, sent: started, offsets: started, committed: started };
  const transaction = await producer.transaction();
  if (crashPointsArmed) crashPoint('before-send');
  const partitions = chunks.map(({ partition, nextOffset }) => ({ partition, offset: nextOffset }));
  const offsets = { consumerGroupId: options.groupId, topics: [{ topic: options.commandsTopic, partitions }] };
  const sendOffsets = async (): Promise<void> => {
    await transaction.sendOffsets(options.generation === undefined ? offsets : { ...offsets, consumerGroupMetadata: options.generation });
    marks.offsets = Date.now();
  };
  try {
    const parts = producedParts(chunks.flatMap((c) => c.records));
    const sent: SentRequest[] = [];
    const sendRecords = async (): Promise<void> => {
      for (const part of parts) {
        const request = { part, metadata: await transaction.sendBatch({ topicMessages: part }) };
        const missing = unanswered(request);
        if (missing.length > 0) throw new Error(`the produce request's answer leaves out ${missing.join(', ')}: its records were not written (a partition the producer's metadata does not list)`);
        sent.push(request);
      }
      marks.sent = Date.now();
      if (options.log.debug !== undefined) logOpen(chunks, sent, options);
      if (crashPointsArmed) crashPoint('after-send');
    };
    if (parts.length <= 1) {
      // One request: the offsets are asked for while the records are written. The patched kafkajs
      // sends AddOffsetsToTxn once the records' AddPartitionsToTxn is answered (the Java client's
      // order), and kafkajs sends one request at a time per broker, so what this saves is our own
      // time between the steps: about 2 ms of a command's 13 at concurrency 1. Several requests
      // go one after another, then the offsets, so a later request's AddPartitionsToTxn never
      // comes after the offsets'.
      const steps = await Promise.allSettled([sendRecords(), sendOffsets()]);
      const failed = steps.find((step): step is PromiseRejectedResult => step.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } else {
      await sendRecords();
      await sendOffsets();
    }
    if (crashPointsArmed) crashPoint('after-offsets');
    await transaction.commit();
    marks.committed = Date.now();
    return { ends: endOffsets(sent), marks };
  } catch (error) {
    if (transaction.isActive()) await transaction.abort().catch(() => undefined);
    throw error;
  }
}

/** LOG_LEVEL=debug: what this still-open transaction wrote, so a test can show it fenced (zombie tests). */
function logOpen(chunks: PreparedChunk[], sent: SentRequest[], options: TransactionOptions): void {
  const metadata = sent.flatMap((s) => s.metadata);
  for (const [index, { partition, messages, result }] of chunks.entries()) {
    options.log.debug?.('transaction open', {
      partition,
      // This line is the chunk-th of the transaction's `chunks` (one per chunk, logged together).
      chunk: index + 1,
      chunks: chunks.length,
      firstOffset: messages[0]?.offset,
      lastOffset: messages[messages.length - 1]?.offset,
      events: result.events.length,
      states: result.states.size,
      outcomes: result.outcomes.length,
      written: metadata.filter((m) => m.partition === partition).map(({ topicName, partition: p, baseOffset }) => ({ topicName, partition: p, baseOffset })),
      ...(options.generation === undefined ? {} : { generationId: options.generation.generationId }),
    });
  }
}
