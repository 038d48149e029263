// `npm run bench:processor`: pre-loads N commands (default 200,000, the workload mix) into a
// fresh set of topics, runs one account processor process (or --instances N sharing the
// partitions, each with its own data directory) from a cold store, and reports commands/s,
// commands per transaction, time per transaction and each process's peak RSS.
// `--reference streams [--rounds N] [--threads T]` runs the same workload on the Kafka Streams
// reference too (bench/streams-reference, built with Maven on first use), alternating with the
// ledger, and fails if the two ledgers differ (`--reference-only` runs the reference alone).
// A measurement, never a test: it asserts nothing about speed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import kafkajs from 'kafkajs';
import { endpoints, loadConfig, integerFromEnv } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { ensureTopics } from '../topics/admin.ts';
import { topicNames } from '../topics/topics.ts';
import { LedgerRegistry, createCodecs, type Codecs } from '../schemas/registry.ts';
import type { AccountState, CommandOutcome } from '../schemas/types.ts';
import { generateWorkload } from './workload.ts';
import { stackStatus } from './stack/index.ts';
import { cpuSnapshot, threadSeconds, type CpuSnapshot } from './bench-http/cpu.ts';
import { readToEnd } from '../topics/read-to-end.ts';

const { Partitioners } = kafkajs;
/** The bench gives up waiting for the processor after this long. */
const benchTimeoutMs = 30 * 60_000;
/** Committed offsets unchanged this long (after covering the pre-loaded commands) means the processor has nothing left to do. */
const quietMs = 10_000;
/** --instances: processor processes sharing the partitions (more than the partitions would idle). */
const instancesMax = 64;
/** How often each instance logs its totals and memory (ACCOUNT_STATS_INTERVAL_MS). */
const statsIntervalMs = 1000;
/** Reading an engine's final account states or outcomes back gives up after this long. */
const recordsReadTimeoutMs = 120_000;
/** The Kafka Streams reference's Maven project (absolute: Maven resolves relative paths from the POM's folder). */
const referenceDir = resolve('bench', 'streams-reference');

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  return raw === undefined ? integerFromEnv(process.env, `BENCH_${name.toUpperCase()}`, fallback, 1, 10_000_000) : Number(raw);
}

/** The latest result per (instances, commands, accounts): the single-instance one is the baseline of scaling efficiency. */
const resultsFile = 'reports/bench-processor.json';
interface BenchResult {
  at: string;
  instances: number;
  commands: number;
  accounts: number;
  throughput: number;
  peakRssMb: number[];
}

function readResults(): BenchResult[] {
  try {
    return JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResult[];
  } catch {
    return [];
  }
}

/** How many of an engine's busiest threads the report names. */
const threadsShownMax = 6;

/**
 * The process's peak RSS (VmHWM, tracked by the kernel) and its resident memory now, split into
 * anonymous (heaps, buffers: its own) and file-backed (the executable and libraries, and the
 * files it maps: LevelDB reads its table files through mmap, so they count in RSS although they
 * are clean page cache the kernel drops under pressure), in MB.
 */
function memoryMb(pid: number): { peakRss: number; anon: number; file: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mb = (field: string) => Math.round(Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024);
  return { peakRss: mb('VmHWM'), anon: mb('RssAnon'), file: mb('RssFile') };
}

/** Which processes consume the pre-loaded commands: the account processor, or the Kafka Streams reference (bench/streams-reference). */
type Engine = 'ledger' | 'streams';

interface Prepared {
  prefix: string;
  appId: string;
  topics: ReturnType<typeof topicNames>;
  codecs: Codecs;
  commands: number;
}

interface EngineResult {
  engine: Engine;
  throughput: number;
  /** Commands per second from the first commit seen to the last: without the start-up. */
  steady: number;
  /** The engine's processes' CPU time per command processed (start-up included). */
  cpuMicrosPerCommand: number;
  processed: number;
  elapsedMs: number;
  peakRssMb: number[];
  /** What it decided, for comparing the engines' ledgers. */
  ledger: Ledger;
}

/** Fresh topics (own prefix) with the workload pre-loaded. */
async function prepare(kafka: kafkajs.Kafka, admin: kafkajs.Admin, registryUrl: string, partitions: number, commandsTotal: number, accounts: number): Promise<Prepared> {
  const stamp = `${Date.now()}`;
  const prefix = `bench.processor.${stamp}.`;
  const appId = `bench-processor-${stamp}`;
  await ensureTopics(admin, { prefix, partitions });
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), prefix, { register: true });
  const topics = topicNames(prefix);
  console.log(`generating ${commandsTotal} commands over ${accounts} accounts; topics ${prefix}* (${partitions} partitions)`);
  const commands = generateWorkload({ seed: 7, commands: commandsTotal, accounts });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < commands.length; i += 5000) {
    await producer.send({ topic: topics.commands, acks: -1, messages: commands.slice(i, i + 5000).map((c) => ({ key: c.accountId, value: codecs.commands.encode(c) })) });
  }
  await producer.disconnect();
  return { prefix, appId, topics, codecs, commands: commands.length };
}

/** The reference's java arguments, once built in this bench. */
let referenceCommand: string[] | undefined;

/** Compiles the reference and writes its classpath (Maven, dependencies from Maven Central), once per bench. */
function buildReference(): string[] {
  if (referenceCommand !== undefined) return referenceCommand;
  const pom = join(referenceDir, 'pom.xml');
  const classpathFile = join(referenceDir, 'target', 'classpath.txt');
  const built = spawnSync('mvn', ['-q', '-B', '-Dstyle.color=never', '-f', pom, 'compile', 'dependency:build-classpath', `-Dmdep.outputFile=${classpathFile}`], { stdio: 'inherit' });
  if (built.error !== undefined || built.status !== 0) throw new Error(`building the Kafka Streams reference failed (mvn exit ${built.status ?? built.error?.message}): it needs Java 17+ and Maven reaching Maven Central`);
  referenceCommand = ['-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-cp', `${join(referenceDir, 'target', 'classes')}:${readFileSync(classpathFile, 'utf8').trim()}`, 'ledger.reference.ReferenceLedger'];
  return referenceCommand;
}

async function runEngine(engine: Engine, prepared: Prepared, admin: kafkajs.Admin, kafka: kafkajs.Kafka, brokers: string[], registryUrl: string, partitions: number, instances: number): Promise<EngineResult> {
  const { prefix, appId, topics } = prepared;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-processor-'));
  const groupId = `${appId}.account`;
  const threads = argument('threads', 1);
  const java = engine === 'streams' ? buildReference() : [];
  console.log(engine === 'streams'
    ? `pre-loaded; starting the Kafka Streams reference (${threads} stream thread${threads === 1 ? '' : 's'}, exactly_once_v2) from a cold store`
    : `pre-loaded; starting ${instances === 1 ? 'the processor' : `${instances} processor instances (one consumer group)`} from a cold store`);
  const started = Date.now();
  // --profile writes a V8 CPU profile of the processor to reports/profile/ (open it in Chrome DevTools).
  const profile = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir=reports/profile'] : [];
  const children = Array.from({ length: engine === 'streams' ? 1 : instances }, (_, i) => {
    const env = {
      ...process.env,
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      BANK_TOPIC_PREFIX: prefix,
      // Each instance has its own disk, as on its own machine.
      DATA_DIR: join(dataDir, `instance-${i + 1}`),
      BANK_PARTITIONS: String(partitions),
      ACCOUNT_STATS_INTERVAL_MS: String(statsIntervalMs),
    };
    const child = engine === 'streams'
      ? spawn('java', java, { env: { ...env, APP_ID: groupId, SCHEMAS_DIR: 'schemas', REFERENCE_THREADS: String(threads) }, stdio: ['ignore', 'pipe', 'inherit'] })
      : spawn(process.execPath, [...profile, '--import', 'tsx', 'processors/account/main.ts'], { env: { ...env, APP_ID: appId }, stdio: ['ignore', 'pipe', 'inherit'] });
    const instance = { child, totals: {} as Record<string, number>, peakRssMb: 0, peakAnonMb: 0, peakFileMb: 0, peakHeapUsedMb: 0, peakHeapTotalMb: 0, peakExternalMb: 0 };
    // Whole lines: a pipe's chunks can end mid-line, and half a JSON line does not parse.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"msg":"progress"') && !line.includes('"msg":"stopped"')) return;
      const entry = JSON.parse(line) as Record<string, number> & { memoryMb?: Record<string, number> };
      instance.totals = entry;
      instance.peakHeapUsedMb = Math.max(instance.peakHeapUsedMb, entry.memoryMb?.heapUsed ?? 0);
      instance.peakHeapTotalMb = Math.max(instance.peakHeapTotalMb, entry.memoryMb?.heapTotal ?? 0);
      instance.peakExternalMb = Math.max(instance.peakExternalMb, entry.memoryMb?.external ?? 0);
    });
    return instance;
  });
  // CPU used by the engine's processes and by the embedded broker (none measured for an external
  // cluster) over the run: less noisy than throughput on a shared box, and it shows who pays.
  const brokerPid = (await stackStatus().catch(() => undefined))?.kafka.pid;
  const cpuPids = () => ({ ...Object.fromEntries(children.map((c, i) => [`engine ${i}`, c.child.pid])), broker: brokerPid });
  const cpuBefore = cpuSnapshot(cpuPids());
  let cpuAfter: CpuSnapshot | undefined;
  let threadsAtEnd: Array<Array<{ tid: number; name: string; seconds: number }>> = [];
  // Done when every pre-loaded command (and the transfer legs they caused) is committed: the
  // group's committed offsets cover at least the pre-loaded count, then stop moving for quietMs.
  // Trailing transaction markers (several producers' commits interleave) mean "committed == end
  // offset" is not a usable test, and a pause alone ends the bench early on a busy machine.
  let lastCommitted = -1;
  let lastChange = Date.now();
  // The first commit seen: from there on the engine is past its start-up (process, group join).
  let firstCommit: { at: number; total: number } | undefined;
  for (;;) {
    if (Date.now() - started > benchTimeoutMs) throw new Error(`${engine} did not finish within ${benchTimeoutMs} ms`);
    const died = children.find(({ child }) => child.exitCode !== null);
    if (died !== undefined) throw new Error(`${engine} exited (code ${died.child.exitCode}) before it processed the workload`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (const instance of children) {
      if (instance.child.pid === undefined || instance.child.exitCode !== null) continue;
      const memory = memoryMb(instance.child.pid);
      instance.peakRssMb = Math.max(instance.peakRssMb, memory.peakRss);
      instance.peakAnonMb = Math.max(instance.peakAnonMb, memory.anon);
      instance.peakFileMb = Math.max(instance.peakFileMb, memory.file);
    }
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topics.commands] });
    const total = committed?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) ?? 0;
    if (total !== lastCommitted) {
      lastCommitted = total;
      lastChange = Date.now();
      if (firstCommit === undefined && total > 0) firstCommit = { at: lastChange, total };
    }
    process.stdout.write(`\r${Math.round((Date.now() - started) / 1000)} s, committed offsets ${total}`);
    if (total >= prepared.commands && Date.now() - lastChange > quietMs) {
      cpuAfter = cpuSnapshot(cpuPids());
      threadsAtEnd = children.map(({ child }) => (child.pid === undefined ? [] : threadSeconds(child.pid)));
      break;
    }
  }
  const elapsedMs = lastChange - started;
  // SIGTERM: the processor stops gracefully (and writes its CPU profile); the JVM runs its shutdown hook.
  for (const { child } of children) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.on('exit', resolve)))));
  const sum = (field: string) => children.reduce((n, i) => n + (i.totals[field] ?? 0), 0);
  const processed = sum('commands');
  const transactions = sum('transactions');
  const throughput = Math.round(processed / (elapsedMs / 1000));
  // Committed offsets also count the transaction markers the follow-ups' commits leave on the
  // commands topic: the share of offsets after the first commit, times the commands processed.
  const steady = firstCommit === undefined || lastChange === firstCommit.at ? 0 : Math.round((processed * (1 - firstCommit.total / lastCommitted)) / ((lastChange - firstCommit.at) / 1000));
  console.log('\n');
  console.log(`commands processed (incl. internal transfer commands): ${processed}`);
  console.log(`wall time from process start (incl. ${engine === 'streams' ? 'JVM' : 'Node'} start-up, group join, restore): ${(elapsedMs / 1000).toFixed(1)} s`);
  console.log(`throughput: ${throughput} commands/s${instances > 1 && engine === 'ledger' ? ` with ${instances} instances` : ''}; from its first commit on: ${steady} commands/s`);
  if (engine === 'streams') console.log(`Kafka Streams commits (each one Kafka transaction per thread): ${transactions}, commands per commit: ${(processed / Math.max(1, transactions)).toFixed(0)}`);
  else console.log(`transactions: ${transactions}, commands per transaction: ${(processed / Math.max(1, transactions)).toFixed(0)}, mean transaction time (send+offsets+commit): ${(sum('transactionMs') / Math.max(1, transactions)).toFixed(1)} ms`);
  // Per instance (ACCOUNT_TRANSACTIONS=instance) one Kafka transaction carries several partitions' chunks.
  const ended = sum('ended');
  if (ended > 0 && ended < transactions) console.log(`  (partition chunks; Kafka transactions ended: ${ended}, ${(processed / ended).toFixed(0)} commands each)`);
  const counts = `accepted ${sum('accepted')}, rejected ${sum('rejected')}, dead-lettered ${sum('deadLettered')}`;
  console.log(`${counts}${engine === 'streams' ? `, replayed ${sum('replayed')}` : ''}`);
  const used = (name: string) => (cpuAfter?.processes[name] ?? 0) - (cpuBefore.processes[name] ?? 0);
  const engineCpu = children.reduce((n, _, i) => n + used(`engine ${i}`), 0);
  const brokerCpu = brokerPid === undefined ? undefined : used('broker');
  const microsPerCommand = (seconds: number) => (1e6 * seconds) / Math.max(1, processed);
  const perCommand = (seconds: number) => `${microsPerCommand(seconds).toFixed(0)} µs`;
  for (const [i, list] of threadsAtEnd.entries()) {
    const pid = children[i]?.child.pid;
    const busiest = list.slice(0, threadsShownMax).map((t) => `${t.tid === pid ? 'main' : t.name} ${t.seconds.toFixed(1)} s`);
    console.log(`  ${children.length === 1 ? '' : `instance ${i + 1} `}threads by CPU (of ${list.length}): ${busiest.join(', ')}`);
  }
  console.log(`CPU per command (incl. the quiet ${quietMs / 1000} s at the end): ${engine === 'streams' ? 'reference' : 'processor'} ${perCommand(engineCpu)} (${engineCpu.toFixed(1)} s)${brokerCpu === undefined ? '' : `, broker ${perCommand(brokerCpu)} (${brokerCpu.toFixed(1)} s)`}`);
  for (const [i, instance] of children.entries()) {
    const name = engine === 'streams' ? 'Kafka Streams reference (JVM)' : instances === 1 ? 'processor' : `instance ${i + 1}`;
    // V8's heap total is what it has committed (live objects, garbage not yet collected, free
    // space); the rest of the RSS is external buffers, LevelDB, code and the allocator.
    const v8 = engine === 'streams' ? '' : `, heap total ${instance.peakHeapTotalMb} MB, external ${instance.peakExternalMb} MB`;
    console.log(`${name} peak RSS: ${instance.peakRssMb} MB (sampled every ${statsIntervalMs} ms: ${engine === 'streams' ? 'Java' : 'V8'} heap used ${instance.peakHeapUsedMb} MB${v8})${instances > 1 ? `, ${instance.totals.commands ?? 0} commands` : ''}`);
    console.log(`  of it at most ${instance.peakAnonMb} MB anonymous (its own memory) and ${instance.peakFileMb} MB file-backed (${engine === 'streams' ? 'the JVM and its libraries' : 'the node binary and LevelDB\'s memory-mapped tables'}: clean pages the kernel can drop), sampled every 250 ms`);
  }
  // The ledger's account states and outcomes are its account-state and outcomes topics; the
  // reference's, its stores' changelogs.
  const { codecs } = prepared;
  const states = await latestRecords(kafka, engine === 'streams' ? `${groupId}-accounts-changelog` : topics.accountState, (v) => codecs.accountState.decode(v));
  const outcomes = comparableOutcomes(await latestRecords(kafka, engine === 'streams' ? `${groupId}-outcomes-changelog` : topics.outcomes, (v) => codecs.outcomes.decode(v)));
  rmSync(dataDir, { recursive: true, force: true });
  return { engine, throughput, steady, cpuMicrosPerCommand: microsPerCommand(engineCpu), processed, elapsedMs, peakRssMb: children.map((c) => c.peakRssMb), ledger: { states, outcomes, counts } };
}

/** The latest committed record of every key of a topic, read to its end (decoded by `decode`). */
async function latestRecords<T>(kafka: kafkajs.Kafka, topic: string, decode: (value: Buffer) => Promise<T>): Promise<Map<string, T>> {
  const latest = new Map<string, T>();
  await readToEnd({
    kafka,
    groupIdPrefix: 'bench-processor-read',
    topics: [topic],
    timeoutMs: recordsReadTimeoutMs,
    onBatch: async (_topic, _partition, messages) => {
      for (const message of messages) if (message.value !== null && message.key !== null) latest.set(message.key.toString(), await decode(message.value));
    },
  });
  return latest;
}

/** What two runs' ledgers must agree on, key by key: each account's final state, each command's final outcome. */
interface Ledger {
  states: Map<string, AccountState>;
  /** commandId (or refusal key) → status, code and a transfer's status. */
  outcomes: Map<string, string>;
  counts: string;
}

/** Key by key, what differs between two runs' records (`show` renders a record; equal renderings agree). */
function differences<T>(a: Map<string, T>, b: Map<string, T>, show: (record: T) => string): string[] {
  const found: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const left = x === undefined ? 'missing' : show(x);
    const right = y === undefined ? 'missing' : show(y);
    if (left !== right) found.push(`${key}: ${left} against ${right}`);
  }
  return found;
}

/**
 * Outcomes by a key both engines must share, rendered as what was decided. A settlement's id
 * derives from the destination's TransferCredited event, whose sequence depends on the order in
 * which credits from other partitions arrived: timing, not rules. So the settlement or refund
 * at a transfer's source is keyed `<transferId>:landing` (a transfer lands once); every other
 * outcome (client commands, credits, refusals) by its own key.
 */
function comparableOutcomes(outcomes: Map<string, CommandOutcome>): Map<string, string> {
  const sources = new Map<string, string>();
  for (const o of outcomes.values()) if (o.transferId !== null && o.transferStatus !== null) sources.set(o.transferId, o.accountId);
  const comparable = new Map<string, string>();
  for (const [key, o] of outcomes) {
    const landing = !key.includes('#') && o.transferId !== null && o.transferStatus === null && sources.get(o.transferId) === o.accountId;
    comparable.set(landing ? `${o.transferId}:landing` : key, `${o.status} ${o.code ?? ''} ${o.transferStatus ?? ''} ${o.transferCode ?? ''}`);
  }
  return comparable;
}

const showState = (s: AccountState) => `balance ${s.balance}, ${s.status}, version ${s.version}, in flight ${s.outgoingInFlight}, held ${s.heldBalance}, limit ${s.overdraftLimit}, ${s.currency}, ${s.ownerName}`;

/** Every way two runs' ledgers differ: decisions counted, accounts, outcomes; and a run that read back too little. */
function disagreements(a: EngineResult, b: EngineResult, accounts: number): string[] {
  const found: string[] = [];
  for (const run of [a, b]) if (run.ledger.states.size !== accounts) found.push(`${run.engine}: ${run.ledger.states.size} accounts read back, ${accounts} opened`);
  if (a.ledger.counts !== b.ledger.counts) found.push(`decisions: ${a.engine} ${a.ledger.counts} against ${b.engine} ${b.ledger.counts}`);
  found.push(...differences(a.ledger.states, b.ledger.states, showState));
  found.push(...differences(a.ledger.outcomes, b.ledger.outcomes, (o) => o));
  return found;
}

async function main(): Promise<void> {
  const commandsTotal = argument('commands', 200_000);
  const accounts = argument('accounts', 10_000);
  const base = loadConfig();
  const { brokers, registryUrl } = endpoints(base);
  const kafka = createKafka(brokers, 'bench-processor');
  const admin = kafka.admin();
  await admin.connect();
  const instances = argument('instances', 1);
  if (instances > instancesMax) throw new Error(`--instances ${instances}: at most ${instancesMax}`);
  const referenceIndex = process.argv.indexOf('--reference');
  const reference = referenceIndex >= 0 ? process.argv[referenceIndex + 1] : undefined;
  if (reference !== undefined && reference !== 'streams') throw new Error(`--reference ${reference}: the only reference is streams`);
  // --reference streams: the ledger and the reference alternate (--rounds N pairs, ABBA order) on
  // the same workload, each on its own fresh topics, and their final account states must agree.
  // --reference-only: the reference's runs alone (tuning it), nothing to compare them with.
  const pairs = (i: number): Engine[] => (process.argv.includes('--reference-only') ? ['streams'] : i % 2 === 0 ? ['ledger', 'streams'] : ['streams', 'ledger']);
  const order: Engine[] = reference === undefined ? ['ledger'] : Array.from({ length: argument('rounds', 1) }, (_, i) => pairs(i)).flat();
  const results: EngineResult[] = [];
  for (const engine of order) {
    console.log(`\n=== ${engine === 'streams' ? 'Kafka Streams reference' : 'account processor'} ===`);
    const prepared = await prepare(kafka, admin, registryUrl, base.partitions, commandsTotal, accounts);
    try {
      results.push(await runEngine(engine, prepared, admin, kafka, brokers, registryUrl, base.partitions, instances));
    } finally {
      const internal = (await admin.listTopics()).filter((t) => t.startsWith(`${prepared.appId}.account-`));
      await admin.deleteTopics({ topics: [...Object.values(prepared.topics), ...internal] }).catch(() => undefined);
    }
  }
  const ledgerRuns = results.filter((r) => r.engine === 'ledger');
  const streamsRuns = results.filter((r) => r.engine === 'streams');
  if (streamsRuns.length > 0) {
    console.log('\n=== the ledger against the Kafka Streams reference ===');
    for (const [i, run] of results.entries()) console.log(`  run ${i + 1}: ${run.engine === 'streams' ? 'Kafka Streams' : 'ledger       '} ${run.throughput} commands/s (${run.steady} from its first commit), ${run.cpuMicrosPerCommand.toFixed(0)} µs of CPU per command, ${run.processed} commands, peak RSS ${run.peakRssMb.join(' + ')} MB`);
    const median = (runs: EngineResult[], field: 'throughput' | 'steady') => {
      const sorted = runs.map((r) => r[field]).sort((x, y) => x - y);
      const middle = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
    };
    const ratio = (field: 'throughput' | 'steady') => (median(ledgerRuns, field) / Math.max(1, median(streamsRuns, field))).toFixed(2);
    console.log(`  ratio of the medians, ledger / reference: ${ratio('throughput')}× from process start, ${ratio('steady')}× from the first commit`);
    const opened = Math.min(accounts, commandsTotal);
    const diverged = streamsRuns.flatMap((s) => ledgerRuns.flatMap((l) => disagreements(l, s, opened)));
    if (ledgerRuns.length === 0) {
      console.log('  (--reference-only: no ledger run to compare with)');
    } else if (diverged.length > 0) {
      console.log(`  THE LEDGERS DIFFER (${diverged.length}); first ones:\n    ${diverged.slice(0, 10).join('\n    ')}`);
      process.exitCode = 1;
    } else {
      const first = ledgerRuns[0]?.ledger;
      console.log(`  identical in every run: ${first?.counts}; the final state of all ${first?.states.size} accounts; the final outcome of all ${first?.outcomes.size} commands (status, code, transfer status)`);
    }
  }
  const single = ledgerRuns[0];
  if (single !== undefined && reference === undefined) recordResult(single, instances, commandsTotal, accounts);
  await admin.disconnect();
}

/** Writes the run to reports/bench-processor.json and prints the scaling efficiency against the single-instance run. */
function recordResult(run: EngineResult, instances: number, commandsTotal: number, accounts: number): void {
  mkdirSync('reports', { recursive: true });
  const results = readResults();
  const single = results.find((r) => r.instances === 1 && r.commands === commandsTotal && r.accounts === accounts);
  if (instances > 1) {
    console.log(single === undefined
      ? `scaling efficiency: run once without --instances (same --commands and --accounts) for the single-instance baseline`
      : `scaling efficiency: ${((100 * run.throughput) / (instances * single.throughput)).toFixed(0)} % (${run.throughput} / (${instances} × ${single.throughput} commands/s of one instance, ${single.at}))`);
  }
  writeFileSync(resultsFile, `${JSON.stringify([...results.filter((r) => !(r.instances === instances && r.commands === commandsTotal && r.accounts === accounts)), { at: new Date().toISOString(), instances, commands: commandsTotal, accounts, throughput: run.throughput, peakRssMb: run.peakRssMb }], null, 2)}\n`);
}

main().catch((error: Error) => {
  console.error(`bench:processor failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
