// `npm run chaos -- --runs N [--duration S] [--seed N] [--json] …`: the fault campaign, in the
// spirit of TigerBeetle's VOPR. Each run drives HTTP load through the gateway while a schedule
// drawn from the seed strikes: SIGKILL and SIGSTOP/SIGCONT of every service, processor restarts
// armed with a named crash point, processor instances joining and leaving (rebalances among 2–3),
// and broker restarts; then it checks the ledger's invariants and that every answer the clients
// got is true of the ledger. The schedule is printed before each run; a seed replays it.
// Exit 0: no violation; 1: at least one violation; 2: a run could not be carried out (and none
// found a violation).
import { parseArgs } from 'node:util';
import { loadConfig } from '../topics/config.ts';
import { campaignTotals, formatRun, formatTotalsLine } from './chaos/report.ts';
import { describePlan } from './chaos/plan.ts';
import { planFor, runOnce, type RunOptions, type RunReport } from './chaos/run.ts';
import { stopRunningServices } from './chaos/services.ts';

const usage = `usage: npm run chaos -- [options]
  --runs N               runs (1)
  --duration S           seconds of load per run (60)
  --seed N               seed of the load and the fault schedule (from the clock; printed)
  --clients N            concurrent clients (6)
  --partitions N         partitions of each run's topics (4)
  --kills N              SIGKILLs per service per run (2; the processor's fall on its instances)
  --stops N              SIGSTOP/SIGCONT freezes per service per run (1)
  --crash-points N       restarts armed with a seeded crash point per run (1)
  --rebalances N         processor instances added or removed per run (2; 1–3 instances)
  --broker-restarts N    broker restarts per run (1; skipped when KAFKA_BROKERS is set)
  --broker-stop MODE     graceful | kill | alternate (alternate: clean stop, then SIGKILL, …)
  --no-broker-restart    never restart the broker
  --no-query             run without the query processor
  --run N                only run N of the campaign (replays its schedule: give the same seed and options)
  --plan                 print every run's schedule and exit
  --keep                 keep every run's topics and data (failed runs are always kept)
  --verbose              echo the services' logs
  --json                 print the report as JSON`;

const limits = { runs: 1000, durationSeconds: 3600, clients: 64, partitions: 64, kills: 20, stops: 20, crashPoints: 20, rebalances: 20, brokerRestarts: 10 };

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
      kills: { type: 'string' }, stops: { type: 'string' }, 'crash-points': { type: 'string' }, rebalances: { type: 'string' }, run: { type: 'string' }, plan: { type: 'boolean', default: false }, 'broker-restarts': { type: 'string' }, 'broker-stop': { type: 'string' }, 'no-broker-restart': { type: 'boolean', default: false },
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
    onlyRun: values.run === undefined ? undefined : integer(values.run, 1, 'run', limits.runs),
    planOnly: values.plan,
    durationMs: integer(values.duration, 60, 'duration', limits.durationSeconds) * 1000,
    seed: integer(values.seed, Date.now() % 1_000_000, 'seed', Number.MAX_SAFE_INTEGER, 0),
    clients: integer(values.clients, 6, 'clients', limits.clients),
    partitions: integer(values.partitions, 4, 'partitions', limits.partitions),
    killsPerService: integer(values.kills, 2, 'kills', limits.kills, 0),
    stopsPerService: integer(values.stops, 1, 'stops', limits.stops, 0),
    crashPoints: integer(values['crash-points'], 1, 'crash-points', limits.crashPoints, 0),
    rebalances: integer(values.rebalances, 2, 'rebalances', limits.rebalances, 0),
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

type Options = ReturnType<typeof parse>;

/** The command that replays run `run` of this campaign: same seed, same schedule-shaping options. */
function replayCommand(options: Options, run: number): string {
  const flags = [`--seed ${options.seed}`, `--run ${run}`, `--duration ${options.durationMs / 1000}`, `--kills ${options.killsPerService}`, `--stops ${options.stopsPerService}`, `--crash-points ${options.crashPoints}`, `--rebalances ${options.rebalances}`, `--broker-restarts ${options.brokerRestarts}`, `--broker-stop ${options.brokerStop}`, `--partitions ${options.partitions}`, `--clients ${options.clients}`];
  if (!options.withQuery) flags.push('--no-query');
  return `npm run chaos -- ${flags.join(' ')}`;
}

function runNumbers(options: Options): number[] {
  if (options.onlyRun === undefined) return Array.from({ length: options.runs }, (_, i) => i + 1);
  return [options.onlyRun];
}

async function main(): Promise<number> {
  const options = parse();
  if (options.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (options.planOnly) {
    // The broker is restarted only when it is ours (KAFKA_BROKERS unset), and the schedule says so.
    const brokerRestarts = loadConfig().brokers === undefined ? options.brokerRestarts : 0;
    const plans = runNumbers(options).map((run) => ({ run, schedule: describePlan(planFor({ ...options, run, brokerRestarts })) }));
    if (options.json) process.stdout.write(`${JSON.stringify({ seed: options.seed, plans }, null, 2)}\n`);
    else for (const { run, schedule } of plans) process.stdout.write(`run ${run}:\n${schedule.map((l) => `  ${l}`).join('\n')}\n`);
    return 0;
  }
  // With --json, progress goes to stderr so stdout is the report alone.
  const say = (line: string) => (options.json ? process.stderr : process.stdout).write(`[chaos] ${line}\n`);
  const { brokers, registryUrl, restartBroker, brokerNote } = await stack(say, options.brokerRestarts > 0);
  say(`seed ${options.seed}: ${options.onlyRun === undefined ? `${options.runs} run(s)` : `run ${options.onlyRun} only`} of ${options.durationMs / 1000} s, ${options.clients} clients; per run ${options.killsPerService} kill(s) and ${options.stopsPerService} freeze(s) per service, ${options.crashPoints} crash point(s), ${options.rebalances} rebalance(s)${brokerNote ? `; broker ${brokerNote}` : `, ${options.brokerRestarts} broker restart(s) (${options.brokerStop})`}`);
  const runs: RunReport[] = [];
  for (const run of runNumbers(options)) {
    const report = await runOnce({ ...options, run, brokers, registryUrl, restartBroker, say });
    runs.push(report);
    if (!options.json) process.stdout.write(`${formatRun(report, brokerNote).join('\n')}\n`);
  }
  const totals = campaignTotals(runs);
  const replay = runs.filter((r) => r.violationCount > 0 || r.operationalError !== undefined).map((r) => replayCommand(options, r.run));
  if (options.json) process.stdout.write(`${JSON.stringify({ ok: totals.failedRuns === 0, seed: options.seed, brokerNote: brokerNote ?? null, totals, replay, runs }, null, 2)}\n`);
  else process.stdout.write(`${[...formatTotalsLine(totals), ...replay.map((c) => `  replay: ${c}`)].join('\n')}\n`);
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
