// Configuration from the environment, read once and validated: a bad value is a startup error
// that names the variable, never a silent default.

export interface LedgerConfig {
  /** Kafka bootstrap servers; undefined means "use the embedded local stack". */
  brokers: string[] | undefined;
  /** Confluent-compatible schema registry base URL; undefined means the embedded stack's. */
  registryUrl: string | undefined;
  /** Prefix of every topic name (BANK_TOPIC_PREFIX), so test runs can be isolated. */
  topicPrefix: string;
  /** Partition count shared by every topic (BANK_PARTITIONS) so they are co-partitioned. */
  partitions: number;
  /** Names consumer groups and transactional ids: `<appId>.account`, `<appId>.query`. */
  appId: string;
  /** Root of the local LevelDB stores (caches of topics, always rebuildable). */
  dataDir: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

export function integerFromEnv(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name}=${raw} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function loadConfig(env: Env = process.env): LedgerConfig {
  const brokers = env.KAFKA_BROKERS?.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const topicPrefix = env.BANK_TOPIC_PREFIX ?? 'bank.';
  if (!/^[a-zA-Z0-9._-]*$/.test(topicPrefix)) {
    throw new ConfigError(`BANK_TOPIC_PREFIX=${topicPrefix} may hold only letters, digits, '.', '_' and '-'`);
  }
  const appId = env.APP_ID ?? 'ledger';
  if (!/^[a-zA-Z0-9._-]+$/.test(appId)) {
    throw new ConfigError(`APP_ID=${appId} must be non-empty letters, digits, '.', '_' and '-'`);
  }
  return {
    brokers: brokers && brokers.length > 0 ? brokers : undefined,
    registryUrl: env.SCHEMA_REGISTRY_URL || undefined,
    topicPrefix,
    partitions: integerFromEnv(env, 'BANK_PARTITIONS', 8, 1, 1024),
    appId,
    dataDir: env.DATA_DIR ?? '.data',
  };
}

/** Where the embedded local stack (`npm run stack -- start`) listens. */
export const embeddedBrokers = ['127.0.0.1:9092'];
export const embeddedRegistryUrl = 'http://127.0.0.1:8085/apis/ccompat/v7';

/** The broker and registry to use: the environment's, else the embedded stack's. */
export function endpoints(config: LedgerConfig): { brokers: string[]; registryUrl: string } {
  return { brokers: config.brokers ?? embeddedBrokers, registryUrl: config.registryUrl ?? embeddedRegistryUrl };
}
