// Kafka client setup shared by every service: one place for client ids, timeouts and logging.
// Bounds are named here so that nothing waits forever on an unreachable broker.
import { Kafka, logLevel, type KafkaConfig, type LogEntry } from 'kafkajs';

export const kafkaConnectionTimeoutMs = 3000;
export const kafkaRequestTimeoutMs = 30000;
/** kafkajs retries operational errors with backoff and jitter up to this many times. */
export const kafkaRetriesMax = 8;

function levelName(level: logLevel): string {
  switch (level) {
    case logLevel.ERROR:
      return 'error';
    case logLevel.WARN:
      return 'warn';
    case logLevel.INFO:
      return 'info';
    default:
      return 'debug';
  }
}

/**
 * Retried by kafkajs and expected after every commit (the coordinator is still writing markers
 * when the next transaction starts), yet logged at error level: noise, unless debugging.
 */
const expectedTransactionRetry = /CONCURRENT_TRANSACTIONS|another concurrent operation on the same transaction/;
/**
 * kafkajs warns whenever an idempotent producer has bounded retries. Ours are bounded on
 * purpose (a request must fail fast rather than hang): a resend after a failure is a new
 * produce of the same command id, which the processor applies at most once.
 */
const boundedRetriesWarning = /Limiting retries for the idempotent producer/;

// Every producer here chooses its partitioner (murmur2, Java-compatible) or its partition.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

/**
 * What kafkajs logs at error level for each attempt of a request it retries while a cluster
 * settles: a group's coordinator being elected or loaded (every first start of a consumer group
 * on a fresh broker), a partition leader being elected (just after topics are created), a group
 * rebalancing. kafkajs retries them; when its retries run out it logs a crash or throws, which
 * stays loud. Only the per-attempt "Response <Api>" lines of these codes are expected noise.
 */
const expectedSettlingRetry =
  /group coordinator is not available|not the correct coordinator|coordinator is loading|leadership election|group is rebalancing|does not host this topic-partition/i;

/** The level a kafkajs log line is written at, or null to drop it (at the configured level it is not shown). */
export function kafkaLogLevel(entry: Pick<LogEntry, 'namespace' | 'level'> & { log: { message: string; error?: unknown } }, configured: logLevel): string | null {
  const { namespace, level, log } = entry;
  const error = String(log.error ?? '');
  const expected =
    boundedRetriesWarning.test(log.message) ||
    expectedTransactionRetry.test(log.message) ||
    expectedTransactionRetry.test(error) ||
    (namespace === 'Connection' && log.message.startsWith('Response ') && expectedSettlingRetry.test(error));
  if (!expected) return levelName(level);
  return configured === logLevel.DEBUG ? 'debug' : null;
}

/** kafkajs log lines as one JSON object per line on stderr, so they mix with ours. */
function jsonLogCreator(configured: logLevel) {
  return () => (entry: LogEntry) => {
    const written = kafkaLogLevel(entry, configured);
    if (written === null) return;
    const { message, timestamp: _timestamp, ...rest } = entry.log;
    process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level: written, component: `kafkajs.${entry.namespace}`, msg: message, ...rest }) + '\n');
  };
}

export function createKafka(brokers: string[], clientId: string, overrides: Partial<KafkaConfig> = {}): Kafka {
  const level = process.env.KAFKAJS_LOG_LEVEL === 'debug' ? logLevel.DEBUG : process.env.KAFKAJS_LOG_LEVEL === 'info' ? logLevel.INFO : logLevel.WARN;
  return new Kafka({
    clientId,
    brokers,
    connectionTimeout: kafkaConnectionTimeoutMs,
    requestTimeout: kafkaRequestTimeoutMs,
    retry: { initialRetryTime: 100, maxRetryTime: 2000, retries: kafkaRetriesMax },
    logLevel: level,
    logCreator: jsonLogCreator(level),
    ...overrides,
  });
}
