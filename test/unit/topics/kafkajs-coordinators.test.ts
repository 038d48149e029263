// The kafkajs patch (patches/kafkajs+2.2.4.patch) that remembers a transactional producer's
// coordinators instead of asking a broker (FindCoordinator) before every AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit and EndTxn. The integration test (foundation.test.ts) counts the
// requests against a real broker; this one drives kafkajs' own transaction manager with a stand-in
// cluster to show when a remembered coordinator is forgotten, which one broker cannot provoke.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: object) => EosManager;
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error & { type: string } };
const { KafkaJSProtocolError, KafkaJSConnectionError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: Error) => Error; KafkaJSConnectionError: new (message: string) => Error };

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topicData: object[]): Promise<void>;
  sendOffsets(options: object): Promise<void>;
  commit(): Promise<void>;
}

const codes = { loadInProgress: 14, notCoordinator: 16, concurrentTransactions: 51 };
const protocolError = (code: number) => new KafkaJSProtocolError(createErrorFromCode(code));

/** A cluster of two brokers whose coordinators answer FindCoordinator; `fail` makes one request fail once. */
function standIn() {
  const finds: string[] = [];
  const failures = new Map<string, Error[]>();
  let coordinatorNode = 1;
  const sent: Array<{ node: number; api: string }> = [];
  const broker = (nodeId: number) => {
    const request = (api: string) => async () => {
      sent.push({ node: nodeId, api });
      const failure = failures.get(api)?.shift();
      if (failure !== undefined) throw failure;
      return api === 'initProducerId' ? { producerId: 7, producerEpoch: 0 } : {};
    };
    return { nodeId, initProducerId: request('initProducerId'), addPartitionsToTxn: request('addPartitionsToTxn'), addOffsetsToTxn: request('addOffsetsToTxn'), txnOffsetCommit: request('txnOffsetCommit'), endTxn: request('endTxn') };
  };
  const brokers = new Map([1, 2].map((n) => [n, broker(n)]));
  const cluster = {
    retry: { initialRetryTime: 1, maxRetryTime: 5, retries: 3 },
    refreshMetadataIfNecessary: async () => {},
    findControllerBroker: async () => brokers.get(1),
    findBroker: async ({ nodeId }: { nodeId: number }) => brokers.get(nodeId),
    findGroupCoordinator: async ({ groupId, coordinatorType }: { groupId: string; coordinatorType: number }) => {
      finds.push(`${coordinatorType}:${groupId}`);
      return brokers.get(coordinatorNode);
    },
  };
  const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
  const eos = createEosManager({ logger, cluster, transactional: true, transactionalId: 'ledger.account.0' });
  const addPartitions = () => eos.addPartitionsToTransaction([{ topic: 'events', partitions: [{ partition: 0 }] }]);
  const sendOffsets = (offset: string) => eos.sendOffsets({ consumerGroupId: 'ledger.account', topics: [{ topic: 'commands', partitions: [{ partition: 0, offset }] }] });
  const transaction = async () => {
    eos.beginTransaction();
    await addPartitions();
    await sendOffsets('1');
    await eos.commit();
  };
  /** The next requests of `api` fail with each of `errors` in turn. */
  const fail = (api: string, ...errors: Error[]) => failures.set(api, errors);
  /** One transaction done, then both coordinators move to node 2 and `api`'s next request fails with `error`; a new transaction begins. */
  const afterCoordinatorsMove = async (api: string, error: Error) => {
    await eos.initProducerId();
    await transaction();
    coordinatorNode = 2;
    fail(api, error);
    eos.beginTransaction();
  };
  return {
    eos,
    finds,
    sent,
    transaction,
    addPartitions,
    sendOffsets,
    afterCoordinatorsMove,
    fail,
  };
}

describe('kafkajs transactional coordinators (patched)', () => {
  it('asks for the transaction and group coordinators once across many transactions', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    for (let i = 0; i < 5; i += 1) await cluster.transaction();
    expect(cluster.finds).toEqual(['1:ledger.account.0', '0:ledger.account']);
    expect(cluster.sent.filter((s) => s.api === 'endTxn')).toHaveLength(5);
  });

  it('a coordinator that answers NOT_COORDINATOR is forgotten and the request sent once more to the one FindCoordinator names now', async () => {
    const cluster = standIn();
    await cluster.afterCoordinatorsMove('addOffsetsToTxn', protocolError(codes.notCoordinator));
    await cluster.sendOffsets('2');
    await cluster.eos.commit();
    expect(cluster.finds).toEqual(['1:ledger.account.0', '0:ledger.account', '1:ledger.account.0']);
    expect(cluster.sent.slice(-4)).toEqual([
      { node: 1, api: 'addOffsetsToTxn' },
      { node: 2, api: 'addOffsetsToTxn' },
      // The group coordinator did not fail, so it is still the remembered one.
      { node: 1, api: 'txnOffsetCommit' },
      { node: 2, api: 'endTxn' },
    ]);
  });

  it('an AddOffsetsToTxn answered CONCURRENT_TRANSACTIONS (the previous transaction\'s markers still being written) is retried, as the Java client does', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    await cluster.transaction();
    // The next transaction begins with its offsets (nothing to send): its first coordinator request.
    cluster.fail('addOffsetsToTxn', protocolError(codes.concurrentTransactions), protocolError(codes.concurrentTransactions));
    cluster.eos.beginTransaction();
    await cluster.sendOffsets('2');
    await cluster.eos.commit();
    expect(cluster.sent.slice(-5).map((s) => s.api)).toEqual(['addOffsetsToTxn', 'addOffsetsToTxn', 'addOffsetsToTxn', 'txnOffsetCommit', 'endTxn']);
  });

  it('only once: a second NOT_COORDINATOR fails the step (the processor then re-initializes the partition)', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    cluster.fail('endTxn', protocolError(codes.notCoordinator), protocolError(codes.notCoordinator));
    cluster.eos.beginTransaction();
    await cluster.addPartitions();
    await expect(cluster.eos.commit()).rejects.toThrow(/not the correct coordinator/);
    expect(cluster.sent.filter((s) => s.api === 'endTxn')).toHaveLength(2);
    // Found at initialization, then again for the one retry.
    expect(cluster.finds).toEqual(['1:ledger.account.0', '1:ledger.account.0']);
  });

  it('forgets a coordinator it lost the connection to', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    cluster.fail('addPartitionsToTxn', new KafkaJSConnectionError('Connection error: ECONNRESET'));
    cluster.eos.beginTransaction();
    await expect(cluster.addPartitions()).rejects.toThrow(/ECONNRESET/);
    await cluster.addPartitions();
    expect(cluster.finds).toEqual(['1:ledger.account.0', '1:ledger.account.0']);
  });

  it('keeps it on errors that say nothing about where the coordinator is (CONCURRENT_TRANSACTIONS)', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    cluster.fail('addPartitionsToTxn', protocolError(codes.concurrentTransactions));
    cluster.eos.beginTransaction();
    await expect(cluster.addPartitions()).rejects.toThrow();
    await cluster.addPartitions();
    expect(cluster.finds).toEqual(['1:ledger.account.0']);
  });

  it('TxnOffsetCommit at a group coordinator still loading after a restart is retried there (kafkajs named code 14 GROUP_LOAD_IN_PROGRESS, its retry list COORDINATOR_LOAD_IN_PROGRESS)', async () => {
    const cluster = standIn();
    await cluster.eos.initProducerId();
    cluster.fail('txnOffsetCommit', protocolError(codes.loadInProgress));
    cluster.eos.beginTransaction();
    await cluster.sendOffsets('1');
    expect(cluster.sent.filter((s) => s.api === 'txnOffsetCommit')).toEqual([
      { node: 1, api: 'txnOffsetCommit' },
      { node: 1, api: 'txnOffsetCommit' },
    ]);
    expect(cluster.finds).toEqual(['1:ledger.account.0', '0:ledger.account']);
  });

  it('TxnOffsetCommit at a group coordinator that moved is retried at the new one (kafkajs named the errors it meant to retry wrongly)', async () => {
    const cluster = standIn();
    await cluster.afterCoordinatorsMove('txnOffsetCommit', protocolError(codes.notCoordinator));
    await cluster.sendOffsets('2');
    const commits = cluster.sent.filter((s) => s.api === 'txnOffsetCommit');
    expect(commits.slice(-2)).toEqual([
      { node: 1, api: 'txnOffsetCommit' },
      { node: 2, api: 'txnOffsetCommit' },
    ]);
    expect(cluster.finds.at(-1)).toBe('0:ledger.account');
  });
});
