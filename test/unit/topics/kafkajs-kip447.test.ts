// The kafkajs patch (patches/kafkajs+2.2.4.patch) for the client half of KIP-447, opt-in:
// TxnOffsetCommit v3 (consumer group metadata: offsets fenced by consumer-group generation),
// OffsetFetch v7 (require_stable) and the generation id in GROUP_JOIN. Here, without a broker:
// the requests' bytes against the layout derived by hand from Kafka's message schemas
// (TxnOffsetCommitRequest.json, OffsetFetchRequest.json; flexible versions, KIP-482), hand-built
// responses decoded, partition errors thrown as protocol errors, the opt-in version choice, and
// that the transaction manager never retries a fenced offset commit. The integration test
// (test/integration/kafkajs-kip447.test.ts) shows the same against the real broker.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

type Request = { apiKey: number; apiVersion: number; apiName: string; encode(): Promise<{ buffer: Buffer }> };
type Response = { decode(raw: Buffer): Promise<any>; parse(data: unknown): Promise<any> };
type Definitions = { versions: string[]; protocol(o: { version: number }): (args: object) => { request: Request; response: Response } };
type ApiVersions = Record<number, { minVersion: number; maxVersion: number }>;

const { requests, lookup, lookupVersion } = require('kafkajs/src/protocol/requests') as {
  requests: Record<string, Definitions>;
  lookup: (v: ApiVersions) => (apiKey: number, d: Definitions) => (args: object) => { request: Request; response: Response };
  lookupVersion?: (v: ApiVersions) => (apiKey: number, d: Definitions, version: number, feature: string) => (args: object) => { request: Request; response: Response };
};
const Broker = require('kafkajs/src/broker') as new (options: object) => {
  connect(): Promise<void>;
  txnOffsetCommit(o: object): Promise<unknown>;
  offsetFetch(o: object): Promise<unknown>;
};
const createEosManager = require('kafkajs/src/producer/eosManager') as (options: object) => {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  sendOffsets(options: object): Promise<void>;
};
const { createErrorFromCode } = require('kafkajs/src/protocol/error') as { createErrorFromCode: (code: number) => Error & { type: string; code: number; retriable: boolean } };
const { KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: Error) => Error };

const TXN_OFFSET_COMMIT = 28;
const OFFSET_FETCH = 9;
/** What the broker of this project (Kafka 3.9) answers ApiVersions with, for these two APIs. */
const kafka39: ApiVersions = { [TXN_OFFSET_COMMIT]: { minVersion: 0, maxVersion: 4 }, [OFFSET_FETCH]: { minVersion: 0, maxVersion: 9 } };

/** Bytes from a hand-written layout: hex digits, with a `//` comment to the end of each line. */
const hex = (layout: string) => {
  const digits = layout.split('\n').map((line) => line.replace(/\/\/.*$/, '')).join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`not a byte layout: ${digits}`);
  return Buffer.from(digits, 'hex');
};
const ascii = (s: string) => Buffer.from(s, 'utf8').toString('hex');

function at(name: string, version: number, args: object) {
  const protocol = requests[name]!.protocol({ version });
  expect(protocol, `${name} v${version} implemented`).toBeTypeOf('function');
  return protocol(args);
}

async function throwsOf(promise: Promise<unknown>): Promise<Error & { type?: string; code?: number; retriable?: boolean; name: string }> {
  try {
    await promise;
  } catch (e) {
    return e as Error & { type?: string };
  }
  throw new Error('expected a rejection');
}

describe('TxnOffsetCommit v3 (KIP-447: consumer group metadata)', () => {
  const args = {
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 7,
    producerEpoch: 1,
    generationId: 5,
    memberId: 'm-1',
    groupInstanceId: null,
    topics: [{ topic: 't', partitions: [{ partition: 0, offset: '42' }] }],
  };

  it('encodes the request byte for byte as the schema lays it out (compact strings and arrays, tagged fields)', async () => {
    const { request } = at('TxnOffsetCommit', 3, args);
    expect({ apiKey: request.apiKey, apiVersion: request.apiVersion, apiName: request.apiName }).toEqual({ apiKey: 28, apiVersion: 3, apiName: 'TxnOffsetCommit' });
    const expected = hex(`
      00                                // request header v2: its TAG_BUFFER, empty (written as the body's first byte)
      03 ${ascii('tx')}                 // transactional_id COMPACT_STRING: length + 1 = 3
      02 ${ascii('g')}                  // group_id
      00 00 00 00 00 00 00 07           // producer_id INT64
      00 01                             // producer_epoch INT16
      00 00 00 05                       // generation_id INT32 (v3+)
      04 ${ascii('m-1')}                // member_id COMPACT_STRING (v3+)
      00                                // group_instance_id COMPACT_NULLABLE_STRING: null (v3+)
      02                                // topics COMPACT_ARRAY: 1 + 1
        02 ${ascii('t')}                  // name
        02                                // partitions: 1 + 1
          00 00 00 00                       // partition_index INT32
          00 00 00 00 00 00 00 2a           // committed_offset INT64 = 42
          ff ff ff ff                       // committed_leader_epoch INT32 = -1 (v2+: unknown)
          00                                // committed_metadata COMPACT_NULLABLE_STRING: null
          00                                // partition TAG_BUFFER
        00                                // topic TAG_BUFFER
      00                                // request TAG_BUFFER
    `);
    expect((await request.encode()).buffer.toString('hex')).toBe(expected.toString('hex'));
  });

  it('encodes a static member (group instance id) and partition metadata as compact strings', async () => {
    const { request } = at('TxnOffsetCommit', 3, {
      ...args,
      groupInstanceId: 'i1',
      topics: [{ topic: 't', partitions: [{ partition: 3, offset: 9_007_199_254_740_993n.toString(), metadata: 'md' }] }],
    });
    const expected = [
      '00', `03${ascii('tx')}`, `02${ascii('g')}`, '0000000000000007', '0001', '00000005', `04${ascii('m-1')}`,
      `03${ascii('i1')}`, // group_instance_id: length + 1 = 3
      '02', `02${ascii('t')}`, '02',
      '00000003', '0020000000000001', 'ffffffff', // 2^53 + 1: an INT64 beyond a double's precision survives
      `03${ascii('md')}`, '00', '00', '00',
    ].join('');
    expect((await request.encode()).buffer.toString('hex')).toBe(expected);
  });

  it('decodes a response with an ILLEGAL_GENERATION partition and throws it as a protocol error with its type', async () => {
    const { response } = at('TxnOffsetCommit', 3, args);
    const raw = hex(`
      00                                // response header v1: TAG_BUFFER, read first
      00 00 00 0a                       // throttle_time_ms = 10
      02                                // topics: 1 + 1
        02 ${ascii('t')}                  // name
        03                                // partitions: 2 + 1
          00 00 00 00 00 00 00              // partition 0, error_code 0, TAG_BUFFER
          00 00 00 01 00 16 00              // partition 1, error_code 22 (ILLEGAL_GENERATION), TAG_BUFFER
        00                                // topic TAG_BUFFER
      00                                // response TAG_BUFFER
    `);
    const data = await response.decode(raw);
    expect(data).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 10,
      topics: [{ topic: 't', partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: 22 }] }],
    });
    const error = await throwsOf(response.parse(data));
    expect(error).toBeInstanceOf(KafkaJSProtocolError);
    expect({ name: error.name, type: error.type, code: error.code, retriable: error.retriable }).toEqual({ name: 'KafkaJSProtocolError', type: 'ILLEGAL_GENERATION', code: 22, retriable: false });
  });

  it('UNKNOWN_MEMBER_ID (25) and FENCED_INSTANCE_ID (82) come out with their types too; a clean response parses to itself', async () => {
    const { response } = at('TxnOffsetCommit', 3, args);
    const one = (code: number) => hex(`00 00000000 02 02${ascii('t')} 02 00000000 ${code.toString(16).padStart(4, '0')} 00 00 00`);
    for (const [code, type] of [[25, 'UNKNOWN_MEMBER_ID'], [82, 'FENCED_INSTANCE_ID']] as const) {
      expect((await throwsOf(response.parse(await response.decode(one(code))))).type).toBe(type);
    }
    const clean = await response.decode(one(0));
    expect(await response.parse(clean)).toBe(clean);
  });
});

describe('OffsetFetch v7 (KIP-447: require_stable)', () => {
  it('encodes the request byte for byte: group, topics with partition indexes, require_stable', async () => {
    const { request } = at('OffsetFetch', 7, { groupId: 'g', topics: [{ topic: 't', partitions: [{ partition: 0 }, { partition: 2 }] }], requireStable: true });
    expect({ apiKey: request.apiKey, apiVersion: request.apiVersion }).toEqual({ apiKey: 9, apiVersion: 7 });
    const expected = [
      '00', //                  request header v2 TAG_BUFFER
      `02${ascii('g')}`, //     group_id COMPACT_STRING
      '02', //                  topics COMPACT_NULLABLE_ARRAY: 1 + 1
      `02${ascii('t')}`, //       name
      '03', //                    partition_indexes COMPACT_ARRAY of INT32: 2 + 1
      '00000000', '00000002',
      '00', //                    topic TAG_BUFFER
      '01', //                  require_stable BOOLEAN
      '00', //                  request TAG_BUFFER
    ].join('');
    expect((await request.encode()).buffer.toString('hex')).toBe(expected);
  });

  it('no topics is a null array (all topics), as kafkajs\' older versions send an empty one; require_stable false is 00', async () => {
    const { request } = at('OffsetFetch', 7, { groupId: 'g', topics: [], requireStable: false });
    expect((await request.encode()).buffer.toString('hex')).toBe(['00', `02${ascii('g')}`, '00', '00', '00'].join(''));
  });

  it('decodes a response with an UNSTABLE_OFFSET_COMMIT partition and throws it as a retriable protocol error of that type', async () => {
    const { response } = at('OffsetFetch', 7, { groupId: 'g', topics: [], requireStable: true });
    const raw = hex([
      '00', //                  response header v1 TAG_BUFFER
      '00000000', //            throttle_time_ms
      '02', //                  topics: 1 + 1
      `02${ascii('t')}`,
      '03', //                    partitions: 2 + 1
      // partition 0: offset 10, leader epoch 4, metadata "m", no error, TAG_BUFFER
      '00000000', '000000000000000a', '00000004', `02${ascii('m')}`, '0000', '00',
      // partition 1: offset -1, leader epoch -1, metadata null, error 88 (UNSTABLE_OFFSET_COMMIT), TAG_BUFFER
      '00000001', 'ffffffffffffffff', 'ffffffff', '00', '0058', '00',
      '00', //                    topic TAG_BUFFER
      '0000', //                error_code (top level)
      '00', //                  response TAG_BUFFER
    ].join(''));
    const data = await response.decode(raw);
    expect(data).toEqual({
      throttleTime: 0,
      clientSideThrottleTime: 0,
      errorCode: 0,
      responses: [{ topic: 't', partitions: [
        { partition: 0, offset: '10', leaderEpoch: 4, metadata: 'm', errorCode: 0 },
        { partition: 1, offset: '-1', leaderEpoch: -1, metadata: null, errorCode: 88 },
      ] }],
    });
    const error = await throwsOf(response.parse(data));
    expect(error).toBeInstanceOf(KafkaJSProtocolError);
    expect({ type: error.type, code: error.code, retriable: error.retriable }).toEqual({ type: 'UNSTABLE_OFFSET_COMMIT', code: 88, retriable: true });
  });

  it('a top-level error is thrown before partition errors (as v2 to v4 do)', async () => {
    const { response } = at('OffsetFetch', 7, { groupId: 'g', topics: [], requireStable: true });
    // throttle, empty topics array (0 + 1), error_code 16 (NOT_COORDINATOR), TAG_BUFFER
    const data = await response.decode(hex('00 00000000 01 0010 00'));
    expect((await throwsOf(response.parse(data))).type).toBe('NOT_COORDINATOR_FOR_GROUP');
  });
});

describe('opt-in: the versions kafkajs chooses without the new options are unchanged', () => {
  it('lookupRequest still picks TxnOffsetCommit v1 and OffsetFetch v4 from a broker that supports v4 and v9', () => {
    expect(lookup(kafka39)(TXN_OFFSET_COMMIT, requests.TxnOffsetCommit!)({ transactionalId: 'tx', groupId: 'g', producerId: 1, producerEpoch: 0, topics: [] }).request.apiVersion).toBe(1);
    expect(lookup(kafka39)(OFFSET_FETCH, requests.OffsetFetch!)({ groupId: 'g', topics: [] }).request.apiVersion).toBe(4);
  });

  it('lookupVersion gives exactly the version asked for, and a broker without it is a clear error, never a silent downgrade', () => {
    expect(lookupVersion).toBeTypeOf('function');
    expect(lookupVersion!(kafka39)(TXN_OFFSET_COMMIT, requests.TxnOffsetCommit!, 3, 'x')({ ...{ transactionalId: 'tx', groupId: 'g', producerId: 1, producerEpoch: 0, generationId: 1, memberId: 'm', topics: [] } }).request.apiVersion).toBe(3);
    const old = { [TXN_OFFSET_COMMIT]: { minVersion: 0, maxVersion: 2 }, [OFFSET_FETCH]: { minVersion: 0, maxVersion: 6 } };
    expect(() => lookupVersion!(old)(TXN_OFFSET_COMMIT, requests.TxnOffsetCommit!, 3, 'consumer group metadata')).toThrow(
      /does not support TxnOffsetCommit version 3, needed for consumer group metadata \(it supports versions 0 to 2\)/,
    );
    expect(() => lookupVersion!(old)(OFFSET_FETCH, requests.OffsetFetch!, 7, 'stable offsets')).toThrow(/OffsetFetch version 7/);
  });
});

describe('broker: the request each call sends', () => {
  async function connectedBroker(versions: ApiVersions) {
    const sent: Request[] = [];
    let connected = false;
    const logger = { namespace: () => logger, debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const connectionPool = {
      host: 'stand-in',
      port: 9092,
      connectionTimeout: 1000,
      isConnected: () => connected,
      getConnection: async () => ({ getSupportAuthenticationProtocol: () => true, authenticate: async () => { connected = true; } }),
      setVersions: () => {},
      send: async ({ request }: { request: Request }) => {
        sent.push(request);
        return {};
      },
    };
    const broker = new Broker({ connectionPool, logger, nodeId: 1, versions });
    await broker.connect();
    return { broker, sent };
  }
  const commit = { transactionalId: 'tx', groupId: 'g', producerId: 7, producerEpoch: 1, topics: [{ topic: 't', partitions: [{ partition: 0, offset: '1' }] }] };

  it('txnOffsetCommit: v1 without consumer group metadata (as before), v3 with it', async () => {
    const { broker, sent } = await connectedBroker(kafka39);
    await broker.txnOffsetCommit(commit);
    await broker.txnOffsetCommit({ ...commit, consumerGroupMetadata: { generationId: 5, memberId: 'm-1' } });
    expect(sent.map((r) => `${r.apiName} v${r.apiVersion}`)).toEqual(['TxnOffsetCommit v1', 'TxnOffsetCommit v3']);
    expect((await sent[1]!.encode()).buffer.toString('hex')).toContain(`00000005` + `04${ascii('m-1')}` + '00');
  });

  it('offsetFetch: v4 without requireStable (as before), v7 with it', async () => {
    const { broker, sent } = await connectedBroker(kafka39);
    await broker.offsetFetch({ groupId: 'g', topics: [] });
    await broker.offsetFetch({ groupId: 'g', topics: [], requireStable: true });
    expect(sent.map((r) => `${r.apiName} v${r.apiVersion}`)).toEqual(['OffsetFetch v4', 'OffsetFetch v7']);
  });

  it('a broker too old for v3 fails the opt-in call clearly and sends nothing', async () => {
    const { broker, sent } = await connectedBroker({ [TXN_OFFSET_COMMIT]: { minVersion: 0, maxVersion: 2 } });
    const error = await throwsOf(broker.txnOffsetCommit({ ...commit, consumerGroupMetadata: { generationId: 5, memberId: 'm-1' } }));
    expect(error.name).toBe('KafkaJSServerDoesNotSupportApiKey');
    expect(error.message).toMatch(/TxnOffsetCommit version 3/);
    expect(sent).toEqual([]);
  });
});

describe('transaction manager: sendOffsets with consumer group metadata', () => {
  function standIn(failures: Error[]) {
    const commits: object[] = [];
    const broker = {
      nodeId: 1,
      initProducerId: async () => ({ producerId: 7, producerEpoch: 0 }),
      addOffsetsToTxn: async () => ({}),
      txnOffsetCommit: async (request: object) => {
        commits.push(request);
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return {};
      },
    };
    const cluster = {
      retry: { initialRetryTime: 1, maxRetryTime: 5, retries: 3 },
      refreshMetadataIfNecessary: async () => {},
      findBroker: async () => broker,
      findGroupCoordinator: async () => broker,
    };
    const logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
    const eos = createEosManager({ logger, cluster, transactional: true, transactionalId: 'ledger.account.0' });
    return { eos, commits };
  }
  const offsets = { consumerGroupId: 'ledger.account', topics: [{ topic: 'commands', partitions: [{ partition: 0, offset: '1' }] }] };
  const metadata = { generationId: 5, memberId: 'm-1' };

  it('passes the metadata to the group coordinator only when given', async () => {
    const { eos, commits } = standIn([]);
    await eos.initProducerId();
    eos.beginTransaction();
    await eos.sendOffsets(offsets);
    await eos.sendOffsets({ ...offsets, consumerGroupMetadata: metadata });
    expect(commits.map((c) => 'consumerGroupMetadata' in c)).toEqual([false, true]);
    expect(commits[1]).toMatchObject({ groupId: 'ledger.account', consumerGroupMetadata: metadata });
  });

  it.each([[22, 'ILLEGAL_GENERATION'], [25, 'UNKNOWN_MEMBER_ID'], [82, 'FENCED_INSTANCE_ID']])('never retries error %i (%s): it reaches the caller, unwrapped, after one request', async (code, type) => {
    const { eos, commits } = standIn([createErrorFromCode(code), createErrorFromCode(code)]);
    await eos.initProducerId();
    eos.beginTransaction();
    const error = await throwsOf(eos.sendOffsets({ ...offsets, consumerGroupMetadata: metadata }));
    expect({ name: error.name, type: error.type }).toEqual({ name: 'KafkaJSProtocolError', type });
    expect(commits).toEqual([expect.objectContaining({ consumerGroupMetadata: metadata })]);
  });

  it('still retries a coordinator still loading (the existing patch), with the metadata each time', async () => {
    const { eos, commits } = standIn([createErrorFromCode(14)]);
    await eos.initProducerId();
    eos.beginTransaction();
    await eos.sendOffsets({ ...offsets, consumerGroupMetadata: metadata });
    expect(commits).toHaveLength(2);
    expect(commits.every((c) => (c as { consumerGroupMetadata?: object }).consumerGroupMetadata === metadata)).toBe(true);
  });

  it('rejects malformed metadata before sending anything', async () => {
    const { eos, commits } = standIn([]);
    await eos.initProducerId();
    eos.beginTransaction();
    await expect(eos.sendOffsets({ ...offsets, consumerGroupMetadata: { memberId: 'm-1' } })).rejects.toThrow(/generationId/);
    expect(commits).toHaveLength(0);
  });
});
