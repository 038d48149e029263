// The account processor's settings and named bounds, read once from the environment like the
// gateway's and the query processor's; a bad value is a startup error naming the variable.
import { endpoints, integerFromEnv, loadConfig, type LedgerConfig } from '../../topics/config.ts';
import { transactionTimeoutMsDefault, transactionTimeoutMsMax, type TransactionScope } from './task.ts';

type Env = Record<string, string | undefined>;

const dayMs = 24 * 3_600_000;

export interface AccountSettings {
  /** ACCOUNT_METRICS_PORT: /metrics off unless given (`npm start` gives 9464); instances on one host need distinct ports. */
  metricsPort: number;
  /** ACCOUNT_METRICS_HOST, else HOST, else 127.0.0.1: nothing is exposed by accident (DESIGN §9). */
  metricsHost: string;
  /** ACCOUNT_SESSION_TIMEOUT_MS: how long the group waits for a silent instance. */
  sessionTimeoutMs: number;
  /**
   * ACCOUNT_CLOCK_OFFSET_MS (default 0) moves the processor's clock: for tests that must cross
   * the 7-day idempotency window without waiting 7 days; leave it unset in production.
   */
  clockOffsetMs: number;
  /** Shutdown waits this long for the open transaction to finish before exiting anyway. */
  shutdownTimeoutMs: number;
  /** How often the progress line is logged. */
  statsIntervalMs: number;
  /**
   * ACCOUNT_TRANSACTIONS: `partition` (default), a transactional producer per partition fenced
   * by transactional id; `instance`, one per instance fenced by group generation (KIP-447), so
   * one transaction carries all of an instance's partitions' chunks. Experimental: see README.
   */
  transactions: TransactionScope;
  /** ACCOUNT_TRANSACTION_TIMEOUT_MS: 60 s per partition, 10 s per instance unless given. */
  transactionTimeoutMs: number;
}

export interface AccountConfig {
  ledger: LedgerConfig & { brokers: string[]; registryUrl: string };
  account: AccountSettings;
}

export function loadAccountConfig(env: Env = process.env): AccountConfig {
  const ledger = loadConfig(env);
  const transactions = transactionScopeFromEnv(env);
  return {
    // With no KAFKA_BROKERS / SCHEMA_REGISTRY_URL: the embedded stack's addresses.
    ledger: { ...ledger, ...endpoints(ledger) },
    account: {
      metricsPort: integerFromEnv(env, 'ACCOUNT_METRICS_PORT', 0, 0, 65_535),
      metricsHost: env.ACCOUNT_METRICS_HOST || env.HOST || '127.0.0.1',
      sessionTimeoutMs: integerFromEnv(env, 'ACCOUNT_SESSION_TIMEOUT_MS', 30_000, 6000, 300_000),
      clockOffsetMs: integerFromEnv(env, 'ACCOUNT_CLOCK_OFFSET_MS', 0, -365 * dayMs, 365 * dayMs),
      shutdownTimeoutMs: 30_000,
      statsIntervalMs: integerFromEnv(env, 'ACCOUNT_STATS_INTERVAL_MS', 10_000, 100, 3_600_000),
      transactions,
      transactionTimeoutMs: integerFromEnv(env, 'ACCOUNT_TRANSACTION_TIMEOUT_MS', transactionTimeoutMsDefault[transactions], 1000, transactionTimeoutMsMax),
    },
  };
}

function transactionScopeFromEnv(env: Env): TransactionScope {
  const value = env.ACCOUNT_TRANSACTIONS || 'partition';
  if (value !== 'partition' && value !== 'instance') throw new Error(`ACCOUNT_TRANSACTIONS must be partition or instance, not ${JSON.stringify(value)}`);
  return value;
}

/** Date.now, moved by the configured offset. */
export const clockOf = (settings: AccountSettings): (() => number) =>
  settings.clockOffsetMs === 0 ? Date.now : () => Date.now() + settings.clockOffsetMs;
