// Where the processor tells kafkajs to fetch next when a batch starts below the task's position.
// After a rejoin kafkajs re-reads the group's committed offset with a plain (not stable) read,
// which may still be the one before our last transaction's offsets were written: a kept
// partition's next batch then lies partly or wholly below what the task has committed. Those
// commands are done and must be skipped, and kafkajs must be moved past them, or it fetches
// the same records again and again (each fetch answers at once: a hot loop) until new commands
// arrive.
import { describe, expect, it } from 'vitest';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { AccountProcessor, type ProcessorOptions } from '../../../processors/account/processor.ts';
import type { ChunkStats } from '../../../processors/account/task.ts';
import { topicNames } from '../../../topics/topics.ts';

const topics = topicNames('t');
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function processorWithTask(nextOffset: string) {
  const seeks: { partition: number; offset: string }[] = [];
  const kafka = {
    consumer: () => ({ on: () => undefined, events: { GROUP_JOIN: 'join', CRASH: 'crash' }, seek: (s: { partition: number; offset: string }) => seeks.push({ partition: s.partition, offset: s.offset }) }),
  } as unknown as Kafka;
  const options = { kafka, appId: 'a', dataDir: '/nonexistent', topics, partitions: 1, codecs: {}, log: silent, onFatal: (e: Error) => { throw e; }, sessionTimeoutMs: 30000, clock: Date.now, transactions: 'partition', transactionTimeoutMs: 60000 } as unknown as ProcessorOptions;
  const processor = new AccountProcessor(options);
  const processed: string[][] = [];
  const task = {
    partition: 0,
    nextOffset,
    positionVerified: true,
    ensureReady: async () => undefined,
    process: async (chunk: KafkaMessage[]) => {
      processed.push(chunk.map((m) => m.offset));
      task.nextOffset = String(Number(chunk[chunk.length - 1]!.offset) + 1);
      return {} as ChunkStats;
    },
  };
  (processor as unknown as { tasks: Map<number, unknown> }).tasks.set(0, task);
  const onBatch = (processor as unknown as { onBatch: (p: EachBatchPayload) => Promise<void> }).onBatch.bind(processor);
  return { onBatch, processed, seeks, task };
}

function batchOf(offsets: number[]) {
  const resolved: string[] = [];
  const messages = offsets.map((o) => ({ offset: String(o), key: Buffer.from('k'), value: Buffer.from('v'), timestamp: '0', attributes: 0, headers: {} }) as KafkaMessage);
  const payload = {
    batch: {
      topic: topics.commands,
      partition: 0,
      highWatermark: String(offsets[offsets.length - 1]! + 1),
      messages,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => messages[messages.length - 1]!.offset,
    },
    resolveOffset: (offset: string) => void resolved.push(offset),
    heartbeat: async () => undefined,
    isRunning: () => true,
    isStale: () => false,
  } as unknown as EachBatchPayload;
  return { payload, resolved };
}

describe('a batch below the task position', () => {
  it('wholly below: nothing is processed and kafkajs is moved past it', async () => {
    const { onBatch, processed, seeks } = processorWithTask('10');
    const { payload, resolved } = batchOf([5, 6, 7]);
    await onBatch(payload);
    expect(processed).toEqual([]);
    // Resolving the batch's last offset makes kafkajs fetch from 8 next, not 5 again.
    expect(resolved.length + seeks.length).toBeGreaterThan(0);
    const next = resolved.length > 0 ? BigInt(resolved[resolved.length - 1]!) + 1n : BigInt(seeks[seeks.length - 1]!.offset);
    expect(next).toBeGreaterThan(7n);
    expect(next).toBeLessThanOrEqual(10n);
  });

  it('partly below: only the commands at and after the position are processed', async () => {
    const { onBatch, processed, task } = processorWithTask('10');
    const { payload, resolved } = batchOf([8, 9, 10, 11]);
    await onBatch(payload);
    expect(processed).toEqual([['10', '11']]);
    expect(resolved).toEqual(['11']);
    expect(task.nextOffset).toBe('12');
  });
});
