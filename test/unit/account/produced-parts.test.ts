// How a transaction's records are cut into produce requests (transaction.ts producedParts): no
// topic-partition over the bound in one request, every record sent once, each partition's
// records in their order, and a transaction that fits is one request as before.
import { describe, expect, it } from 'vitest';
import type { Message, TopicMessages } from 'kafkajs';
import { endKey, endOffsets, producedParts } from '../../../processors/account/transaction.ts';

const record = (partition: number | undefined, n: number, valueBytes = 100): Message => ({ partition, key: `k${n}`, value: Buffer.alloc(valueBytes, n % 256) });

/** Per request: the estimated-size-free view, topic → partition → keys. */
function layout(parts: TopicMessages[][]) {
  return parts.map((part) => Object.fromEntries(part.map(({ topic, messages }) => [topic, messages.map((m) => `${m.partition ?? '*'}:${String(m.key)}`)])));
}

describe('producedParts', () => {
  it('a transaction under the bound is one request, as it was', () => {
    const records: TopicMessages[] = [
      { topic: 'events', messages: [record(0, 1), record(0, 2)] },
      { topic: 'commands', messages: [record(undefined, 3)] },
    ];
    expect(producedParts(records)).toEqual([records]);
  });

  it('cuts each partition at the bound and keeps its order across the requests', () => {
    // 10 records of 1,000-byte values on partition 0 and 3 on partition 1, a bound of 4,000: each
    // is estimated at 1,034 bytes (value, key, record overhead), so 3 fit in a request.
    const records: TopicMessages[] = [
      { topic: 'outcomes', messages: [...Array.from({ length: 10 }, (_, i) => record(0, i, 1000)), ...Array.from({ length: 3 }, (_, i) => record(1, 100 + i, 1000))] },
      { topic: 'events', messages: [record(1, 200, 10)] },
    ];
    const parts = producedParts(records, 4000);
    for (const part of parts) {
      for (const { messages } of part) {
        const byPartition = new Map<string, number>();
        for (const m of messages) byPartition.set(String(m.partition), (byPartition.get(String(m.partition)) ?? 0) + (m.value as Buffer).length);
        for (const bytes of byPartition.values()) expect(bytes).toBeLessThanOrEqual(4000);
      }
    }
    // Every record once, and partition 0's in order when the requests are read one after another.
    const sent = parts.flatMap((part) => part.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${m.partition}/${String(m.key)}`)));
    expect([...sent].sort()).toEqual(records.flatMap(({ topic, messages }) => messages.map((m) => `${topic}/${m.partition}/${String(m.key)}`)).sort());
    expect(sent.filter((s) => s.startsWith('outcomes/0/'))).toEqual(Array.from({ length: 10 }, (_, i) => `outcomes/0/k${i}`));
    expect(layout(parts)).toEqual([
      { outcomes: ['0:k0', '0:k1', '0:k2', '1:k100', '1:k101', '1:k102'], events: ['1:k200'] },
      { outcomes: ['0:k3', '0:k4', '0:k5'] },
      { outcomes: ['0:k6', '0:k7', '0:k8'] },
      { outcomes: ['0:k9'] },
    ]);
  });

  it('records the partitioner places count against their topic as a whole', () => {
    const records: TopicMessages[] = [{ topic: 'commands', messages: Array.from({ length: 4 }, (_, i) => record(undefined, i, 1500)) }];
    expect(layout(producedParts(records, 3100))).toEqual([{ commands: ['*:k0', '*:k1'] }, { commands: ['*:k2', '*:k3'] }]);
  });

  it('a topic with records the partitioner places is one sequence, whatever partitions some records name', () => {
    const records: TopicMessages[] = [{ topic: 'commands', messages: [record(0, 1, 1500), record(undefined, 2, 1500), record(0, 3, 1500)] }];
    expect(layout(producedParts(records, 3100))).toEqual([{ commands: ['0:k1', '*:k2'] }, { commands: ['0:k3'] }]);
  });

  it('where the records end: the last request carrying a topic-partition, its base offset plus its records there', () => {
    const parts = producedParts([{ topic: 'outcomes', messages: [...Array.from({ length: 5 }, (_, i) => record(0, i, 1000)), record(1, 9, 10)] }], 2100);
    expect(layout(parts)).toEqual([{ outcomes: ['0:k0', '0:k1', '1:k9'] }, { outcomes: ['0:k2', '0:k3'] }, { outcomes: ['0:k4'] }]);
    // Another writer's records may lie between our requests (offsets 42–49 here): the end counts from the last one.
    const metadata = [
      [{ topicName: 'outcomes', partition: 0, errorCode: 0, baseOffset: '40' }, { topicName: 'outcomes', partition: 1, errorCode: 0, baseOffset: '7' }],
      [{ topicName: 'outcomes', partition: 0, errorCode: 0, baseOffset: '50' }],
      [{ topicName: 'outcomes', partition: 0, errorCode: 0, baseOffset: '52' }],
    ];
    const ends = endOffsets(parts.map((part, i) => ({ part, metadata: metadata[i]! })));
    expect(Object.fromEntries(ends)).toEqual({ [endKey('outcomes', 0)]: '53', [endKey('outcomes', 1)]: '8' });
  });

  it('headers count, and a record over the bound goes alone rather than nowhere', () => {
    const withHeaders: Message = { partition: 0, key: 'h', value: Buffer.alloc(10), headers: { 'ledger.fetched-at': Buffer.alloc(3000) } };
    expect(layout(producedParts([{ topic: 't', messages: [record(0, 1, 10), withHeaders, record(0, 2, 10)] }], 2000))).toEqual([{ t: ['0:k1'] }, { t: ['0:h'] }, { t: ['0:k2'] }]);
  });
});
