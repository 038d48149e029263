// The gateway's outcome feed commits no offsets, so kafkajs resolves a partition to the latest
// offset after any rejoin of its group (a broker restart moves the coordinator). Found by the fault
// campaign (seed 2026, run 70): after a broker restart, outcomes written in between were never read,
// so waiting requests answered 202 and GET /commands answered 404 for commands the ledger had decided.
// A scripted consumer (no broker: a pure unit test of what the feed asks kafkajs to do).
import { describe, expect, it } from 'vitest';
import type { Admin, EachBatchPayload, Kafka } from 'kafkajs';
import { KafkaOutcomeFeed } from '../../../gateway/outcomes.ts';
import { OutcomeTable } from '../../../gateway/outcome-table.ts';
import type { TopicCodec } from '../../../schemas/codec.ts';
import type { CommandOutcome } from '../../../schemas/types.ts';

const topic = 'bank.outcomes';

function scriptedKafka() {
  const handlers = new Map<string, Array<(event: unknown) => void>>();
  const seeks: Array<{ partition: number; offset: string }> = [];
  let eachBatch: ((payload: EachBatchPayload) => Promise<void>) | undefined;
  const consumer = {
    events: { GROUP_JOIN: 'join', END_BATCH_PROCESS: 'end', STOP: 'stop', CRASH: 'crash' },
    on: (name: string, handler: (event: unknown) => void) => handlers.set(name, [...(handlers.get(name) ?? []), handler]),
    connect: async () => {},
    subscribe: async () => {},
    run: async (options: { eachBatch: (payload: EachBatchPayload) => Promise<void> }) => void (eachBatch = options.eachBatch),
    seek: ({ partition, offset }: { partition: number; offset: string }) => void seeks.push({ partition, offset }),
    disconnect: async () => {},
  };
  const admin = {
    fetchTopicOffsetsByTimestamp: async () => [{ partition: 0, offset: '5' }, { partition: 1, offset: '2' }],
    fetchTopicOffsets: async () => [{ partition: 0, offset: '9', high: '9', low: '0' }, { partition: 1, offset: '2', high: '2', low: '0' }],
  };
  const emit = (name: string) => (handlers.get(name) ?? []).forEach((handler) => handler({ payload: {} }));
  /** Delivers offsets of one partition as the fetch loop would (tombstones: no codec work). */
  const deliver = (partition: number, offsets: string[]) =>
    eachBatch!({
      batch: { topic, partition, messages: offsets.map((offset) => ({ offset, value: null, headers: {}, timestamp: '0', key: null, attributes: 0 })) },
      resolveOffset: () => {}, heartbeat: async () => {}, isRunning: () => true, isStale: () => false,
    } as unknown as EachBatchPayload);
  return { kafka: { consumer: () => consumer } as unknown as Kafka, admin: admin as unknown as Admin, seeks, emit, deliver };
}

describe('the outcome feed across a rejoin of its group', () => {
  it('seeks every partition back to where it had read, not to the latest offset', async () => {
    const scripted = scriptedKafka();
    const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} };
    const feed = new KafkaOutcomeFeed({ kafka: scripted.kafka, admin: scripted.admin, topic, groupId: 'g', outcomeLookbackMs: 60_000, table: new OutcomeTable({ outcomesRememberedMax: 10, pendingRequestsMax: 10 }), log });
    await feed.start({} as TopicCodec<CommandOutcome>);
    expect(scripted.seeks).toEqual([{ partition: 0, offset: '5' }, { partition: 1, offset: '2' }]);
    await scripted.deliver(0, ['5', '6']);
    scripted.seeks.length = 0;
    scripted.emit('join');
    expect(scripted.seeks).toEqual([{ partition: 0, offset: '7' }, { partition: 1, offset: '2' }]);
    await feed.close();
  });
});
