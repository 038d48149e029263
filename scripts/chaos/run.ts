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
import { countCrashes, noFaults, runFaults, type FaultCounts, type FaultLog } from './faults.ts';
import { chaosApiKey, type RequestRecord } from './client.ts';
import { Load } from './load.ts';
import { describePlan, planRun, type PlanOptions, type RunPlan, type Target } from './plan.ts';
import { RunServices } from './services.ts';
import { checkQueryViews, pause, resolvePending, waitForQuiet } from './settle.ts';
import { clientStats, compareWithClients, type ClientStats } from './verify.ts';
import { freePort } from '../services.ts';


/** Audits of a settled run at most, when the query views are ahead of the last (hold expiries since). */
const auditsMax = 4;
/** ...each after this pause (a processor asks for due expiries every 10 s). */
const reauditPauseMs = 3000;
/** A killed processor's partitions move after this (ACCOUNT_SESSION_TIMEOUT_MS; the default 30 s would stall the load). */
const processorSessionTimeoutMs = 10_000;

/** The schedule-shaping options are the planner's own (plan.ts), not restated here. */
export interface RunOptions extends Pick<PlanOptions, 'durationMs' | 'withQuery' | 'killsPerService' | 'stopsPerService' | 'crashPoints' | 'rebalances' | 'brokerRestarts' | 'brokerStop'> {
  run: number;
  seed: number;
  clients: number;
  partitions: number;
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
  /** The schedule, as drawn before the run from the seed. */
  plan: RunPlan;
  schedule: string[];
  /** What was injected, by kind. */
  faults: FaultCounts;
  supervisorGaveUp: Record<string, number>;
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
  plan: RunPlan;
  services: RunServices;
  say: (line: string) => void;
}

/** Options that shape a run's schedule; the same values and seed give the same schedule. */
export type PlanInputs = Pick<RunOptions, 'run' | 'seed' | 'durationMs' | 'withQuery' | 'killsPerService' | 'stopsPerService' | 'crashPoints' | 'rebalances' | 'brokerRestarts' | 'brokerStop'>;

/** Run `run`'s schedule, from the seed alone: printed before the run, replayed by the same seed. */
export function planFor(options: PlanInputs): RunPlan {
  return planRun(prng(options.seed * 31 + options.run), { ...options, earlierBrokerRestarts: (options.run - 1) * options.brokerRestarts });
}

function serviceEnv(context: Pick<RunContext, 'options' | 'label' | 'dataDir'>, ports: { gateway: number; query: number }): Record<string, string> {
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
  const startMs = Date.now();
  const load = new Load({ clients: options.clients, seed: options.seed * 1009 + options.run, runLabel: label, baseUrl: context.gatewayUrl, untilMs: startMs + options.durationMs });
  const [, faults] = (await Promise.all([load.run(), runFaults(context.plan, { services, startMs, restartBroker: options.restartBroker, say })])) as [void, FaultLog];
  report.loadMs = Date.now() - startMs;
  fs.writeFileSync(path.join(context.dataDir, 'requests.json'), JSON.stringify(load.records, null, 1));
  Object.assign(report, { client: clientStats(load.records), faults: faults.counts, brokerDownMs: faults.brokerDownMs });
  if (faults.errors.length > 0) throw new Error(faults.errors.join('; '));
  say(`load done: ${report.client.requests} requests, ${report.client.attempts} attempts; settling`);
  return load.records;
}

/**
 * Settles, then the ledger's invariants, the clients' answers and the query views. Nothing is
 * audited as settled before every partition is initialized by a live processor: until a killed
 * owner's transactions are fenced, they hide committed records from the read_committed audit.
 */
async function settleAndCheck(context: RunContext, records: RequestRecord[], report: RunReport): Promise<void> {
  const { ledger, label, services } = context;
  const settleStartMs = Date.now();
  await services.waitUntilReady({ partitionsCovered: true });
  const audit = (settled: boolean) => auditLedger({ kafka: ledger.kafka, codecs: async () => ledger.codecs, topics: ledger.topics, appId: label, settled });
  report.quiet = (await waitForQuiet(() => audit(false), context.say)).quiet;
  const resolved = await resolvePending(records, context.gatewayUrl);
  Object.assign(report, { pendingResolved: resolved.looked, pendingResolveMs: resolved.waitedMs });
  // A processor that died while settling (an armed crash point reached late) must be back and own its partitions again.
  await services.waitUntilReady({ partitionsCovered: true });
  let final = await audit(true);
  let query = context.options.withQuery ? await checkQueryViews(final.report.balances, context.queryUrl) : { checked: 0, violations: [], ahead: 0 };
  // Hold expiry is time-driven: the processor may ask for an expiry (an ExpireHold command, not yet
  // answered) or expire a hold after the audit found the ledger quiet, and the views then show it.
  // The ledger is audited again (bounded) until the views agree and every command is answered; a
  // real fault persists through every audit.
  const raced = () => query.ahead > 0 || final.report.violationKinds['unanswered-command'] !== undefined;
  for (let audits = 1; raced() && audits < auditsMax; audits += 1) {
    context.say(`query views ahead on ${query.ahead} account(s), ${final.report.violationKinds['unanswered-command'] ?? 0} command(s) unanswered (hold expiry since the audit): auditing again`);
    await pause(reauditPauseMs);
    final = await audit(true);
    query = await checkQueryViews(final.report.balances, context.queryUrl);
  }
  report.settleMs = Date.now() - settleStartMs;
  report.ledger = final.report.totals;
  const clientViolations = compareWithClients(records, final.snapshot);
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
  const plan = planFor({ ...options, brokerRestarts: options.restartBroker ? options.brokerRestarts : 0 });
  const report: RunReport = {
    run: options.run, seed: options.seed, prefix: `${label}.`, loadMs: 0, settleMs: 0, quiet: false, client: clientStats([]),
    plan, schedule: describePlan(plan), faults: noFaults(), supervisorGaveUp: {}, brokerDownMs: [],
    pendingResolved: 0, pendingResolveMs: 0, queryAccountsChecked: 0, violations: [], violationCount: 0,
  };
  say(`prefix ${label}. gateway ${base.gatewayUrl}${options.withQuery ? ` query ${base.queryUrl}` : ''} data ${dataDir}`);
  say('schedule (from the seed; replay it with the same seed and options):');
  for (const line of report.schedule) say(`  ${line}`);
  let ledger: Ledger | undefined;
  const services = new RunServices({ env: serviceEnv(base, ports), dataDir, logDir: path.join(dataDir, 'logs'), gatewayUrl: base.gatewayUrl, queryUrl: base.queryUrl, partitions: options.partitions, verbose: options.verbose });
  try {
    ledger = await createLedger(options, `${label}.`, label);
    const targets: Target[] = [...plan.processorsAtStart, 'gateway', ...(options.withQuery ? (['query'] as const) : [])];
    for (const target of targets) services.start(target);
    await services.waitUntilReady({ partitionsCovered: true });
    say('services ready; load and faults start');
    const records = await loadUnderFaults({ ...base, ledger, plan, services }, report);
    await settleAndCheck({ ...base, ledger, plan, services }, records, report);
  } catch (error) {
    report.operationalError = (error as Error).message;
  } finally {
    await services.stopAll();
    countCrashes(services, report.faults);
    for (const s of services.started) if (s.giveUps > 0) report.supervisorGaveUp[s.target] = (report.supervisorGaveUp[s.target] ?? 0) + s.giveUps;
  }
  if (report.violationCount === 0 && report.operationalError === undefined && !options.keep) await cleanUp(ledger, dataDir).catch(() => undefined);
  else report.keptDataDir = dataDir;
  return report;
}
