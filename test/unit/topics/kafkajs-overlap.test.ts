// The kafkajs patch (patches/kafkajs+2.2.4.patch) that lets a transaction's offsets be asked for
// while its records are being written: sendOffsets waits for the AddPartitionsToTxn of the sends
// begun before it, so the records' partitions join the transaction before its offsets do, as the
// Java client orders them, and the transaction's first coordinator request (the one that meets
// CONCURRENT_TRANSACTIONS while the previous one's markers are written) is still the records'
// AddPartitionsToTxn, retried inside the send. kafkajs sends one
// request at a time per broker (maxInFlightRequests 1), so what the overlap saves is the client's
// own time between the steps. kafkajs' send path (sendMessages) and transaction manager are driven
// here with a stand-in cluster whose answers the test releases one by one; against the real broker
// the processor's transactions run this way in every integration test.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: object) => EosManager;
const createSendMessages = require('kafkajs/src/producer/sendMessages') as (options: object) => (request: object) => Promise<unknown[]>;
const createRetry = require('kafkajs/src/retry') as (options: object) => unknown;
const { KafkaJSNonRetriableError, KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSNonRetriableError: new (message: string) => Error; KafkaJSProtocolError: new (e: Error) => Error };
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error };
const concurrentTransactions = 51;

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  sendOffsets(options: object): Promise<void>;
  commit(): Promise<void>;
}

interface Pending {
  api: string;
  release: () => void;
  fail: (error: Error) => void;
}

/** One broker (node 1) leading every partition and coordinating everything; each request waits until the test releases it. */
function standIn() {
  const sent: string[] = [];
  const pending: Pending[] = [];
  const answers: Record<string, unknown> = {
    initProducerId: { producerId: 7, producerEpoch: 0 },
    produce: { topics: [{ topicName: 'events', partitions: [{ partition: 0, errorCode: 0, baseOffset: '40' }] }] },
  };
  const request = (api: string) => () => {
    sent.push(api);
    if (api === 'initProducerId') return Promise.resolve(answers[api]);
    return new Promise((resolve, reject) => pending.push({ api, release: () => resolve(answers[api] ?? {}), fail: reject }));
  };
  const broker = { nodeId: 1, initProducerId: request('initProducerId'), addPartitionsToTxn: request('addPartitionsToTxn'), produce: request('produce'), addOffsetsToTxn: request('addOffsetsToTxn'), txnOffsetCommit: request('txnOffsetCommit'), endTxn: request('endTxn') };
  const cluster = {
    retry: { initialRetryTime: 1, maxRetryTime: 5, retries: 2 },
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => {},
    addMultipleTargetTopics: async () => {},
    isConnected: () => true,
    findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1, partitionErrorCode: 0, replicas: [1], isr: [1] }],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 1: partitions.map(Number) }),
    findBroker: async () => broker,
    findControllerBroker: async () => broker,
    findGroupCoordinator: async () => broker,
  };
  const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const eos = createEosManager({ logger, cluster, transactional: true, transactionalId: 'ledger.account.0' });
  const send = createSendMessages({ logger, cluster, eosManager: eos, partitioner: ({ message }: { message: { partition: number } }) => message.partition, retrier: createRetry({ initialRetryTime: 1, maxRetryTime: 5, retries: 2 }) });
  /** Lets every promise chain run as far as it can. */
  const settle = async () => {
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  const answer = async (api: string, error?: Error) => {
    const index = pending.findIndex((p) => p.api === api);
    if (index === -1) throw new Error(`no ${api} in flight (sent: ${sent.join(', ')})`);
    const [request] = pending.splice(index, 1);
    if (error === undefined) request!.release();
    else request!.fail(error);
    await settle();
  };
  const inFlight = () => pending.map((p) => p.api);
  const records = () => send({ acks: -1, topicMessages: [{ topic: 'events', messages: [{ partition: 0, key: 'k', value: 'v' }] }] });
  const offsets = () => eos.sendOffsets({ consumerGroupId: 'ledger.account', topics: [{ topic: 'commands', partitions: [{ partition: 0, offset: '5' }] }] });
  return { eos, sent, answer, inFlight, settle, records, offsets };
}

const track = <T>(promise: Promise<T>) => {
  const state = { done: false, error: undefined as Error | undefined };
  promise.then(() => (state.done = true), (error: Error) => ((state.done = true), (state.error = error)));
  return state;
};

/** A transaction begun, its records sent and its offsets asked for right after, neither awaited. */
async function bothStarted() {
  const c = standIn();
  await c.eos.initProducerId();
  c.eos.beginTransaction();
  const records = track(c.records());
  const offsets = track(c.offsets());
  await c.settle();
  return { c, records, offsets };
}

describe('kafkajs: offsets while the records are written (patched)', () => {
  it('AddOffsetsToTxn waits for the records AddPartitionsToTxn, then goes with the Produce still in flight', async () => {
    const { c, records, offsets } = await bothStarted();
    // Only the records' AddPartitionsToTxn: the transaction's first coordinator request.
    expect(c.inFlight()).toEqual(['addPartitionsToTxn']);
    await c.answer('addPartitionsToTxn');
    expect(c.inFlight().sort()).toEqual(['addOffsetsToTxn', 'produce']);
    await c.answer('addOffsetsToTxn');
    await c.answer('txnOffsetCommit');
    // The offsets are in the transaction while the Produce is still unanswered.
    expect(offsets).toEqual({ done: true, error: undefined });
    expect(records.done).toBe(false);
    await c.answer('produce');
    expect(records).toEqual({ done: true, error: undefined });
    const committing = track(c.eos.commit());
    await c.settle();
    await c.answer('endTxn');
    expect(committing).toEqual({ done: true, error: undefined });
    expect(c.sent).toEqual(['initProducerId', 'addPartitionsToTxn', 'produce', 'addOffsetsToTxn', 'txnOffsetCommit', 'endTxn']);
  });

  it('awaited one after the other, as before, nothing waits', async () => {
    const c = standIn();
    await c.eos.initProducerId();
    c.eos.beginTransaction();
    const records = c.records();
    await c.settle();
    await c.answer('addPartitionsToTxn');
    await c.answer('produce');
    await records;
    const offsets = track(c.offsets());
    await c.settle();
    expect(c.inFlight()).toEqual(['addOffsetsToTxn']);
    await c.answer('addOffsetsToTxn');
    await c.answer('txnOffsetCommit');
    expect(offsets).toEqual({ done: true, error: undefined });
  });

  it('a retried AddPartitionsToTxn (CONCURRENT_TRANSACTIONS while the previous markers are written) keeps the offsets waiting', async () => {
    const { c, records, offsets } = await bothStarted();
    await c.answer('addPartitionsToTxn', new KafkaJSProtocolError(createErrorFromCode(concurrentTransactions)));
    // kafkajs' send retries after its backoff (1–5 ms here); the offsets still wait.
    for (let waited = 0; !c.inFlight().includes('addPartitionsToTxn'); waited += 1) {
      if (waited > 1000) throw new Error(`no retried AddPartitionsToTxn (sent: ${c.sent.join(', ')})`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(c.inFlight()).toEqual(['addPartitionsToTxn']);
    await c.answer('addPartitionsToTxn');
    expect(c.inFlight().sort()).toEqual(['addOffsetsToTxn', 'produce']);
    await c.answer('produce');
    await c.answer('addOffsetsToTxn');
    await c.answer('txnOffsetCommit');
    expect([records, offsets]).toEqual([{ done: true, error: undefined }, { done: true, error: undefined }]);
    expect(c.sent.filter((api) => api === 'addOffsetsToTxn')).toHaveLength(1);
  });

  it('a send that fails before its partitions are added does not leave the offsets waiting', async () => {
    const { c, records, offsets } = await bothStarted();
    await c.answer('addPartitionsToTxn', new KafkaJSNonRetriableError('refused'));
    expect(records.error?.message).toMatch(/refused/);
    // The caller aborts the transaction either way; the offsets must not hang meanwhile.
    expect(c.inFlight()).toEqual(['addOffsetsToTxn']);
    await c.answer('addOffsetsToTxn');
    await c.answer('txnOffsetCommit');
    expect(offsets.done).toBe(true);
  });
});
