// Assembles the query processor: topic check, codecs, view stores, consumer and HTTP app, with
// one stop() that undoes it in order. main.ts runs it as a process; tests run it in-process.
// The server listens before the views are caught up: /health and /ready (with rebuild progress)
// answer during a rebuild, and /ready stays 503 until every partition reached the log's end.
import type { Admin } from 'kafkajs';
import type { FastifyInstance } from 'fastify';
import { createKafka } from '../../topics/kafka.ts';
import { TopicMismatchError, verifyTopics } from '../../topics/admin.ts';
import { topicNames, topicSpecs } from '../../topics/topics.ts';
import { LedgerRegistry, createCodecs, type Codecs } from '../../schemas/registry.ts';
import type { Logger } from '../log.ts';
import type { QueryConfig } from './config.ts';
import { QueryConsumer } from './consumer.ts';
import { Progress } from './progress.ts';
import { buildApp } from './routes.ts';
import { QueryMetrics } from './metrics.ts';
import { ViewStores } from './stores.ts';
import { VersionWaiters } from './waiters.ts';
import { EventStream } from './event-stream.ts';
import { SystemHealth } from './system.ts';
import { ApiKeyDirectory } from '../http/api-keys.ts';
import { ApiKeyFollower, keyFollowerGroup } from '../http/api-key-topic.ts';

export interface QueryProcessor {
  app: FastifyInstance;
  /** http://host:port the server listens on (the real port when QUERY_PORT=0). */
  url: string;
  stores: ViewStores;
  progress: Progress;
  stop(): Promise<void>;
}

export interface QueryProcessorOptions {
  config: QueryConfig;
  log: Logger;
  /** The consumer cannot go on (a broken invariant of this code, Kafka past its retries): the caller stops. */
  onFatal: (error: Error) => void;
}

/** How long startup waits for Kafka, the registry, the topic and the schemas (`npm start` brings them up alongside). */
export const startupWaitMs = 60_000;
const startupRetryMaxMs = 2000;

async function checkEventsTopic(admin: Admin, config: QueryConfig): Promise<string> {
  const topic = topicNames(config.ledger.topicPrefix).events;
  // Missing is retried (`npm run topics` may still be creating it); a wrong one is fatal.
  const existing = await admin.listTopics();
  for (const name of [topic, topicNames(config.ledger.topicPrefix).apiKeys]) {
    if (!existing.includes(name)) throw new Error(`topic ${name} does not exist yet (\`npm run topics\` creates it)`);
  }
  const spec = topicSpecs(config.ledger.topicPrefix).filter((s) => s.role === 'events' || s.role === 'apiKeys');
  // The events topic must have exactly BANK_PARTITIONS partitions: reads locate accounts with it.
  await verifyTopics(admin, spec, config.ledger.partitions);
  return topic;
}

/** Connects and looks up topic and codecs, retrying with backoff up to startupWaitMs; a mismatched topic fails at once. */
async function connect(admin: Admin, config: QueryConfig, log: Logger): Promise<{ topic: string; codecs: Codecs }> {
  const deadline = Date.now() + startupWaitMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.connect();
      const topic = await checkEventsTopic(admin, config);
      return { topic, codecs: await createCodecs(new LedgerRegistry(config.ledger.registryUrl), config.ledger.topicPrefix) };
    } catch (error) {
      if (error instanceof TopicMismatchError || Date.now() > deadline) throw error;
      log.warn('waiting for Kafka, the schema registry, the topic and the schemas', { attempt, error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, Math.min(startupRetryMaxMs, 100 * 2 ** attempt)));
    }
  }
}

export async function startQueryProcessor(options: QueryProcessorOptions): Promise<QueryProcessor> {
  const { config, log } = options;
  const { ledger, query } = config;
  const kafka = createKafka(ledger.brokers, `${ledger.appId}.query`);
  const admin = kafka.admin();
  let consumer: QueryConsumer | undefined;
  let app: FastifyInstance | undefined;
  let views: ViewStores | undefined;
  let keyFollower: ApiKeyFollower | undefined;
  try {
    const { topic, codecs } = await connect(admin, config, log);
    views = new ViewStores(ledger.dataDir, topic, ledger.partitions);
    const waiters = new VersionWaiters(query.waitersMax, query.minVersionWaitersPerClientMax);
    const progress = new Progress(log);
    const stores = views;
    const metrics = new QueryMetrics(progress, waiters, () => stores.parkedCounts());
    // An offset at or past both the log end seen at assignment and the applied position was never
    // issued (a store checkpoint would not do: a partition without events has none); unknown while
    // the partition is not assigned here or still being prepared.
    const appliedNext = (partition: number): bigint | null => {
      const entry = progress.report().partitions.find((p) => p.partition === partition);
      if (entry === undefined || entry.phase === 'preparing') return null;
      const [target, position] = [BigInt(entry.target), BigInt(entry.position)];
      return target > position ? target : position;
    };
    const events = new EventStream(topic, ledger.partitions, appliedNext, query.stream);
    metrics.watchStream(events);
    consumer = new QueryConsumer({
      kafka,
      admin,
      appId: ledger.appId,
      topic,
      stores: views,
      codecs,
      waiters,
      progress,
      log,
      partitionsConsumedConcurrently: query.partitionsConsumedConcurrently,
      sessionTimeoutMs: query.sessionTimeoutMs,
      onFatal: options.onFatal,
      onParked: (event) => metrics.eventsParked.inc([event.reason]),
      onApplied: (partition, offset, event) => events.publish(partition, offset, event),
    });
    // API keys (DESIGN §9): LEDGER_ADMIN_KEY, plus <prefix>api-keys followed from its beginning.
    const keys = new ApiKeyDirectory(config.edge.adminKey);
    keyFollower = new ApiKeyFollower({ kafka, topic: topicNames(ledger.topicPrefix).apiKeys, groupId: keyFollowerGroup(ledger.appId, 'query'), directory: keys, log });
    await keyFollower.start(codecs.apiKeys);
    const system = new SystemHealth({
      eventsTopic: topic, deadLetterTopic: topicNames(ledger.topicPrefix).commandsDlq, partitions: ledger.partitions,
      fetchOffsets: (name) => admin.fetchTopicOffsets(name), progress: () => progress.report(), eventsApplied: () => progress.eventsApplied(),
      parkedEvents: () => stores.parkedCounts().reduce((sum, [, count]) => sum + count, 0), streams: () => events.size,
    });
    app = buildApp({
      views, waiters, readiness: () => progress.report(), minVersionWaitMs: query.minVersionWaitMs, log, metrics, events, system,
      keys, rateLimitPerSecond: config.edge.rateLimitPerSecond, corsOrigins: config.edge.corsOrigins,
    });
    const address = await app.listen({ host: query.host, port: query.port });
    log.info('query processor listening', { address, topic, group: `${ledger.appId}.query`, dataDir: views.root });
    progress.startLogging();
    await consumer.start();
    const running = { consumer, app, views, keyFollower };
    return {
      app,
      url: address.replace('0.0.0.0', '127.0.0.1'),
      stores: views,
      progress,
      async stop() {
        progress.stopLogging();
        // Consumer first: the batch in flight is written and committed, then the group is left.
        await running.consumer.stop();
        // Parked ?minVersion requests answer 503 now instead of waiting out their deadline.
        waiters.releaseAll();
        await running.app.close();
        await running.keyFollower.close();
        await running.views.closeAll();
        await admin.disconnect();
      },
    };
  } catch (error) {
    await consumer?.stop().catch(() => undefined);
    await keyFollower?.close();
    await app?.close().catch(() => undefined);
    await views?.closeAll().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
    throw error;
  }
}
