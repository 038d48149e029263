// The instance transaction cycle (ACCOUNT_TRANSACTIONS=instance) with a stand-in producer: which
// chunks ride together, what a transaction carries, and what a failed one leaves behind. The
// broker's side (generation fencing, stable offsets) is shown against the real broker in
// processor-rebalance-instance.test.ts and kafkajs-kip447.test.ts.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KafkaMessage, RecordMetadata } from 'kafkajs';
import { InstanceTransactions, instanceTransactionCommandsMax } from '../../../processors/account/instance-transactions.ts';
import type { ChunkStats, PartitionTask, TaskContext } from '../../../processors/account/task.ts';
import type { GroupGeneration, PreparedChunk, TransactionMarks } from '../../../processors/account/transaction.ts';
import { topicNames } from '../../../topics/topics.ts';

const topics = topicNames('t');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  records: { topic: string; partitions: number[] }[];
  offsets: { partition: number; offset: string }[];
  generation: GroupGeneration | undefined;
  ended: 'commit' | 'abort' | undefined;
}

/** A transactional producer stand-in: records what each transaction carried; `failOffsets` refuses the next sendOffsets. */
function standInKafka() {
  const state = { transactionalIds: [] as string[], transactions: [] as Sent[], producers: 0, disconnected: 0, failOffsets: undefined as Error | undefined };
  const kafka = {
    producer: ({ transactionalId }: { transactionalId: string }) => {
      state.transactionalIds.push(transactionalId);
      state.producers += 1;
      return {
        events: { REQUEST: 'request' },
        on: () => undefined,
        connect: async () => undefined,
        disconnect: async () => void (state.disconnected += 1),
        transaction: async () => {
          const sent: Sent = { records: [], offsets: [], generation: undefined, ended: undefined };
          state.transactions.push(sent);
          return {
            isActive: () => sent.ended === undefined,
            sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: { partition?: number }[] }[] }): Promise<RecordMetadata[]> => {
              sent.records = topicMessages.map((t) => ({ topic: t.topic, partitions: t.messages.map((m) => m.partition ?? -1) }));
              return topicMessages.flatMap((t) => [...new Set(t.messages.map((m) => m.partition ?? 0))].map((partition) => ({ topicName: t.topic, partition, errorCode: 0, baseOffset: '0' })));
            },
            sendOffsets: async ({ topics: offsets, consumerGroupMetadata }: { topics: { partitions: { partition: number; offset: string }[] }[]; consumerGroupMetadata?: GroupGeneration }) => {
              sent.generation = consumerGroupMetadata;
              const refusal = state.failOffsets;
              state.failOffsets = undefined;
              if (refusal !== undefined) throw refusal;
              sent.offsets = offsets.flatMap((t) => t.partitions);
            },
            commit: async () => void (sent.ended = 'commit'),
            abort: async () => void (sent.ended = 'abort'),
          };
        },
      };
    },
  };
  return { kafka, state };
}

function setup() {
  const dataDir = mkdtempSync(join(tmpdir(), 'instance-transactions-'));
  dirs.push(dataDir);
  const { kafka, state } = standInKafka();
  const log = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const context = { kafka, appId: 'app', dataDir, topics, transactionTimeoutMs: 10_000 } as unknown as TaskContext;
  return { transactions: new InstanceTransactions(context, 'app.account', log as never), state, dataDir };
}

/** A task stand-in: remembers what committed and whether it was told its transaction failed. */
function task(partition: number) {
  const seen = { committed: [] as string[], failed: 0 };
  const stand = {
    partition,
    afterCommit: async (chunk: PreparedChunk, { marks }: { marks: TransactionMarks }): Promise<ChunkStats> => {
      seen.committed.push(chunk.nextOffset);
      return { commands: chunk.messages.length, transactionMs: marks.committed - marks.started } as ChunkStats;
    },
    failed: () => void (seen.failed += 1),
  };
  return { task: stand as unknown as PartitionTask, seen };
}

function chunk(partition: number, commands: number, lastOffset = commands - 1): PreparedChunk {
  const messages = Array.from({ length: commands }, (_, i) => ({ offset: String(lastOffset - commands + 1 + i) }) as KafkaMessage);
  const records = [
    { topic: topics.events, messages: [{ partition, value: Buffer.from('e') }] },
    { topic: topics.outcomes, messages: [{ partition, value: Buffer.from('o') }] },
  ];
  return { partition, messages, records, nextOffset: String(lastOffset + 1), result: { events: [], states: new Map(), outcomes: [] } } as unknown as PreparedChunk;
}

const gen = (generationId: number): GroupGeneration => ({ generationId, memberId: 'member-1' });

describe('InstanceTransactions: one transaction for an instance’s partitions', () => {
  it('chunks handed in together ride in one transaction, with every partition’s offsets under the generation', async () => {
    const { transactions, state } = setup();
    await transactions.start();
    const [a, b, c] = [task(0), task(1), task(2)];
    const done = await Promise.all([transactions.commit(a.task, chunk(0, 3, 9), gen(4)), transactions.commit(b.task, chunk(1, 2, 1), gen(4)), transactions.commit(c.task, chunk(2, 1, 0), gen(4))]);
    // The fence at start, then one transaction.
    const carried = state.transactions.filter((t) => t.ended === 'commit' && t.offsets.length > 0);
    expect(carried).toHaveLength(1);
    expect(carried[0]?.offsets).toEqual([
      { partition: 0, offset: '10' },
      { partition: 1, offset: '2' },
      { partition: 2, offset: '1' },
    ]);
    expect(carried[0]?.generation).toEqual(gen(4));
    expect(carried[0]?.records).toEqual([
      { topic: topics.events, partitions: [0, 1, 2] },
      { topic: topics.outcomes, partitions: [0, 1, 2] },
    ]);
    expect(done.map((s) => s.commands)).toEqual([3, 2, 1]);
    expect([a.seen.committed, b.seen.committed, c.seen.committed]).toEqual([['10'], ['2'], ['1']]);
  });

  it('chunks of different generations never share a transaction', async () => {
    const { transactions, state } = setup();
    await transactions.start();
    const [a, b] = [task(0), task(1)];
    await Promise.all([transactions.commit(a.task, chunk(0, 1), gen(4)), transactions.commit(b.task, chunk(1, 1), gen(5))]);
    const carried = state.transactions.filter((t) => t.offsets.length > 0);
    expect(carried.map((t) => [t.generation?.generationId, t.offsets.map((o) => o.partition)])).toEqual([
      [4, [0]],
      [5, [1]],
    ]);
  });

  it('two chunks of one partition never share a transaction: the store checkpoint is where the transaction ends on the partition', async () => {
    const { transactions, state } = setup();
    await transactions.start();
    const [a, b] = [task(0), task(1)];
    await Promise.all([transactions.commit(a.task, chunk(0, 2, 1), gen(4)), transactions.commit(b.task, chunk(1, 1), gen(4)), transactions.commit(a.task, chunk(0, 2, 3), gen(4))]);
    const carried = state.transactions.filter((t) => t.offsets.length > 0);
    expect(carried.map((t) => t.offsets.map((o) => `${o.partition}@${o.offset}`))).toEqual([['0@2', '1@1'], ['0@4']]);
    expect(a.seen.committed).toEqual(['2', '4']);
  });

  it(`a transaction carries at most ${instanceTransactionCommandsMax} commands; the rest wait for the next`, async () => {
    const { transactions, state } = setup();
    await transactions.start();
    const half = instanceTransactionCommandsMax / 2;
    await Promise.all([0, 1, 2].map((p) => transactions.commit(task(p).task, chunk(p, half), gen(1))));
    const carried = state.transactions.filter((t) => t.offsets.length > 0);
    expect(carried.map((t) => t.offsets.map((o) => o.partition))).toEqual([[0, 1], [2]]);
  });

  it('a refused transaction is aborted, every task in it is told, the producer is replaced, and the next transaction goes on', async () => {
    const { transactions, state } = setup();
    await transactions.start();
    const [a, b] = [task(0), task(1)];
    const refusal = Object.assign(new Error('The provided generation id is not the current generation'), { type: 'ILLEGAL_GENERATION' });
    state.failOffsets = refusal;
    const results = await Promise.allSettled([transactions.commit(a.task, chunk(0, 1), gen(4)), transactions.commit(b.task, chunk(1, 1), gen(4))]);
    expect(results.map((r) => (r.status === 'rejected' ? (r.reason as { type?: string }).type : 'fulfilled'))).toEqual(['ILLEGAL_GENERATION', 'ILLEGAL_GENERATION']);
    expect(state.transactions.find((t) => t.generation?.generationId === 4)?.ended).toBe('abort');
    expect([a.seen.failed, b.seen.failed]).toEqual([1, 1]);
    expect([a.seen.committed, b.seen.committed]).toEqual([[], []]);
    // The old producer was dropped and a new one initialized (fencing anything of ours left open).
    expect(state.producers).toBe(2);
    expect(state.disconnected).toBe(1);
    await transactions.commit(a.task, chunk(0, 1), gen(5));
    expect(a.seen.committed).toEqual(['1']);
  });

  it('keeps its transactional id in the data directory, so a restart on it fences its previous incarnation', async () => {
    const { transactions, state, dataDir } = setup();
    await transactions.start();
    const id = readFileSync(join(dataDir, 'account', 'instance-id'), 'utf8').trim();
    expect(state.transactionalIds).toEqual([`app.account.instance.${id}`]);
    const again = new InstanceTransactions({ kafka: standInKafka().kafka, appId: 'app', dataDir, topics } as unknown as TaskContext, 'app.account', {} as never);
    expect(await again.id()).toBe(`app.account.instance.${id}`);
  });
});
