// `npm run chaos -- --runs N [--duration S] [--seed N] [--json] …`: the fault campaign. Each run
// drives HTTP load through the gateway while the processor, the gateway and the query processor
// are SIGKILLed at seeded random moments and the embedded broker is restarted; then it checks the
// ledger's invariants and that every answer the clients got is true of the ledger.
// Exit 0: no violation; 1: at least one violation; 2: a run could not be carried out (and none
// found a violation).
import { parseArgs } from 'node:util';
import { loadConfig } from '../topics/config.ts';
import { campaignTotals, formatRun, formatTotalsLine } from './chaos/report.ts';
import { runOnce, type RunOptions, type RunReport } from './chaos/run.ts';
import { stopRunningServices } from './chaos/services.ts';

const usage = `usage: npm run chaos -- [options]
  --runs N               runs (1)
  --duration S           seconds of load per run (60)
  --seed N               seed of the load and the fault schedule (from the clock; printed)
  --clients N            concurrent clients (6)
  --partitions N         partitions of each run's topics (4)
  --kills N              SIGKILLs per service per run (2)
  --broker-restarts N    broker restarts per run (1; skipped when KAFKA_BROKERS is set)
  --broker-stop MODE     graceful | kill | alternate (alternate: clean stop, then SIGKILL, …)
  --no-broker-restart    never restart the broker
  --no-query             run without the query processor
  --keep                 keep every run's topics and data (failed runs are always kept)
  --verbose              echo the services' logs
  --json                 print the report as JSON`;

const limits = { runs: 1000, durationSeconds: 3600, clients: 64, partitions: 64, kills: 20, brokerRestarts: 10 };

function integer(value: string | undefined, fallback: number, name: string, max: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${value}`);
  return n;
}

function parse() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' }, duration: { type: 'string' }, seed: { type: 'string' }, clients: { type: 'string' }, partitions: { type: 'string' },
      kills: { type: 'string' }, 'broker-restarts': { type: 'string' }, 'broker-stop': { type: 'string' }, 'no-broker-restart': { type: 'boolean', default: false },
      'no-query': { type: 'boolean', default: false }, keep: { type: 'boolean', default: false }, verbose: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false },
    },
  });
  const brokerStop = values['broker-stop'] ?? 'alternate';
  if (brokerStop !== 'graceful' && brokerStop !== 'kill' && brokerStop !== 'alternate') throw new Error(`--broker-stop must be graceful, kill or alternate, got ${brokerStop}`);
  return {
    help: values.help,
    json: values.json,
    runs: integer(values.runs, 1, 'runs', limits.runs),
    durationMs: integer(values.duration, 60, 'duration', limits.durationSeconds) * 1000,
    seed: integer(values.seed, Date.now() % 1_000_000, 'seed', Number.MAX_SAFE_INTEGER, 0),
    clients: integer(values.clients, 6, 'clients', limits.clients),
    partitions: integer(values.partitions, 4, 'partitions', limits.partitions),
    killsPerService: integer(values.kills, 2, 'kills', limits.kills, 0),
    brokerRestarts: values['no-broker-restart'] ? 0 : integer(values['broker-restarts'], 1, 'broker-restarts', limits.brokerRestarts, 0),
    brokerStop: brokerStop as RunOptions['brokerStop'],
    withQuery: !values['no-query'],
    keep: values.keep,
    verbose: values.verbose,
  };
}

/** The broker and registry, and who may restart the broker: only the embedded stack's is ours. */
async function stack(say: (line: string) => void, wantRestarts: boolean) {
  const config = loadConfig();
  if (config.brokers !== undefined) {
    if (config.registryUrl === undefined) throw new Error('KAFKA_BROKERS is set but SCHEMA_REGISTRY_URL is not: set both, or neither for the embedded stack');
    return { brokers: config.brokers, registryUrl: config.registryUrl, restartBroker: undefined, brokerNote: wantRestarts ? 'not restarted: KAFKA_BROKERS names a broker that is not ours to restart' : 'not restarted (--no-broker-restart)' };
  }
  const { ensureStack, restartKafka } = await import('./stack/index.ts');
  const endpoints = await ensureStack({ log: say });
  const restartBroker = wantRestarts ? (hard: boolean) => restartKafka({ hard, log: (line) => say(`  [stack] ${line}`) }) : undefined;
  return { brokers: endpoints.brokers.split(','), registryUrl: endpoints.registryUrl, restartBroker, brokerNote: wantRestarts ? undefined : 'not restarted (--no-broker-restart)' };
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  // With --json, progress goes to stderr so stdout is the report alone.
  const say = (line: string) => (options.json ? process.stderr : process.stdout).write(`[chaos] ${line}\n`);
  const { brokers, registryUrl, restartBroker, brokerNote } = await stack(say, options.brokerRestarts > 0);
  say(`seed ${options.seed}: ${options.runs} run(s) of ${options.durationMs / 1000} s, ${options.clients} clients, ${options.killsPerService} kill(s) per service${brokerNote ? `; broker ${brokerNote}` : `, ${options.brokerRestarts} broker restart(s) (${options.brokerStop})`}`);
  const runs: RunReport[] = [];
  for (let run = 1; run <= options.runs; run += 1) {
    const report = await runOnce({ ...options, run, brokers, registryUrl, restartBroker, say });
    runs.push(report);
    if (!options.json) process.stdout.write(`${formatRun(report, brokerNote).join('\n')}\n`);
  }
  const totals = campaignTotals(runs);
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: totals.failedRuns === 0, seed: options.seed, brokerNote: brokerNote ?? null, totals, runs }, null, 2)}\n`);
  else process.stdout.write(`${formatTotalsLine(totals).join('\n')}\n`);
  // A broken invariant outranks a run that could not be carried out.
  if (totals.violationCount > 0) return 1;
  return totals.operationalErrors > 0 ? 2 : 0;
}

// Interrupted: no service of a run may outlive the campaign (the run's topics and data are kept).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`chaos: ${signal}: stopping the services of the current run\n`);
    void stopRunningServices().finally(() => process.exit(2));
  });
}

try {
  process.exit(await main());
} catch (error) {
  process.stderr.write(`chaos: ${(error as Error).message}\n`);
  process.exit(2);
}
