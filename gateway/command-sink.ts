// Delivery guarantee: a command counts as sent only when all in-sync replicas have it (idempotent
// producer, acks=all), so producer retries never duplicate or reorder it. A 503 means "not
// acknowledged in time", not "not written": the command may still land, which is safe because a
// client retry with the same Idempotency-Key is the same commandId and the processor applies a
// commandId once (without a key the client accepted at-most-once-or-unknown by not sending one).
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import type { TopicCodec } from '../schemas/codec.ts';
import type { Command } from '../schemas/types.ts';
import { MicroBatcher, type BatcherBounds } from './batcher.ts';
import { UnavailableError, kafkaUnavailable } from '../processors/http/errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { CommandSink, Log } from './ports.ts';
import { retryUntilDone } from './retry.ts';

export class KafkaCommandSink implements CommandSink {
  private producer: Producer | undefined;
  private codec: TopicCodec<Command> | undefined;
  private connected = false;
  private closing = false;
  private recovering: Promise<void> | undefined;
  private readonly batcher: MicroBatcher<Message>;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    bounds: BatcherBounds,
    private readonly log: Log,
    private readonly metrics?: GatewayMetrics,
  ) {
    this.batcher = new MicroBatcher(bounds, (messages) => this.produce(messages));
    metrics?.gauge('gateway_produce_queue_records', 'Commands waiting for a produce request (bounded by queuedRecordsMax)', () => this.batcher.queued);
  }

  /** Connects the producer; rejects (retriable) when Kafka is unreachable, for the caller to retry. */
  async start(codec: TopicCodec<Command>): Promise<void> {
    this.codec = codec;
    await this.connectProducer();
  }

  ready(): boolean {
    return this.connected && !this.batcher.stalled();
  }

  send(command: Command): Promise<void> {
    if (this.codec === undefined || !this.connected) {
      return Promise.reject(new UnavailableError(this.closing ? 'the gateway is shutting down' : 'the gateway is not connected to Kafka yet'));
    }
    // Encoding errors are bugs (the route validated the command), so they throw and answer 500.
    const value = this.codec.encode(command);
    // Keyed by account: the default (murmur2) partitioner puts every command of an account on
    // the same partition, so one processor task sees them in order.
    return this.batcher.add({ key: command.accountId, value, timestamp: String(command.issuedAt) });
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.batcher.close();
    this.connected = false;
    await this.producer?.disconnect().catch(() => {});
  }

  private async produce(messages: Message[]): Promise<void> {
    const producer = this.producer;
    if (producer === undefined || !this.connected) throw new UnavailableError('the gateway is reconnecting to Kafka');
    const startedMs = performance.now();
    this.metrics?.produceBatchRecords.observe([], messages.length);
    try {
      await producer.send({ topic: this.topic, acks: -1, messages });
      this.metrics?.produceSeconds.observe([], (performance.now() - startedMs) / 1000);
    } catch (error) {
      // The idempotent producer retries retriable errors by itself (without end), so an error
      // here is one it cannot recover from (a fenced or unknown producer id, a closed client):
      // start over with a fresh producer and answer 503 meanwhile.
      this.log.warn({ err: error, topic: this.topic, records: messages.length }, 'command produce failed; recreating the producer');
      void this.recover();
      throw kafkaUnavailable(error);
    }
  }

  private async connectProducer(): Promise<void> {
    // maxInFlightRequests 1: kafkajs assigns idempotent sequence numbers per request, and holds
    // a per-broker lock anyway; one request in flight keeps them gapless and ordered.
    // The Java-compatible murmur2 partitioner, as the processor and every other client use.
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
    this.producer = producer;
    try {
      await producer.connect();
    } catch (error) {
      await producer.disconnect().catch(() => {});
      throw error;
    }
    this.connected = true;
    this.log.info({ topic: this.topic }, 'command producer connected');
  }

  private recover(): Promise<void> {
    this.recovering ??= this.reconnectUntilConnected().finally(() => {
      this.recovering = undefined;
    });
    return this.recovering;
  }

  private async reconnectUntilConnected(): Promise<void> {
    this.connected = false;
    await this.producer?.disconnect().catch(() => {});
    await retryUntilDone('command producer reconnect', () => this.connectProducer(), { log: this.log, stopped: () => this.closing });
  }
}
