// kafkajs leaves out of its produce requests, without an error, every record whose explicit
// partition its metadata does not list (cluster.findLeaderForPartitions finds no leader for it),
// and its send resolves with what it did write. A transaction that committed then would lack
// records it meant to write: a follow-up's credit, say, after its debit. runTransaction must
// check the answer against what it sent and abort instead.
import type { Producer, RecordMetadata, TopicMessages } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { runTransaction, type PreparedChunk } from '../../../processors/account/transaction.ts';

/** A transaction stand-in that answers only for the partitions it knows, as kafkajs does. */
function producerKnowing(partitions: number[], knows: (topic: string, partition: number) => boolean = (_, partition) => partitions.includes(partition)) {
  const ended: string[] = [];
  const producer = {
    transaction: async () => {
      let active = true;
      return {
        isActive: () => active,
        sendOffsets: async () => undefined,
        sendBatch: async ({ topicMessages }: { topicMessages: TopicMessages[] }): Promise<RecordMetadata[]> =>
          topicMessages.flatMap(({ topic, messages }) =>
            [...new Set(messages.map((m) => m.partition as number))].filter((p) => knows(topic, p)).map((partition) => ({ topicName: topic, partition, errorCode: 0, baseOffset: '0' })),
          ),
        commit: async () => void ((active = false), ended.push('commit')),
        abort: async () => void ((active = false), ended.push('abort')),
      };
    },
  } as unknown as Producer;
  return { producer, ended };
}

const chunk = (records: TopicMessages[]): PreparedChunk => ({ partition: 0, messages: [], records, nextOffset: '1' }) as unknown as PreparedChunk;
const options = { groupId: 'g', commandsTopic: 'bank.commands', log: { info: () => undefined, warn: () => undefined } } as never;

describe('runTransaction: every record sent is in the answer', () => {
  it('aborts, and does not commit, when the answer leaves out a partition it sent records to', async () => {
    const { producer, ended } = producerKnowing([0, 1]);
    const records = [
      { topic: 'bank.events', messages: [{ partition: 0, key: 'a', value: 'e' }] },
      { topic: 'bank.commands', messages: [{ partition: 1, key: 'b', value: 'c' }, { partition: 5, key: 'c', value: 'credit' }] },
    ];
    await expect(runTransaction(producer, [chunk(records)], options)).rejects.toThrow(/bank\.commands.*5/);
    expect(ended).toEqual(['abort']);
  });

  it('tells topics apart: an answer for one topic\'s partition does not answer another topic\'s partition of that number', async () => {
    const { producer, ended } = producerKnowing([], (topic) => topic === 'bank.events');
    const records = [
      { topic: 'bank.events', messages: [{ partition: 3, key: 'a', value: 'e' }] },
      { topic: 'bank.outcomes', messages: [{ partition: 3, key: 'a', value: 'o' }] },
    ];
    await expect(runTransaction(producer, [chunk(records)], options)).rejects.toThrow(/bank\.outcomes.*3/);
    expect(ended).toEqual(['abort']);
  });

  it('commits when every partition is answered', async () => {
    const { producer, ended } = producerKnowing([0, 1]);
    const records = [{ topic: 'bank.commands', messages: [{ partition: 1, key: 'b', value: 'c' }] }];
    await runTransaction(producer, [chunk(records)], options);
    expect(ended).toEqual(['commit']);
  });
});
