// `npm run bench:processor`: pre-loads N commands (default 200,000, the workload mix) into a
// fresh set of topics, runs one account processor process (or --instances N sharing the
// partitions, each with its own data directory) from a cold store, and reports commands/s,
// commands per transaction, time per transaction and each process's peak RSS.
// A measurement, never a test: it asserts nothing about speed.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import kafkajs from 'kafkajs';
import { endpoints, loadConfig, integerFromEnv } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { ensureTopics } from '../topics/admin.ts';
import { topicNames } from '../topics/topics.ts';
import { LedgerRegistry, createCodecs } from '../schemas/registry.ts';
import { generateWorkload } from './workload.ts';

const { Partitioners } = kafkajs;
/** The bench gives up waiting for the processor after this long. */
const benchTimeoutMs = 30 * 60_000;
/** Committed offsets unchanged this long (after covering the pre-loaded commands) means the processor has nothing left to do. */
const quietMs = 10_000;
/** --instances: processor processes sharing the partitions (more than the partitions would idle). */
const instancesMax = 64;
/** How often each instance logs its totals and memory (ACCOUNT_STATS_INTERVAL_MS). */
const statsIntervalMs = 1000;

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

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function main(): Promise<void> {
  const commandsTotal = argument('commands', 200_000);
  const accounts = argument('accounts', 10_000);
  const base = loadConfig();
  const { brokers, registryUrl } = endpoints(base);
  const prefix = `bench.processor.${Date.now()}.`;
  const appId = `bench-processor-${Date.now()}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-processor-'));
  const kafka = createKafka(brokers, 'bench-processor');
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { prefix, partitions: base.partitions });
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), prefix, { register: true });
  const topics = topicNames(prefix);
  console.log(`generating ${commandsTotal} commands over ${accounts} accounts; topics ${prefix}* (${base.partitions} partitions)`);
  const commands = generateWorkload({ seed: 7, commands: commandsTotal, accounts });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let i = 0; i < commands.length; i += 5000) {
    await producer.send({ topic: topics.commands, acks: -1, messages: commands.slice(i, i + 5000).map((c) => ({ key: c.accountId, value: codecs.commands.encode(c) })) });
  }
  await producer.disconnect();
  const instances = argument('instances', 1);
  if (instances > instancesMax) throw new Error(`--instances ${instances}: at most ${instancesMax}`);
  console.log(`pre-loaded; starting ${instances === 1 ? 'the processor' : `${instances} processor instances (one consumer group)`} from a cold store`);
  const started = Date.now();
  // --profile writes a V8 CPU profile of the processor to reports/profile/ (open it in Chrome DevTools).
  const profile = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir=reports/profile'] : [];
  const children = Array.from({ length: instances }, (_, i) => {
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'processors/account/main.ts'], {
      env: {
        ...process.env,
        KAFKA_BROKERS: brokers.join(','),
        SCHEMA_REGISTRY_URL: registryUrl,
        BANK_TOPIC_PREFIX: prefix,
        APP_ID: appId,
        // Each instance has its own disk, as on its own machine.
        DATA_DIR: join(dataDir, `instance-${i + 1}`),
        BANK_PARTITIONS: String(base.partitions),
        ACCOUNT_STATS_INTERVAL_MS: String(statsIntervalMs),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const instance = { child, totals: {} as Record<string, number>, peakRssMb: 0, peakHeapUsedMb: 0, peakExternalMb: 0 };
    // Whole lines: a pipe's chunks can end mid-line, and half a JSON line does not parse.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.includes('"msg":"progress"') && !line.includes('"msg":"stopped"')) return;
      const entry = JSON.parse(line) as Record<string, number> & { memoryMb?: Record<string, number> };
      instance.totals = entry;
      instance.peakHeapUsedMb = Math.max(instance.peakHeapUsedMb, entry.memoryMb?.heapUsed ?? 0);
      instance.peakExternalMb = Math.max(instance.peakExternalMb, entry.memoryMb?.external ?? 0);
    });
    return instance;
  });
  // Done when every pre-loaded command (and the transfer legs they caused) is committed: the
  // group's committed offsets cover at least the pre-loaded count, then stop moving for quietMs.
  // Trailing transaction markers (several producers' commits interleave) mean "committed == end
  // offset" is not a usable test, and a pause alone ends the bench early on a busy machine.
  let lastCommitted = -1;
  let lastChange = Date.now();
  for (;;) {
    if (Date.now() - started > benchTimeoutMs) throw new Error(`processor did not finish within ${benchTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    for (const instance of children) if (instance.child.pid !== undefined && instance.child.exitCode === null) instance.peakRssMb = Math.max(instance.peakRssMb, peakRssMb(instance.child.pid));
    const [committed] = await admin.fetchOffsets({ groupId: `${appId}.account`, topics: [topics.commands] });
    const total = committed?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) ?? 0;
    if (total !== lastCommitted) {
      lastCommitted = total;
      lastChange = Date.now();
    }
    process.stdout.write(`\r${Math.round((Date.now() - started) / 1000)} s, committed offsets ${total}`);
    if (total >= commands.length && Date.now() - lastChange > quietMs) break;
  }
  const elapsedMs = lastChange - started;
  for (const { child } of children) child.kill('SIGTERM');
  await Promise.all(children.map(({ child }) => (child.exitCode !== null ? undefined : new Promise((resolve) => child.on('exit', resolve)))));
  const sum = (field: string) => children.reduce((n, i) => n + (i.totals[field] ?? 0), 0);
  const processed = sum('commands');
  const transactions = sum('transactions');
  const throughput = Math.round(processed / (elapsedMs / 1000));
  console.log('\n');
  console.log(`commands processed (incl. internal transfer commands): ${processed}`);
  console.log(`wall time from process start (incl. JVM-free startup, group join, restore): ${(elapsedMs / 1000).toFixed(1)} s`);
  console.log(`throughput: ${throughput} commands/s${instances > 1 ? ` with ${instances} instances` : ''}`);
  console.log(`transactions: ${transactions}, commands per transaction: ${(processed / Math.max(1, transactions)).toFixed(0)}, mean transaction time (send+offsets+commit): ${(sum('transactionMs') / Math.max(1, transactions)).toFixed(1)} ms`);
  // Per instance (ACCOUNT_TRANSACTIONS=instance) one Kafka transaction carries several partitions' chunks.
  const ended = sum('ended');
  if (ended > 0 && ended < transactions) console.log(`  (partition chunks; Kafka transactions ended: ${ended}, ${(processed / ended).toFixed(0)} commands each)`);
  console.log(`accepted ${sum('accepted')}, rejected ${sum('rejected')}, dead-lettered ${sum('deadLettered')}`);
  mkdirSync('reports', { recursive: true });
  const results = readResults();
  const single = results.find((r) => r.instances === 1 && r.commands === commandsTotal && r.accounts === accounts);
  if (instances > 1) {
    console.log(single === undefined
      ? `scaling efficiency: run once without --instances (same --commands and --accounts) for the single-instance baseline`
      : `scaling efficiency: ${((100 * throughput) / (instances * single.throughput)).toFixed(0)} % (${throughput} / (${instances} × ${single.throughput} commands/s of one instance, ${single.at}))`);
  }
  writeFileSync(resultsFile, `${JSON.stringify([...results.filter((r) => !(r.instances === instances && r.commands === commandsTotal && r.accounts === accounts)), { at: new Date().toISOString(), instances, commands: commandsTotal, accounts, throughput, peakRssMb: children.map((c) => c.peakRssMb) }], null, 2)}\n`);
  for (const [i, instance] of children.entries()) {
    const name = instances === 1 ? 'processor' : `instance ${i + 1}`;
    console.log(`${name} peak RSS: ${instance.peakRssMb} MB (sampled every ${statsIntervalMs} ms: V8 heap used ${instance.peakHeapUsedMb} MB, external ${instance.peakExternalMb} MB)${instances > 1 ? `, ${instance.totals.commands ?? 0} commands` : ''}`);
  }
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: Error) => {
  console.error(`bench:processor failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
