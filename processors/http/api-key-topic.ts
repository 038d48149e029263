// <prefix>api-keys on Kafka (DESIGN §9): every gateway and query instance follows the compacted
// topic from its beginning into its in-memory ApiKeyDirectory (a group of its own per process
// start, so each instance reads every partition), and the gateway's admin routes and the CLI
// write to it. A record is the key's whole latest state (a revocation replaces the creation), so
// reading it at least once, in any order across keys, converges. Fetches wait at most
// fetchWaitMaxMs, so a created or revoked key takes effect everywhere well within 5 s.
import { randomBytes } from 'node:crypto';
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { DecodeError, type TopicCodec } from '../../schemas/codec.ts';
import type { ApiKeyRecord } from '../../schemas/api-key.ts';
import type { ApiKeyDirectory } from './api-keys.ts';

/** The broker answers a fetch after this at the latest: a revocation is seen within it (plus a round trip). */
export const fetchWaitMaxMs = 250;
/** How long a key write may wait for Kafka's acknowledgement before the admin route answers 503. */
export const publishTimeoutMs = 5000;
/** Back-off before following the topic again after the consumer failed for good. */
const restartDelayMs = 1000;

export interface KeyTopicLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

/** The group a process start follows the key topic in: its own, so it reads every partition. */
export const keyFollowerGroup = (appId: string, service: string): string => `${appId}.${service}.api-keys.${randomBytes(4).toString('hex')}`;

export class ApiKeyFollower {
  private consumer: Consumer | undefined;
  private closing = false;
  /** Records applied since start (tests and logs). */
  applied = 0;

  constructor(
    private readonly options: { kafka: Kafka; topic: string; groupId: string; directory: ApiKeyDirectory; log: KeyTopicLog },
  ) {}

  async start(codec: TopicCodec<ApiKeyRecord>): Promise<void> {
    const { kafka, topic, groupId, directory, log } = this.options;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: fetchWaitMaxMs, allowAutoTopicCreation: false, readUncommitted: false });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      log.warn('API key follower crashed', { error: String(payload.error), restart: payload.restart });
      if (!payload.restart && !this.closing) setTimeout(() => void this.start(codec).catch((error: unknown) => log.warn('API key follower restart failed', { error: String(error) })), restartDelayMs).unref();
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
    } catch (error) {
      await consumer.disconnect().catch(() => {});
      throw error;
    }
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        if (message.value === null) return; // keys are revoked, never deleted; a tombstone changes nothing
        try {
          directory.apply(await codec.decode(message.value));
          this.applied += 1;
        } catch (error) {
          // An undecodable record names no usable key; a registry outage is retried by kafkajs.
          if (!(error instanceof DecodeError)) throw error;
          log.warn('skipping an undecodable API key record', { topic, partition, offset: message.offset, error: error.message });
        }
        if (directory.ignored > 0 && directory.ignored % 1000 === 1) log.warn('API key directory full; records ignored', { ignored: directory.ignored });
      },
    });
    log.info('following API keys', { topic, groupId });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.consumer?.disconnect().catch(() => {});
  }
}

/** Writes key records: acks from every in-sync replica, idempotent, keyed by keyId. */
export class KafkaApiKeyWriter {
  private producer: Producer | undefined;

  constructor(private readonly kafka: Kafka, private readonly topic: string, private codec?: TopicCodec<ApiKeyRecord>) {}

  async start(codec: TopicCodec<ApiKeyRecord>): Promise<void> {
    this.codec = codec;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    this.producer = producer;
  }

  async publish(record: ApiKeyRecord): Promise<void> {
    const { producer, codec } = this;
    if (producer === undefined || codec === undefined) throw Object.assign(new Error('not connected to Kafka yet'), { retriable: true });
    await producer.send({ topic: this.topic, acks: -1, timeout: publishTimeoutMs, messages: [{ key: record.keyId, value: codec.encode(record) }] });
  }

  async close(): Promise<void> {
    await this.producer?.disconnect().catch(() => {});
  }
}
