// The part of the ledger the HTTP bench drives, on its own topics: a fresh topic prefix, app id
// and data dir, schemas registered, the account processor and the gateway as child processes
// (their output goes to a log file, not through the progress bar), and a set of open accounts.
// stop() is best effort and idempotent: children stopped, bench topics deleted, data dir removed.
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ensureTopics } from '../../topics/admin.ts';
import { endpoints, loadConfig } from '../../topics/config.ts';
import { createKafka } from '../../topics/kafka.ts';
import { topicNames } from '../../topics/topics.ts';
import { LedgerRegistry, registerSchemas } from '../../schemas/registry.ts';
import { freePort, ServiceProcess, waitForHttp, waitForLine } from '../services.ts';
import { benchApiKey, benchServiceEnv } from '../bench-key.ts';

/** The processor and the gateway must be ready within this long of starting. */
const serviceReadyTimeoutMs = 120_000;
/** Accounts are opened this many at a time. */
const openConcurrency = 64;
/** An account open answered 202/503 (the processor still joining) is retried this often at most. */
const openAttemptsMax = 20;
/** Distinct warning/error messages remembered for the report at most. */
const incidentKindsMax = 20;
/** kafkajs says this once per transactional producer at start; it is about its config, not the run. */
const knownNoise = 'Limiting retries for the idempotent producer';

export interface BenchLedger {
  prefix: string;
  baseUrl: string;
  logFile: string;
  processor: ServiceProcess;
  gateway: ServiceProcess;
  /** The processor's /metrics (its per-transaction phases). */
  processorMetricsUrl: string;
  /** Warnings, errors and restarts of the services: message → how often, for the report. */
  incidents: Map<string, number>;
  stop(): Promise<void>;
}

export interface LedgerOptions {
  gatewayPort: number;
  /** With --profile: a folder per service for its V8 CPU profile (written on a graceful exit). */
  profileDirs: { gateway: string; processor: string } | undefined;
  logFile: string;
  say: (line: string) => void;
}

async function checkPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (error) => reject(new Error(`port ${port} is taken (--port chooses another): ${error.message}`)));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

export async function bootLedger(options: LedgerOptions): Promise<BenchLedger> {
  const base = loadConfig();
  const { brokers, registryUrl } = endpoints(base);
  await checkPortFree(options.gatewayPort);
  const runId = Date.now();
  const prefix = `bench.http.${runId}.`;
  const appId = `bench-http-${runId}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-http-'));
  const admin = createKafka(brokers, `${appId}.admin`).admin();
  await admin.connect();
  mkdirSync(dirname(options.logFile), { recursive: true });
  const log = createWriteStream(options.logFile);
  const incidents = new Map<string, number>();
  const write = (line: string): void => {
    log.write(`${line}\n`);
    if (!/ (warn|error) |exited \(/.test(line) || line.includes(knownNoise)) return;
    // `[service]   hh:mm:ss.mmm level message  fields`: the message names the incident.
    const key = line.replace(/^(\[\w+\])\s+[\d:.]+ /, '$1 ').split('  ')[0] ?? line;
    if (incidents.has(key) || incidents.size < incidentKindsMax) incidents.set(key, (incidents.get(key) ?? 0) + 1);
  };
  let stopped: Promise<void> | undefined;
  const processorMetricsPort = await freePort();
  const env = {
    // The gateway's answers say where each request's time went (gateway/server-timing.ts).
    GATEWAY_SERVER_TIMING: 'true',
    ACCOUNT_METRICS_PORT: String(processorMetricsPort),
    KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, BANK_TOPIC_PREFIX: prefix, BANK_PARTITIONS: String(base.partitions),
    APP_ID: appId, DATA_DIR: dataDir, GATEWAY_PORT: String(options.gatewayPort), GATEWAY_HOST: '127.0.0.1', GATEWAY_INSTANCE_ID: 'bench',
    ...benchServiceEnv,
  };
  const giveUp = (name: string, reason: string): void => {
    incidents.set(`${name} ${reason}`, 1);
    options.say(`${name} ${reason}; see ${options.logFile}`);
  };
  const profile = (service: 'gateway' | 'processor'): string[] =>
    options.profileDirs === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.profileDirs[service]}`];
  const processor = new ServiceProcess({ name: 'processor', script: 'processors/account/main.ts', env, nodeArgs: profile('processor') }, write, giveUp);
  const gateway = new ServiceProcess({ name: 'gateway', script: 'gateway/main.ts', env, nodeArgs: profile('gateway') }, write, giveUp);
  const ledger: BenchLedger = {
    prefix,
    baseUrl: `http://127.0.0.1:${options.gatewayPort}`,
    logFile: options.logFile,
    processor,
    gateway,
    processorMetricsUrl: `http://127.0.0.1:${processorMetricsPort}/metrics`,
    incidents,
    stop: () => (stopped ??= (async () => {
      // One after the other, each gracefully: a graceful exit is what writes a CPU profile.
      await gateway.stop().catch(() => {});
      await processor.stop().catch(() => {});
      await admin.deleteTopics({ topics: Object.values(topicNames(prefix)) }).catch((error: Error) => options.say(`could not delete the bench topics: ${error.message}`));
      await admin.disconnect().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      await new Promise<void>((resolve) => log.end(resolve));
    })()),
  };
  try {
    await ensureTopics(admin, { prefix, partitions: base.partitions });
    await registerSchemas(new LedgerRegistry(registryUrl), prefix);
    options.say(`topics ${prefix}* (${base.partitions} partitions) and schemas ready; starting the processor and the gateway (logs: ${options.logFile})`);
    processor.start();
    gateway.start();
    await Promise.all([
      waitForLine(processor, /account processor started/, serviceReadyTimeoutMs),
      waitForHttp(`${ledger.baseUrl}/ready`, serviceReadyTimeoutMs, () => gateway.running),
    ]);
  } catch (error) {
    await ledger.stop();
    throw error;
  }
  return ledger;
}

/** Opens `count` accounts through the API (Idempotency-Key per account, so retries are safe). */
export async function openAccounts(baseUrl: string, count: number, initialBalance: number, runId: string): Promise<string[]> {
  const ids = new Array<string>(count);
  let next = 0;
  const openOne = async (i: number): Promise<void> => {
    const body = JSON.stringify({ ownerName: `Bench ${i}`, currency: 'EUR', initialBalance });
    for (let attempt = 1; ; attempt += 1) {
      const response = await fetch(`${baseUrl}/api/v1/accounts`, {
        method: 'POST', body, headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-open-${i}`, authorization: `Bearer ${benchApiKey}` },
      }).catch((error: Error) => ({ status: 0, ok: false, json: async () => ({ error: error.message }) }));
      const answer = (await response.json()) as { accountId?: string };
      if (response.status === 201 && answer.accountId !== undefined) {
        ids[i] = answer.accountId;
        return;
      }
      if (attempt >= openAttemptsMax) throw new Error(`opening account ${i} answered ${response.status} ${JSON.stringify(answer)} ${attempt} times`);
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
    }
  };
  const worker = async (): Promise<void> => {
    while (next < count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(openConcurrency, count) }, worker));
  return ids;
}
