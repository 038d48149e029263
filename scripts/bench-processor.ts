// `npm run bench:processor`: pre-loads N commands (default 200,000, the workload mix) into a
// fresh set of topics, runs one account processor process from a cold store, and reports
// commands/s, commands per transaction, time per transaction and the processor's peak RSS.
// A measurement, never a test: it asserts nothing about speed.
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
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
/** Committed offsets unchanged this long means the processor has nothing left to do. */
const quietMs = 3000;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  return raw === undefined ? integerFromEnv(process.env, `BENCH_${name.toUpperCase()}`, fallback, 1, 10_000_000) : Number(raw);
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
  console.log('pre-loaded; starting the processor from a cold store');
  const started = Date.now();
  // --profile writes a V8 CPU profile of the processor to reports/profile/ (open it in Chrome DevTools).
  const profile = process.argv.includes('--profile') ? ['--cpu-prof', '--cpu-prof-dir=reports/profile'] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'processors/account/main.ts'], {
    env: { ...process.env, KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, BANK_TOPIC_PREFIX: prefix, APP_ID: appId, DATA_DIR: dataDir, BANK_PARTITIONS: String(base.partitions) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let lastTotals: Record<string, number> = {};
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (!line.includes('"msg":"progress"') && !line.includes('"msg":"stopped"')) continue;
      lastTotals = JSON.parse(line) as Record<string, number>;
    }
  });
  // Done when the group's committed offsets stop moving: trailing transaction markers (several
  // producers' commits interleave) mean "committed == end offset" is not a usable test.
  let peak = 0;
  let lastCommitted = -1;
  let lastChange = Date.now();
  for (;;) {
    if (Date.now() - started > benchTimeoutMs) throw new Error(`processor did not finish within ${benchTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (child.pid !== undefined) peak = Math.max(peak, peakRssMb(child.pid));
    const [committed] = await admin.fetchOffsets({ groupId: `${appId}.account`, topics: [topics.commands] });
    const total = committed?.partitions.reduce((n, p) => n + Math.max(0, Number(p.offset)), 0) ?? 0;
    if (total !== lastCommitted) {
      lastCommitted = total;
      lastChange = Date.now();
    }
    process.stdout.write(`\r${Math.round((Date.now() - started) / 1000)} s, committed offsets ${total}`);
    if (total > 0 && Date.now() - lastChange > quietMs) break;
  }
  const elapsedMs = lastChange - started;
  child.kill('SIGTERM');
  await new Promise((resolve) => child.on('exit', resolve));
  const processed = lastTotals.commands ?? 0;
  const transactions = lastTotals.transactions ?? 0;
  console.log('\n');
  console.log(`commands processed (incl. internal transfer commands): ${processed}`);
  console.log(`wall time from process start (incl. JVM-free startup, group join, restore): ${(elapsedMs / 1000).toFixed(1)} s`);
  console.log(`throughput: ${Math.round(processed / (elapsedMs / 1000))} commands/s`);
  console.log(`transactions: ${transactions}, commands per transaction: ${(processed / Math.max(1, transactions)).toFixed(0)}, mean transaction time (send+offsets+commit): ${((lastTotals.transactionMs ?? 0) / Math.max(1, transactions)).toFixed(1)} ms`);
  console.log(`accepted ${lastTotals.accepted}, rejected ${lastTotals.rejected}, dead-lettered ${lastTotals.deadLettered}`);
  console.log(`processor peak RSS: ${peak} MB`);
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: Error) => {
  console.error(`bench:processor failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
