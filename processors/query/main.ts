// `npm run start:query`: the query processor as a process. With no KAFKA_BROKERS or
// SCHEMA_REGISTRY_URL it uses the embedded stack's addresses. SIGINT/SIGTERM stop the consumer
// (the batch in flight is written and committed), let in-flight requests finish, close the
// stores; a shutdown past its bound exits anyway. A fatal consumer error (a broken invariant of
// this code, Kafka past its retries; a bad event is parked instead) stops the process with exit
// code 1, so it restarts from the committed offsets.
import { createLogger } from '../log.ts';
import { loadQueryConfig } from './config.ts';
import { startQueryProcessor, type QueryProcessor } from './service.ts';

const log = createLogger('query');
const config = loadQueryConfig();
let processor: QueryProcessor | undefined;
let stopping = false;

async function shutdown(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info('query processor shutting down', { reason });
  setTimeout(() => {
    log.error('shutdown took too long; exiting', { shutdownTimeoutMs: config.query.shutdownTimeoutMs });
    process.exit(1);
  }, config.query.shutdownTimeoutMs).unref();
  try {
    await processor?.stop();
  } catch (error) {
    log.error('shutdown failed', { error: (error as Error).message });
    exitCode = 1;
  }
  log.info('query processor stopped', { exitCode });
  process.exit(exitCode);
}

process.on('SIGINT', () => void shutdown('SIGINT', 0));
process.on('SIGTERM', () => void shutdown('SIGTERM', 0));

try {
  log.info('query processor starting', {
    brokers: config.ledger.brokers,
    registry: config.ledger.registryUrl,
    prefix: config.ledger.topicPrefix,
    partitions: config.ledger.partitions,
    appId: config.ledger.appId,
  });
  processor = await startQueryProcessor({
    config,
    log,
    onFatal: (error) => {
      log.error('query consumer failed; stopping', { error: error.message, name: error.name, stack: error.stack });
      void shutdown('fatal consumer error', 1);
    },
  });
} catch (error) {
  log.error('query processor failed to start', { error: (error as Error).message, stack: (error as Error).stack });
  process.exit(1);
}
