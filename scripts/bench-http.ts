// `npm run bench:http`: the gateway under load, end to end. Boots the account processor and the
// gateway on fresh topics against the running stack (embedded, or KAFKA_BROKERS +
// SCHEMA_REGISTRY_URL), opens accounts through the API, then drives deposits, withdrawals and
// transfers from a separate load generator process: closed loop at --concurrency (saturation),
// open loop at --rate R, or --rate half (saturate, then half the measured rate). Reports
// requests/s, latency percentiles for accepted and rejected commands, status counts, errors and
// the CPU split of every process; writes reports/bench-http.json. A measurement, never a test.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../topics/config.ts';
import { stackStatus } from './stack/index.ts';
import { cpuSnapshot, cpuSplit, type CpuSnapshot, type CpuSplit } from './bench-http/cpu.ts';
import { bootLedger, openAccounts, type BenchLedger } from './bench-http/ledger.ts';
import type { LoadProgress, LoadResult } from './bench-http/load-generator.ts';
import { parseOptions, UsageError, type BenchOptions, type LoadPlan } from './bench-http/options.ts';
import { formatSelfTime, newestProfile, selfTimeByOwner, topSelfTime, type SelfTime } from './bench-http/profile-summary.ts';
import { formatIdle, formatPhase, phaseReport, type PhaseReport } from './bench-http/report.ts';
import { processorPhases, producerRequestsPerSecond, scrapeProcessor } from './bench-http/processor-phases.ts';

const generatorScript = fileURLToPath(new URL('./bench-http/load-generator.ts', import.meta.url));
const profileDirs = { gateway: 'reports/profile-gateway', processor: 'reports/profile-processor' };
const logFile = 'reports/bench-http.log';
/** A request the gateway has not answered by then is an error: its own bound is COMMAND_TIMEOUT_MS (5 s). */
const requestTimeoutMs = 15_000;
/** The embedded stack's pids are refreshed this often (for the CPU split). */
const stackPidRefreshMs = 2000;
/** Without a TTY, a progress line this often. */
const progressLineIntervalMs = 5000;

const say = (line: string): void => void process.stderr.write(`[bench:http] ${line}\n`);

let ledger: BenchLedger | undefined;
let generator: ChildProcess | undefined;

function renderProgress(options: BenchOptions, phase: string, startedAt: number): (p: LoadProgress) => void {
  const totalSeconds = options.warmupSeconds + options.durationSeconds;
  let lastLineAt = Date.now();
  let lastCompleted = 0;
  let lastAt = Date.now();
  return (p) => {
    const now = Date.now();
    const elapsed = (now - startedAt) / 1000;
    const rate = Math.round(((p.completed - lastCompleted) * 1000) / Math.max(1, now - lastAt));
    lastCompleted = p.completed;
    lastAt = now;
    const status = `${phase} ${p.measuring ? 'measuring' : 'warming up'} ${elapsed.toFixed(0)}/${totalSeconds} s  ${rate} req/s  ` +
      `ok ${p.accepted}  rejected ${p.rejected}  errors ${p.errors}  in flight ${p.inFlight}`;
    if (process.stderr.isTTY) {
      const width = 30;
      const filled = Math.min(width, Math.round((elapsed / totalSeconds) * width));
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${status}\x1b[K`);
    } else if (now - lastLineAt >= progressLineIntervalMs) {
      lastLineAt = now;
      say(status);
    }
  };
}

/** Runs one load phase in a forked generator; CPU is sampled over its measured window. */
function runPhase(plan: LoadPlan, options: BenchOptions, name: string, pids: () => Record<string, number | undefined>): Promise<{ result: LoadResult; cpu: CpuSplit | undefined }> {
  return new Promise((resolve, reject) => {
    const child = fork(generatorScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    generator = child;
    const progress = renderProgress(options, name, Date.now());
    let before: CpuSnapshot | undefined;
    let done = false;
    const allPids = () => ({ ...pids(), 'load generator': child.pid });
    child.on('message', (message: LoadProgress | LoadResult | { type: 'measuring' }) => {
      if (message.type === 'measuring') before = cpuSnapshot(allPids());
      else if (message.type === 'progress') progress(message);
      else {
        done = true;
        const cpu = before === undefined ? undefined : cpuSplit(before, cpuSnapshot(allPids()));
        if (process.stderr.isTTY) process.stderr.write('\n');
        resolve({ result: message, cpu });
      }
    });
    child.on('exit', (code, signal) => {
      generator = undefined;
      if (!done) reject(new Error(`the load generator exited (${code ?? signal}) before reporting`));
    });
    child.send(plan);
  });
}

function planFor(options: BenchOptions, baseUrl: string, accounts: string[], rate: number | undefined, phase: number): LoadPlan {
  return {
    baseUrl,
    accounts,
    mix: options.mix,
    concurrency: options.concurrency,
    rate,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: options.durationSeconds * 1000,
    requests: options.requests,
    amountMax: options.amountMax,
    requestTimeoutMs,
    seed: 1000 + phase,
    keyPrefix: `bench-${Date.now().toString(36)}-${phase}-`,
  };
}

async function scrapeMetrics(baseUrl: string): Promise<string | undefined> {
  const response = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
  return response?.ok === true ? response.text() : undefined;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const external = loadConfig().brokers !== undefined;
  let stack = external ? undefined : await stackStatus();
  // The broker's pid is looked up again now and then: it may be restarted under the bench.
  const stackWatch = setInterval(() => void stackStatus().then((status) => (stack = status), () => {}), stackPidRefreshMs);
  stackWatch.unref();
  if (stack !== undefined && !stack.kafka.running) throw new Error('the embedded stack is not running: `npm run stack -- start` (or set KAFKA_BROKERS and SCHEMA_REGISTRY_URL)');
  mkdirSync(dirname(options.output), { recursive: true });
  const booted = await bootLedger({ gatewayPort: options.gatewayPort, profileDirs: options.profile ? profileDirs : undefined, logFile, say });
  ledger = booted;
  const pids = () => ({
    gateway: booted.gateway.child?.pid,
    processor: booted.processor.child?.pid,
    'kafka broker': stack?.kafka.pid,
    'schema registry': stack?.registry.pid,
    'bench (orchestrator, service logs)': process.pid,
  });
  const openedAt = Date.now();
  const accounts = await openAccounts(booted.baseUrl, options.accounts, options.initialBalance, booted.prefix);
  say(`${accounts.length} accounts open (${options.initialBalance} cents each) in ${((Date.now() - openedAt) / 1000).toFixed(1)} s`);

  let idle: { cpu: CpuSplit; requestsPerSecond: Record<string, number> } | undefined;
  if (options.idleSeconds > 0) {
    say(`idle: ${options.idleSeconds} s with the services up and no requests`);
    const [metricsBefore, cpuBefore] = [await scrapeProcessor(booted.processorMetricsUrl), cpuSnapshot(pids())];
    await new Promise((resolve) => setTimeout(resolve, options.idleSeconds * 1000));
    const cpu = cpuSplit(cpuBefore, cpuSnapshot(pids()));
    idle = { cpu, requestsPerSecond: producerRequestsPerSecond(metricsBefore, await scrapeProcessor(booted.processorMetricsUrl), cpu.windowSeconds) };
  }

  const phases: PhaseReport[] = [];
  const firstRate = typeof options.rate === 'number' ? options.rate : undefined;
  say(`${firstRate === undefined ? `closed loop at concurrency ${options.concurrency}` : `open loop at ${firstRate} req/s`}: ${options.warmupSeconds} s warmup, ${options.requests === undefined ? `${options.durationSeconds} s` : `${options.requests} requests (at most ${options.durationSeconds} s)`}`);
  const beforeFirst = await scrapeProcessor(booted.processorMetricsUrl);
  const first = await runPhase(planFor(options, booted.baseUrl, accounts, firstRate, 0), options, firstRate === undefined ? 'saturate' : 'rate', pids);
  const afterFirst = await scrapeProcessor(booted.processorMetricsUrl);
  phases.push(phaseReport(firstRate === undefined ? 'saturation' : `rate ${firstRate}/s`, first.result, options.concurrency, firstRate, first.cpu, processorPhases(beforeFirst, afterFirst)));
  if (options.rate === 'half') {
    const half = Math.max(1, Math.round((phases[0]?.answeredPerSecond ?? 2) / 2));
    say(`open loop at half the saturating rate: ${half} req/s`);
    const second = await runPhase(planFor(options, booted.baseUrl, accounts, half, 1), options, 'half', pids);
    phases.push(phaseReport(`half rate ${half}/s`, second.result, options.concurrency, half, second.cpu, processorPhases(afterFirst, await scrapeProcessor(booted.processorMetricsUrl))));
  }
  const metrics = await scrapeMetrics(booted.baseUrl);
  if (metrics !== undefined) writeFileSync('reports/bench-http-metrics.txt', metrics);
  say('stopping the services and deleting the bench topics');
  await booted.stop();
  const profiles: Record<string, { file: string; byOwner: SelfTime[]; top: SelfTime[] }> = {};
  for (const [service, directory] of Object.entries(options.profile ? profileDirs : {})) {
    const file = newestProfile(directory);
    if (file !== undefined) profiles[service] = { file, byOwner: selfTimeByOwner(file), top: topSelfTime(file, 25) };
  }

  const report = {
    at: new Date().toISOString(),
    host: { cores: availableParallelism(), node: process.version },
    options,
    prefix: booted.prefix,
    accounts: accounts.length,
    ...(idle === undefined ? {} : { idle }),
    phases,
    incidents: Object.fromEntries(booted.incidents),
    ...(metrics === undefined ? {} : { gatewayMetrics: 'reports/bench-http-metrics.txt' }),
    ...(Object.keys(profiles).length === 0 ? {} : { profiles }),
  };
  writeFileSync(options.output, `${JSON.stringify(report, null, 2)}\n`);
  console.log('');
  if (idle !== undefined) console.log(`${formatIdle(idle.cpu, idle.requestsPerSecond)}\n`);
  for (const phase of phases) console.log(`${formatPhase(phase)}\n`);
  for (const [service, profile] of Object.entries(profiles)) {
    console.log(`${service} CPU profile ${profile.file} (open in Chrome DevTools), self time by owner:\n${formatSelfTime(profile.byOwner.slice(0, 10))}`);
    console.log(`${service}: top functions by self time:\n${formatSelfTime(profile.top)}\n`);
  }
  if (booted.incidents.size > 0) {
    const lines = [...booted.incidents].map(([message, count]) => `${String(count).padStart(7)}  ${message.slice(0, 160)}`);
    console.log(`service warnings and errors (count, message):\n${lines.join('\n')}\n`);
  }
  console.log(`written ${options.output} (service logs: ${logFile})`);
}

let aborting = false;

async function abort(reason: string, code: number): Promise<void> {
  if (aborting) return;
  aborting = true;
  say(`stopping (${reason})`);
  generator?.kill('SIGKILL');
  await ledger?.stop();
  process.exit(code);
}

// `on`, not `once`: Ctrl-C reaches us twice (from the terminal and relayed by tsx), and a second
// signal without a handler would kill the bench before it deletes its topics.
process.on('SIGINT', () => void abort('SIGINT', 130));
process.on('SIGTERM', () => void abort('SIGTERM', 143));
process.on('exit', () => {
  // Last resort (an exception path that skipped stop()): never leave children behind.
  generator?.kill('SIGKILL');
  ledger?.gateway.child?.kill('SIGKILL');
  ledger?.processor.child?.kill('SIGKILL');
});

main().catch(async (error: Error) => {
  if (error instanceof UsageError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  await abort(`failed: ${error.stack ?? error.message}`, 1);
});
