// `npm run bench:query`: produces N events (default 1,000,000) into a fresh set of topics,
// starts the query processor from an empty store and measures how fast it rebuilds the views
// (events/s), then measures GET throughput and latency (p50/p99) of the balance, history and
// account-list routes, unfiltered and with DESIGN §11's filters (type, time range, asOf,
// owner-name prefix, currency, status, metadata), and an account's holds, all and by status,
// with keep-alive connections. A measurement, never a
// test: it asserts nothing.
// Options (flag or BENCH_<NAME>): --events, --accounts, --seconds, --concurrency, --threads,
// --history-limit, --port. BENCH_KEEP=1 keeps the topics; BENCH_PREFIX=<kept prefix> reuses them
// (same --events and --accounts) and skips producing.
import { benchApiKey, benchServiceEnv } from './bench-key.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Partitioners } from 'kafkajs';
import { endpoints, integerFromEnv, loadConfig } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { ensureTopics } from '../topics/admin.ts';
import { topicNames } from '../topics/topics.ts';
import { LedgerRegistry, createCodecs } from '../schemas/registry.ts';
import { createPartitionOf } from '../processors/query/stores.ts';
import { benchAccountId, benchEvents } from './bench-query-events.ts';
import { decodeResult, type LoadResult, type LoadSpec } from './bench-query-load.ts';

/** The bench gives up waiting for the rebuild after this long. */
const rebuildTimeoutMs = 30 * 60_000;
const warmupMs = 2000;

function argument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index >= 0 ? process.argv[index + 1] : undefined;
  const envName = `BENCH_${name.toUpperCase().replace(/-/g, '_')}`;
  return integerFromEnv(raw === undefined ? process.env : { [envName]: raw }, envName, fallback, 1, 100_000_000);
}

const options = {
  events: argument('events', 1_000_000),
  accounts: argument('accounts', 10_000),
  seconds: argument('seconds', 10),
  concurrency: argument('concurrency', 48),
  threads: argument('threads', 1),
  historyLimit: argument('history-limit', 20),
  port: argument('port', 18_081),
};

async function produce(prefix: string, partitions: number, brokers: string[], registryUrl: string): Promise<void> {
  const kafka = createKafka(brokers, 'bench-query-producer');
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), prefix, { register: true });
  const partitionOf = createPartitionOf(partitions);
  const producer = kafka.producer({ transactionalId: `bench-query-${Date.now()}`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const started = Date.now();
  let sent = 0;
  // One transaction per chunk, as the account processor commits a batch per transaction.
  for (const chunk of benchEvents({ events: options.events, accounts: options.accounts, seed: 11, chunk: 10_000 })) {
    const transaction = await producer.transaction();
    const messages = chunk.map((e) => ({ key: e.eventId, value: codecs.events.encode(e), partition: partitionOf(e.accountId) }));
    await transaction.send({ topic: topicNames(prefix).events, acks: -1, messages });
    await transaction.commit();
    sent += chunk.length;
    process.stdout.write(`\rproduced ${sent} of ${options.events} events`);
  }
  await producer.disconnect();
  console.log(` in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

interface RebuildStats {
  events: number;
  seconds: number;
}

/** Starts `npm run start:query`'s entry point and follows its JSON log until the views caught up. */
function startQuery(env: Record<string, string>): { child: ChildProcess; rebuilt: Promise<RebuildStats> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'processors/query/main.ts'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const rebuilt = new Promise<RebuildStats>((resolve, reject) => {
    let pending = '';
    const timer = setTimeout(() => reject(new Error(`rebuild did not finish within ${rebuildTimeoutMs} ms`)), rebuildTimeoutMs);
    child.once('exit', (code) => reject(new Error(`query processor exited with ${code} before the rebuild finished`)));
    child.stdout?.on('data', (data: Buffer) => {
      pending += data.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const entry = JSON.parse(line) as { msg: string; events?: number; seconds?: number; eventsPerSecond?: number; percent?: number };
        if (entry.msg === 'rebuilding views') process.stdout.write(`\rrebuilding: ${entry.percent}% at ${entry.eventsPerSecond} events/s      `);
        if (entry.msg === 'views caught up') {
          clearTimeout(timer);
          resolve({ events: entry.events ?? 0, seconds: entry.seconds ?? 0 });
        }
      }
    });
  });
  return { child, rebuilt };
}

async function waitReady(baseUrl: string): Promise<void> {
  for (;;) {
    const ok = await fetch(`${baseUrl}/ready`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs the load from `--threads` client processes at once (a client is one core at most). */
async function load(spec: LoadSpec): Promise<LoadResult[]> {
  const perProcess = { ...spec, concurrency: Math.max(1, Math.floor(spec.concurrency / options.threads)) };
  return Promise.all(
    Array.from({ length: options.threads }, () =>
      new Promise<LoadResult>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench-query-load.ts'], {
          env: { ...process.env, BENCH_LOAD_CLIENT: '1' },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        child.stdin.end(JSON.stringify(perProcess));
        let output = '';
        child.stdout.on('data', (data: Buffer) => (output += data.toString()));
        child.once('exit', (code) => (code === 0 ? resolve(decodeResult(output.trim())) : reject(new Error(`load client exited with ${code}`))));
      }),
    ),
  );
}

function summarize(name: string, results: LoadResult[], seconds: number): string {
  const latencies = new Float64Array(results.reduce((n, r) => n + r.latenciesUs.length, 0));
  let offset = 0;
  for (const r of results) latencies.set(r.latenciesUs, (offset += r.latenciesUs.length) - r.latenciesUs.length);
  latencies.sort();
  const at = (q: number) => ((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0) / 1000).toFixed(2);
  const requests = results.reduce((n, r) => n + r.requests, 0);
  const errors = results.reduce((n, r) => n + r.errors, 0);
  const statuses: Record<string, number> = {};
  for (const r of results) for (const [s, n] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + n;
  return `${name}: ${Math.round(requests / seconds)} GET/s, p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, max ${at(1)} ms (${requests} requests, ${errors} errors, statuses ${JSON.stringify(statuses)})`;
}

const listLimit = 100;

async function unfilteredRoutes(ids: string[]): Promise<Record<string, string[]>> {
  return {
    balance: ids.map((id) => `/api/v1/accounts/${id}/balance`),
    [`history (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/history?limit=${options.historyLimit}`),
    [`accounts (limit=${listLimit})`]: ids.slice(0, 200).map((id) => `/api/v1/accounts?limit=${listLimit}&cursor=${Buffer.from(JSON.stringify({ v: 1, after: id })).toString('base64url')}`),
  };
}

/**
 * DESIGN §11's filters, each next to the unfiltered route it narrows: a filtered page should cost
 * about what an unfiltered one does. The time window is the middle half of one account's history
 * (events are spread evenly in time, so about half of every account's). The last list case is the
 * worst one on purpose: a residual filter that matches nothing reads accountFilterScanKeysMax keys
 * per partition and answers a short page.
 */
async function filteredRoutes(baseUrl: string, ids: string[]): Promise<Record<string, string[]>> {
  // With the key, as every request of the bench (the route answered 401 without it, and the bench stopped here).
  const sample = (await (await fetch(`${baseUrl}/api/v1/accounts/${ids[0]}/history?limit=1000`, { headers: { authorization: `Bearer ${benchApiKey}` } })).json()) as { items: Array<{ occurredAt: string }> };
  const times = sample.items.map((e) => e.occurredAt).sort();
  const from = times[Math.floor(times.length / 4)] ?? times[0];
  const to = times[Math.floor((3 * times.length) / 4)] ?? times[times.length - 1];
  const customers = Array.from({ length: 200 }, (_, i) => `Bench%20customer%20${1 + ((i * 37) % Math.min(options.accounts, 999))}`);
  return {
    [`history ?type=MoneyDeposited (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/history?type=MoneyDeposited&limit=${options.historyLimit}`),
    [`history ?type=TransferDebited,TransferCredited (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/history?type=TransferDebited,TransferCredited&limit=${options.historyLimit}`),
    [`history ?from&to (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/history?from=${from}&to=${to}&limit=${options.historyLimit}`),
    'balance ?asOf': ids.map((id) => `/api/v1/accounts/${id}/balance?asOf=${from}`),
    [`accounts ?ownerName=<prefix> (limit=${listLimit})`]: customers.map((name) => `/api/v1/accounts?ownerName=${name}&limit=${listLimit}`),
    [`holds (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/holds?limit=${options.historyLimit}`),
    [`holds ?status=CAPTURED (limit=${options.historyLimit})`]: ids.map((id) => `/api/v1/accounts/${id}/holds?status=CAPTURED&limit=${options.historyLimit}`),
    [`accounts ?currency=EUR (limit=${listLimit})`]: [`/api/v1/accounts?currency=EUR&limit=${listLimit}`],
    [`accounts ?currency=EUR&status=CLOSED, matches none: worst case (limit=${listLimit})`]: [`/api/v1/accounts?currency=EUR&status=CLOSED&limit=${listLimit}`],
    [`accounts ?metadata.segment=retail, a quarter (limit=${listLimit})`]: [`/api/v1/accounts?metadata.segment=retail&limit=${listLimit}`],
    [`accounts ?metadata.crm.id=<one account> (limit=${listLimit})`]: customers.map((_, i) => `/api/v1/accounts?metadata.crm.id=crm-${(i * 37) % options.accounts}&limit=${listLimit}`),
  };
}

async function main(): Promise<void> {
  const base = loadConfig();
  const { brokers, registryUrl } = endpoints(base);
  const stamp = Date.now();
  const reused = process.env.BENCH_PREFIX;
  const prefix = reused ?? `bench.query.${stamp}.`;
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-query-'));
  const admin = createKafka(brokers, 'bench-query').admin();
  await admin.connect();
  let child: ChildProcess | undefined;
  try {
    await ensureTopics(admin, { prefix, partitions: base.partitions });
    console.log(`bench:query ${JSON.stringify(options)}, ${base.partitions} partitions, topics ${prefix}*`);
    if (reused === undefined) await produce(prefix, base.partitions, brokers, registryUrl);
    const baseUrl = `http://127.0.0.1:${options.port}`;
    const env = { KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, BANK_TOPIC_PREFIX: prefix, BANK_PARTITIONS: String(base.partitions) };
    const started = startQuery({ ...env, APP_ID: `bench-query-${stamp}`, DATA_DIR: dataDir, QUERY_HOST: '127.0.0.1', QUERY_PORT: String(options.port), ...benchServiceEnv });
    child = started.child;
    const rebuild = await started.rebuilt;
    await waitReady(baseUrl);
    const rebuildLine = `rebuild: ${rebuild.events} events in ${rebuild.seconds.toFixed(1)} s = ${Math.round(rebuild.events / rebuild.seconds)} events/s (from partition assignment to caught up)`;
    console.log(`\n${rebuildLine}`);
    const ids = Array.from({ length: Math.min(options.accounts, 2000) }, (_, i) => benchAccountId(11, (i * 7919) % options.accounts));
    const routes = { ...(await unfilteredRoutes(ids)), ...(await filteredRoutes(baseUrl, ids)) };
    const lines = [rebuildLine];
    for (const [name, paths] of Object.entries(routes)) {
      await load({ baseUrl, paths, concurrency: options.concurrency, durationMs: warmupMs });
      const results = await load({ baseUrl, paths, concurrency: options.concurrency, durationMs: options.seconds * 1000 });
      lines.push(summarize(name, results, options.seconds));
      console.log(lines[lines.length - 1]);
    }
    console.log(`\nsummary (${options.concurrency} connections, ${options.threads} client thread(s), ${options.seconds} s per route):\n  ${lines.join('\n  ')}`);
  } finally {
    child?.kill('SIGTERM');
    if (child !== undefined && child.exitCode === null) await new Promise((resolve) => child?.once('exit', resolve));
    if (process.env.BENCH_KEEP !== '1' && reused === undefined) await admin.deleteTopics({ topics: Object.values(topicNames(prefix)) }).catch(() => undefined);
    await admin.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`bench:query failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
