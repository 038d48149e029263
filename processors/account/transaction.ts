// One Kafka transaction carrying decided chunks: their records, then their consumer offsets,
// then the commit. With one chunk it is a partition's own transaction (transactional id per
// partition); with several it is an instance's (ACCOUNT_TRANSACTIONS=instance), whose offsets
// carry the consumer group generation so the group coordinator refuses them from a member that
// lost its partitions (KIP-447). Any failure aborts what it can and is thrown: the caller resets.
import type { KafkaMessage, Producer, RecordMetadata, TopicMessages } from 'kafkajs';
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

/** Records of several chunks, one entry per topic (kafkajs sends one produce request per broker either way). */
export function mergedRecords(chunks: PreparedChunk[]): TopicMessages[] {
  if (chunks.length === 1) return chunks[0]?.records ?? [];
  const byTopic = new Map<string, TopicMessages>();
  for (const chunk of chunks) {
    for (const { topic, messages } of chunk.records) {
      const merged = byTopic.get(topic);
      if (merged === undefined) byTopic.set(topic, { topic, messages: [...messages] });
      else merged.messages.push(...messages);
    }
  }
  return [...byTopic.values()];
}

export async function runTransaction(producer: Producer, chunks: PreparedChunk[], options: TransactionOptions): Promise<{ metadata: RecordMetadata[]; marks: TransactionMarks }> {
  const started = Date.now();
  const marks: TransactionMarks = { started, sent: started, offsets: started, committed: started };
  const transaction = await producer.transaction();
  try {
    const metadata = await transaction.sendBatch({ topicMessages: mergedRecords(chunks) });
    marks.sent = Date.now();
    // LOG_LEVEL=debug: what this still-open transaction wrote, so a test can show it fenced (zombie test).
    if (options.log.debug !== undefined) {
      for (const { partition, messages, result } of chunks) {
        options.log.debug('transaction open', {
          partition,
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
    if (crashPointsArmed) crashPoint('after-send');
    const partitions = chunks.map(({ partition, nextOffset }) => ({ partition, offset: nextOffset }));
    const offsets = { consumerGroupId: options.groupId, topics: [{ topic: options.commandsTopic, partitions }] };
    await transaction.sendOffsets(options.generation === undefined ? offsets : { ...offsets, consumerGroupMetadata: options.generation });
    marks.offsets = Date.now();
    if (crashPointsArmed) crashPoint('after-offsets');
    await transaction.commit();
    marks.committed = Date.now();
    return { metadata, marks };
  } catch (error) {
    if (transaction.isActive()) await transaction.abort().catch(() => undefined);
    throw error;
  }
}
