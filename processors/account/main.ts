// `npm run start:processor`: one account processor instance. Several instances share the
// partitions of the commands topic through the consumer group; each partition is exactly-once.
import { createKafka } from '../../topics/kafka.ts';
import { verifyTopics } from '../../topics/admin.ts';
import { topicNames, topicSpecs } from '../../topics/topics.ts';
import { LedgerRegistry, createCodecs } from '../../schemas/registry.ts';
import { createLogger } from '../log.ts';
import { AccountProcessor } from './processor.ts';
import { ProcessorMetrics, serveMetrics } from './metrics.ts';
import { clockOf, loadAccountConfig } from './config.ts';

async function main(): Promise<void> {
  const log = createLogger('account-processor');
  const { ledger: config, account: settings } = loadAccountConfig();
  const { brokers, registryUrl, metricsPort } = { ...config, ...settings };
  const { shutdownTimeoutMs, statsIntervalMs } = settings;
  const kafka = createKafka(brokers, `${config.appId}.account-processor`);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await verifyTopics(admin, topicSpecs(config.topicPrefix), config.partitions);
  } finally {
    await admin.disconnect();
  }
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix);
  // transactions: partition chunks committed (each its own transaction per partition); ended: EndTxn requests (Kafka transactions).
  const totals = { commands: 0, accepted: 0, rejected: 0, deadLettered: 0, transactions: 0, transactionMs: 0, ended: 0, /** The most commands one chunk (one partition's share of a transaction) carried. */ chunkCommandsMax: 0 };
  const metrics = new ProcessorMetrics();
  const metricsServer = metricsPort === 0 ? undefined : await serveMetrics(metrics, metricsPort, settings.metricsHost);
  let stopping = false;
  const processor = new AccountProcessor({
    kafka,
    appId: config.appId,
    dataDir: config.dataDir,
    topics: topicNames(config.topicPrefix),
    partitions: config.partitions,
    sessionTimeoutMs: settings.sessionTimeoutMs,
    transactions: settings.transactions,
    transactionTimeoutMs: settings.transactionTimeoutMs,
    codecs,
    log,
    clock: clockOf(settings),
    onFatal: (error) => {
      log.error('account processor cannot continue; exiting so it restarts from committed offsets', { error: error.message, stack: error.stack });
      process.exit(1);
    },
    onReady: (partition, restored) => metrics.restoredRecords.inc([String(partition)], restored),
    onFailure: (partition) => metrics.partitionFailures.inc([String(partition)]),
    onProducerRequest: (api) => {
      metrics.producerRequests.inc([api]);
      if (api === 'EndTxn') totals.ended += 1;
    },
    onChunk: (partition, stats) => {
      metrics.chunk(partition, stats);
      totals.commands += stats.commands;
      totals.accepted += stats.accepted;
      totals.rejected += stats.rejected;
      totals.deadLettered += stats.deadLettered;
      totals.transactions += 1;
      totals.chunkCommandsMax = Math.max(totals.chunkCommandsMax, stats.commands);
      totals.transactionMs += stats.transactionMs;
    },
  });
  const stats = setInterval(() => {
    metrics.owned(processor.assignedPartitions());
    const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
    const mb = (bytes: number) => Math.round(bytes / 1048576);
    log.info('progress', { ...totals, memoryMb: { rss: mb(rss), heapUsed: mb(heapUsed), heapTotal: mb(heapTotal), external: mb(external), arrayBuffers: mb(arrayBuffers) } });
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
  log.info('account processor started', { brokers, registryUrl, appId: config.appId, prefix: config.topicPrefix, dataDir: config.dataDir, metricsPort, transactions: settings.transactions });
}

main().catch((error: Error) => {
  process.stderr.write(`account processor failed to start: ${error.message}\n`);
  process.exit(1);
});
