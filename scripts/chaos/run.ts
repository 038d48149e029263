// One run of the fault campaign, isolated by its own topic prefix, APP_ID (groups, transactional
// ids), DATA_DIR and ports: start processor, gateway and query; drive the load while the faults
// strike; settle; then check the ledger's invariants and compare it with what the clients were
// told. A run's topics and data are deleted when it passes and kept for inspection when it fails.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { logLevel, type Kafka } from 'kafkajs';
import { LedgerRegistry, createCodecs, type Codecs } from '../../schemas/registry.ts';
import { ensureTopics } from '../../topics/admin.ts';
import { createKafka } from '../../topics/kafka.ts';
import { topicNames, type TopicNames } from '../../topics/topics.ts';
import { auditLedger } from '../ledger/audit.ts';
import type { LedgerTotals } from '../ledger/check.ts';
import type { KafkaRestart } from '../stack/index.ts';
import { prng } from '../workload.ts';
import { planFaults, runFaults, type FaultLog } from './faults.ts';
import { chaosApiKey, type RequestRecord } from './client.ts';
import { Load } from './load.ts';
import { startServices, stopServices, waitUntilReady, type ChaosService, type ServiceName } from './services.ts';
import { checkQueryViews, resolvePending, waitForQuiet } from './settle.ts';
import { clientStats, compareWithClients, type ClientStats } from './verify.ts';
import { freePort } from '../services.ts';

/** A killed processor's partitions move after this (ACCOUNT_SESSION_TIMEOUT_MS; the default 30 s would stall the load). */
const processorSessionTimeoutMs = 10_000;

export interface RunOptions {
  run: number;
  seed: number;
  durationMs: number;
  clients: number;
  partitions: number;
  killsPerService: number;
  brokerRestarts: number;
  brokerStop: 'graceful' | 'kill' | 'alternate';
  withQuery: boolean;
  keep: boolean;
  verbose: boolean;
  brokers: string[];
  registryUrl: string;
  /** Undefined when the broker is not ours to restart. */
  restartBroker: ((hard: boolean) => Promise<KafkaRestart>) | undefined;
  say: (line: string) => void;
}

export interface RunReport {
  run: number;
  seed: number;
  prefix: string;
  /** Where the run's service logs and stores are, when kept. */
  keptDataDir?: string;
  loadMs: number;
  settleMs: number;
  quiet: boolean;
  client: ClientStats;
  kills: Record<ServiceName, number>;
  supervisorGaveUp: Record<string, number>;
  brokerRestarts: number;
  brokerDownMs: number[];
  ledger?: LedgerTotals;
  pendingResolved: number;
  /** How long the gateway took to know the outcomes of those requests (GET /commands). */
  pendingResolveMs: number;
  queryAccountsChecked: number;
  violations: string[];
  violationCount: number;
  /** The run could not be carried out (the broker did not come back, a service never got ready…). */
  operationalError?: string;
}

interface Ledger {
  kafka: Kafka;
  codecs: Codecs;
  topics: TopicNames;
}

async function createLedger(options: RunOptions, prefix: string, appId: string): Promise<Ledger> {
  // The campaign's own clients stay quiet: broker restarts would fill the report with retries.
  const kafka = createKafka(options.brokers, `${appId}.chaos`, { logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, { prefix, partitions: options.partitions });
  } finally {
    await admin.disconnect();
  }
  const codecs = await createCodecs(new LedgerRegistry(options.registryUrl), prefix, { register: true });
  return { kafka, codecs, topics: topicNames(prefix) };
}

async function cleanUp(ledger: Ledger | undefined, dataDir: string): Promise<void> {
  fs.rmSync(dataDir, { recursive: true, force: true });
  if (ledger === undefined) return;
  const admin = ledger.kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: Object.values(ledger.topics) }).catch(() => undefined);
  await admin.disconnect();
}

interface RunContext {
  options: RunOptions;
  label: string;
  dataDir: string;
  gatewayUrl: string;
  queryUrl: string;
  ledger: Ledger;
  names: ServiceName[];
  services: ChaosService[];
  say: (line: string) => void;
}

function serviceEnv(context: Omit<RunContext, 'services' | 'names' | 'ledger'>, ports: { gateway: number; query: number }): Record<string, string> {
  const { options, label, dataDir } = context;
  return {
    KAFKA_BROKERS: options.brokers.join(','), SCHEMA_REGISTRY_URL: options.registryUrl, BANK_TOPIC_PREFIX: `${label}.`, BANK_PARTITIONS: String(options.partitions),
    APP_ID: label, DATA_DIR: dataDir, GATEWAY_HOST: '127.0.0.1', GATEWAY_PORT: String(ports.gateway), GATEWAY_INSTANCE_ID: `${label}-gateway`,
    QUERY_HOST: '127.0.0.1', QUERY_PORT: String(ports.query), ACCOUNT_SESSION_TIMEOUT_MS: String(processorSessionTimeoutMs), LOG_LEVEL: 'warn',
    LEDGER_ADMIN_KEY: chaosApiKey, RATE_LIMIT_PER_SECOND: '0',
  };
}

/** The load with the faults striking meanwhile; returns every request the clients made. */
async function loadUnderFaults(context: RunContext, report: RunReport): Promise<RequestRecord[]> {
  const { options, label, services, say } = context;
  const brokerRestarts = options.restartBroker ? options.brokerRestarts : 0;
  const plan = planFaults(prng(options.seed * 31 + options.run), {
    durationMs: options.durationMs, services: context.names, killsPerService: options.killsPerService, brokerRestarts, brokerStop: options.brokerStop, earlierBrokerRestarts: (options.run - 1) * brokerRestarts,
  });
  const startMs = Date.now();
  const load = new Load({ clients: options.clients, seed: options.seed * 1009 + options.run, runLabel: label, baseUrl: context.gatewayUrl, untilMs: startMs + options.durationMs });
  const [, faults] = (await Promise.all([load.run(), runFaults(plan, { services, startMs, restartBroker: options.restartBroker, say })])) as [void, FaultLog];
  report.loadMs = Date.now() - startMs;
  fs.writeFileSync(path.join(context.dataDir, 'requests.json'), JSON.stringify(load.records, null, 1));
  Object.assign(report, { client: clientStats(load.records), kills: faults.kills, brokerRestarts: faults.brokerRestarts, brokerDownMs: faults.brokerDownMs });
  if (faults.errors.length > 0) throw new Error(faults.errors.join('; '));
  say(`load done: ${report.client.requests} requests, ${report.client.attempts} attempts; settling`);
  return load.records;
}

/** Settles, then the ledger's invariants, the clients' answers and the query views. */
async function settleAndCheck(context: RunContext, records: RequestRecord[], report: RunReport): Promise<void> {
  const { ledger, label } = context;
  const settleStartMs = Date.now();
  await waitUntilReady(context.services);
  const audit = (settled: boolean) => auditLedger({ kafka: ledger.kafka, codecs: async () => ledger.codecs, topics: ledger.topics, appId: label, settled });
  report.quiet = (await waitForQuiet(() => audit(false), context.say)).quiet;
  const resolved = await resolvePending(records, context.gatewayUrl);
  Object.assign(report, { pendingResolved: resolved.looked, pendingResolveMs: resolved.waitedMs });
  const final = await audit(true);
  report.settleMs = Date.now() - settleStartMs;
  report.ledger = final.report.totals;
  const clientViolations = compareWithClients(records, final.snapshot);
  const query = context.options.withQuery ? await checkQueryViews(final.report.balances, context.queryUrl) : { checked: 0, violations: [] };
  report.queryAccountsChecked = query.checked;
  report.violations = [...final.report.violations, ...clientViolations, ...query.violations];
  report.violationCount = final.report.violationCount + clientViolations.length + query.violations.length;
}

export async function runOnce(options: RunOptions): Promise<RunReport> {
  const label = `chaos-${options.seed}-${options.run}-${randomBytes(3).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `${label}-`));
  const ports = { gateway: await freePort(), query: await freePort() };
  const say = (line: string) => options.say(`[run ${options.run}] ${line}`);
  const base = { options, label, dataDir, gatewayUrl: `http://127.0.0.1:${ports.gateway}`, queryUrl: `http://127.0.0.1:${ports.query}`, say };
  const report: RunReport = {
    run: options.run, seed: options.seed, prefix: `${label}.`, loadMs: 0, settleMs: 0, quiet: false, client: clientStats([]),
    kills: { processor: 0, gateway: 0, query: 0 }, supervisorGaveUp: {}, brokerRestarts: 0, brokerDownMs: [],
    pendingResolved: 0, pendingResolveMs: 0, queryAccountsChecked: 0, violations: [], violationCount: 0,
  };
  say(`prefix ${label}. gateway ${base.gatewayUrl}${options.withQuery ? ` query ${base.queryUrl}` : ''} data ${dataDir}`);
  let ledger: Ledger | undefined;
  let services: ChaosService[] = [];
  try {
    ledger = await createLedger(options, `${label}.`, label);
    const names: ServiceName[] = options.withQuery ? ['processor', 'gateway', 'query'] : ['processor', 'gateway'];
    services = startServices({ names, env: serviceEnv(base, ports), logDir: path.join(dataDir, 'logs'), gatewayUrl: base.gatewayUrl, queryUrl: base.queryUrl, verbose: options.verbose });
    await waitUntilReady(services);
    say('services ready; load and faults start');
    const context: RunContext = { ...base, ledger, names, services };
    const records = await loadUnderFaults(context, report);
    await settleAndCheck(context, records, report);
  } catch (error) {
    report.operationalError = (error as Error).message;
  } finally {
    await stopServices(services);
    for (const s of services) if (s.giveUps > 0) report.supervisorGaveUp[s.name] = s.giveUps;
  }
  if (report.violationCount === 0 && report.operationalError === undefined && !options.keep) await cleanUp(ledger, dataDir).catch(() => undefined);
  else report.keptDataDir = dataDir;
  return report;
}
