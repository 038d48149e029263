// The query processor's settings and named bounds, read once from the environment; a bad value
// is a startup error naming the variable (topics/config.ts's integerFromEnv).
import { endpoints, integerFromEnv, loadConfig, type LedgerConfig } from '../../topics/config.ts';
import { defaultWaitersMax, defaultWaitersPerClientMax } from './waiters.ts';
import { defaultHost, loadEdgeConfig, type EdgeConfig } from '../http/config.ts';
import { streamBounds, type StreamBounds } from './event-stream.ts';

type Env = Record<string, string | undefined>;

export interface QuerySettings {
  host: string;
  port: number;
  /** DESIGN §6: how long ?minVersion waits for the view before 503 VIEW_LAGGING (default 2 s). */
  minVersionWaitMs: number;
  /** Requests parked on ?minVersion at most; more answer 503 at once. */
  waitersMax: number;
  /** Requests parked on ?minVersion from one client address at most (minVersionWaitersPerClientMax); more answer 503 at once. */
  minVersionWaitersPerClientMax: number;
  /** Partitions folded at once; each has its own store, so they never contend for a lock. */
  partitionsConsumedConcurrently: number;
  /** A graceful shutdown that takes longer than this exits anyway. */
  shutdownTimeoutMs: number;
  /** How long the group waits for a silent instance before moving its partitions. */
  sessionTimeoutMs: number;
  /** GET /api/v1/events/stream's bounds (event-stream.ts). */
  stream: StreamBounds;
}

export interface QueryConfig {
  ledger: LedgerConfig & { brokers: string[]; registryUrl: string };
  query: QuerySettings;
  /** HOST, LEDGER_ADMIN_KEY, RATE_LIMIT_PER_SECOND, CORS_ORIGINS: the edge both services share. */
  edge: EdgeConfig;
}

export const defaultQuerySettings: QuerySettings = {
  host: defaultHost,
  port: 8081,
  minVersionWaitMs: 2000,
  waitersMax: defaultWaitersMax,
  minVersionWaitersPerClientMax: defaultWaitersPerClientMax,
  partitionsConsumedConcurrently: 4,
  shutdownTimeoutMs: 15_000,
  sessionTimeoutMs: 30_000,
  stream: streamBounds,
};

export function loadQueryConfig(env: Env = process.env): QueryConfig {
  const ledger = loadConfig(env);
  const d = defaultQuerySettings;
  const edge = loadEdgeConfig(env);
  return {
    edge,
    // With no KAFKA_BROKERS / SCHEMA_REGISTRY_URL: the embedded stack's addresses.
    ledger: { ...ledger, ...endpoints(ledger) },
    query: {
      host: env.QUERY_HOST || edge.host,
      port: integerFromEnv(env, 'QUERY_PORT', d.port, 0, 65_535),
      minVersionWaitMs: integerFromEnv(env, 'MIN_VERSION_WAIT_MS', d.minVersionWaitMs, 0, 60_000),
      waitersMax: integerFromEnv(env, 'MIN_VERSION_WAITERS_MAX', d.waitersMax, 1, 1_000_000),
      minVersionWaitersPerClientMax: integerFromEnv(env, 'MIN_VERSION_WAITERS_PER_CLIENT_MAX', d.minVersionWaitersPerClientMax, 1, 1_000_000),
      partitionsConsumedConcurrently: integerFromEnv(env, 'QUERY_PARTITIONS_CONCURRENCY', d.partitionsConsumedConcurrently, 1, 64),
      shutdownTimeoutMs: d.shutdownTimeoutMs,
      sessionTimeoutMs: integerFromEnv(env, 'QUERY_SESSION_TIMEOUT_MS', d.sessionTimeoutMs, 6000, 300_000),
      stream: {
        ...d.stream,
        clientsMax: integerFromEnv(env, 'STREAM_CLIENTS_MAX', d.stream.clientsMax, 1, 10_000),
        clientBufferBytesMax: integerFromEnv(env, 'STREAM_CLIENT_BUFFER_BYTES_MAX', d.stream.clientBufferBytesMax, 64 * 1024, 64 * 1024 * 1024),
        resumeEventsMax: integerFromEnv(env, 'STREAM_RESUME_EVENTS_MAX', d.stream.resumeEventsMax, 0, 1_000_000),
      },
    },
  };
}
