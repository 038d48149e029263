// The gateway's settings and named bounds (TIGER_STYLE: every limit has a name, a unit and a
// reason). Read once from the environment; a bad value is a startup error naming the variable.
import { hostname } from 'node:os';
import { endpoints, integerFromEnv, loadConfig, type LedgerConfig } from '../topics/config.ts';
import { defaultHost, loadEdgeConfig } from '../processors/http/config.ts';
import { accessBounds } from '../processors/http/plugin.ts';

type Env = Record<string, string | undefined>;

export interface GatewayConfig {
  host: string;
  port: number;
  /** Names this instance's outcome consumer group: `<appId>.gateway.<instanceId>.<random per start>`. */
  instanceId: string;
  /** How long a request waits for its outcome before answering 202 (DESIGN §5). */
  commandTimeoutMs: number;
  /** How long a command may take to be acknowledged by Kafka before the request answers 503. */
  produceTimeoutMs: number;
  /** How long the first queued command waits for others to share its produce request. */
  lingerMs: number;
  /** Commands sent in one produce request at most. */
  batchRecordsMax: number;
  /** Commands queued behind a slow produce at most; more answer 503 at once instead of piling up. */
  queuedRecordsMax: number;
  /** Requests waiting for an outcome at most; more answer 503 (memory stays bounded under overload). */
  pendingRequestsMax: number;
  /** Outcomes remembered for replays and GET /commands (LRU); about 0.5 KB each. */
  outcomesRememberedMax: number;
  /** On start the outcome consumer rereads this much history, so GET /commands survives a restart. */
  outcomeLookbackMs: number;
  /** DESIGN §5: bodies over 16 KiB are refused with 413. */
  bodyBytesMax: number;
  /** A graceful shutdown that takes longer than this exits anyway. */
  shutdownTimeoutMs: number;
  /** RATE_LIMIT_PER_SECOND: requests per API key and second (0: off). */
  rateLimitPerSecond: number;
  /** CORS_ORIGINS; empty: CORS off. */
  corsOrigins: string[];
  /** LEDGER_ADMIN_KEY (keyId `bootstrap`), never stored. */
  adminKey: string | undefined;
  /** GATEWAY_SERVER_TIMING=true: command answers carry a Server-Timing header (server-timing.ts); off by default. */
  serverTiming: boolean;
}

export const bodyBytesMax = 16 * 1024;

export const defaultGatewayConfig: GatewayConfig = {
  host: defaultHost,
  port: 8080,
  instanceId: 'gateway',
  commandTimeoutMs: 5000,
  produceTimeoutMs: 3000,
  lingerMs: 0,
  batchRecordsMax: 500,
  queuedRecordsMax: 10_000,
  pendingRequestsMax: 10_000,
  outcomesRememberedMax: 200_000,
  outcomeLookbackMs: 10 * 60 * 1000,
  bodyBytesMax,
  shutdownTimeoutMs: 15_000,
  rateLimitPerSecond: accessBounds.perKeyPerSecondDefault,
  corsOrigins: [],
  adminKey: undefined,
  serverTiming: false,
};

export interface GatewaySettings {
  ledger: LedgerConfig & { brokers: string[]; registryUrl: string };
  gateway: GatewayConfig;
}

function flagFromEnv(env: Env, name: string): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new Error(`${name}=${raw}: expected true or false`);
}

export function loadGatewaySettings(env: Env = process.env): GatewaySettings {
  const ledger = loadConfig(env);
  const d = defaultGatewayConfig;
  const port = integerFromEnv(env, 'GATEWAY_PORT', d.port, 1, 65_535);
  const commandTimeoutMs = integerFromEnv(env, 'COMMAND_TIMEOUT_MS', d.commandTimeoutMs, 1, 120_000);
  const edge = loadEdgeConfig(env);
  const gateway: GatewayConfig = {
    ...d,
    ...edge,
    host: env.GATEWAY_HOST || edge.host,
    port,
    instanceId: env.GATEWAY_INSTANCE_ID || `${hostname()}-${port}`,
    commandTimeoutMs,
    // A produce never outlasts the request's whole budget.
    produceTimeoutMs: Math.min(d.produceTimeoutMs, commandTimeoutMs),
    pendingRequestsMax: integerFromEnv(env, 'GATEWAY_PENDING_REQUESTS_MAX', d.pendingRequestsMax, 1, 1_000_000),
    outcomesRememberedMax: integerFromEnv(env, 'GATEWAY_OUTCOMES_REMEMBERED_MAX', d.outcomesRememberedMax, 1, 10_000_000),
    outcomeLookbackMs: integerFromEnv(env, 'GATEWAY_OUTCOME_LOOKBACK_MS', d.outcomeLookbackMs, 0, 7 * 24 * 60 * 60 * 1000),
    serverTiming: flagFromEnv(env, 'GATEWAY_SERVER_TIMING'),
  };
  return {
    // Unset KAFKA_BROKERS / SCHEMA_REGISTRY_URL mean the embedded stack's addresses.
    ledger: { ...ledger, ...endpoints(ledger) },
    gateway,
  };
}
