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

/** kafkajs log lines as one JSON object per line on stderr, so they mix with ours. */
function jsonLogCreator() {
  return ({ namespace, level, log }: LogEntry) => {
    const { message, timestamp: _timestamp, ...rest } = log;
    if (level !== logLevel.DEBUG && (boundedRetriesWarning.test(message) || expectedTransactionRetry.test(message) || expectedTransactionRetry.test(String(rest.error ?? '')))) return;
    process.stderr.write(
      JSON.stringify({ time: new Date().toISOString(), level: levelName(level), component: `kafkajs.${namespace}`, msg: message, ...rest }) + '\n',
    );
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
    logCreator: jsonLogCreator,
    ...overrides,
  });
}
