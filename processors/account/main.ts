// `npm run start:processor`: one account processor instance. Several instances share the
// partitions of the commands topic through the consumer group; each partition is exactly-once.
import { endpoints, integerFromEnv, loadConfig } from '../../topics/config.ts';
import { createKafka } from '../../topics/kafka.ts';
import { verifyTopics } from '../../topics/admin.ts';
import { topicNames, topicSpecs } from '../../topics/topics.ts';
import { LedgerRegistry, createCodecs } from '../../schemas/registry.ts';
import { createLogger } from '../log.ts';
import { AccountProcessor } from './processor.ts';
import { ProcessorMetrics, serveMetrics } from './metrics.ts';

/**
 * Date.now, moved by ACCOUNT_CLOCK_OFFSET_MS (default 0). For tests that must cross the 7-day
 * idempotency window without waiting 7 days; leave it unset in production.
 */
function clockFromEnv(env: NodeJS.ProcessEnv): () => number {
  const offsetMs = integerFromEnv(env, 'ACCOUNT_CLOCK_OFFSET_MS', 0, -365 * 24 * 3_600_000, 365 * 24 * 3_600_000);
  return offsetMs === 0 ? Date.now : () => Date.now() + offsetMs;
}

/** Shutdown waits this long for the open transaction to finish before exiting anyway. */
const shutdownTimeoutMs = 30_000;
const statsIntervalMs = 10_000;

async function main(): Promise<void> {
  const log = createLogger('account-processor');
  const config = loadConfig();
  const { brokers, registryUrl } = endpoints(config);
  const kafka = createKafka(brokers, `${config.appId}.account-processor`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await verifyTopics(admin, topicSpecs(config.topicPrefix), config.partitions);
  } finally {
    await admin.disconnect();
  }
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix);
  const totals = { commands: 0, accepted: 0, rejected: 0, deadLettered: 0, transactions: 0, transactionMs: 0 };
  const metrics = new ProcessorMetrics();
  // Off unless a port is given (`npm start` gives 9464): several instances on one host need distinct ports.
  const metricsPort = integerFromEnv(process.env, 'ACCOUNT_METRICS_PORT', 0, 0, 65535);
  const metricsServer = metricsPort === 0 ? undefined : await serveMetrics(metrics, metricsPort, process.env.ACCOUNT_METRICS_HOST ?? '0.0.0.0');
  let stopping = false;
  const processor = new AccountProcessor({
    kafka,
    appId: config.appId,
    dataDir: config.dataDir,
    topics: topicNames(config.topicPrefix),
    partitions: config.partitions,
    sessionTimeoutMs: integerFromEnv(process.env, 'ACCOUNT_SESSION_TIMEOUT_MS', 30_000, 6000, 300_000),
    codecs,
    log,
    clock: clockFromEnv(process.env),
    onFatal: (error) => {
      log.error('account processor cannot continue; exiting so it restarts from committed offsets', { error: error.message, stack: error.stack });
      process.exit(1);
    },
    onReady: (partition, restored) => metrics.restoredRecords.inc([String(partition)], restored),
    onFailure: (partition) => metrics.partitionFailures.inc([String(partition)]),
    onChunk: (partition, stats) => {
      metrics.chunk(partition, stats);
      totals.commands += stats.commands;
      totals.accepted += stats.accepted;
      totals.rejected += stats.rejected;
      totals.deadLettered += stats.deadLettered;
      totals.transactions += 1;
      totals.transactionMs += stats.transactionMs;
    },
  });
  const stats = setInterval(() => {
    metrics.owned(processor.assignedPartitions());
    log.info('progress', { ...totals });
  }, statsIntervalMs);
  stats.unref();
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping', { signal });
    const timer = setTimeout(() => {
      log.error('shutdown timed out; exiting', { shutdownTimeoutMs });
      process.exit(1);
    }, shutdownTimeoutMs);
    await processor.stop();
    metricsServer?.close();
    clearTimeout(timer);
    log.info('stopped', { ...totals });
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await processor.start();
  log.info('account processor started', { brokers, registryUrl, appId: config.appId, prefix: config.topicPrefix, dataDir: config.dataDir, metricsPort });
}

main().catch((error: Error) => {
  process.stderr.write(`account processor failed to start: ${error.message}\n`);
  process.exit(1);
});
