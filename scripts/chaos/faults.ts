// The faults of one run, planned up front from the seeded PRNG so a seed replays the same
// schedule: SIGKILLs of the processor, the gateway and the query processor at random moments of
// the load, and broker restarts (the embedded stack's Kafka process alone, stopped and started
// again on the same data dir) in the middle of it.
import type { KafkaRestart } from '../stack/index.ts';
import type { ChaosService, ServiceName } from './services.ts';

/** Kills fall in this share of the load's duration: not before the load runs, not during settling. */
const killWindow = [0.1, 0.85] as const;
const brokerWindow = [0.25, 0.6] as const;
/** Two kills of one service at least this far apart, so the first restart can get somewhere. */
const killSpacingMinMs = 3000;

export type FaultKind = 'kill' | 'broker-restart';

export interface PlannedFault {
  atMs: number;
  kind: FaultKind;
  service?: ServiceName;
  /** For a broker restart: SIGKILL instead of a clean shutdown. */
  hard?: boolean;
}

export interface FaultPlanOptions {
  durationMs: number;
  services: ServiceName[];
  killsPerService: number;
  brokerRestarts: number;
  /** How the broker is stopped: by SIGTERM, SIGKILL, or alternating over the campaign (first clean). */
  brokerStop: 'graceful' | 'kill' | 'alternate';
  /** Broker restarts of the campaign's earlier runs, so alternation continues across runs. */
  earlierBrokerRestarts?: number;
}

export function planFaults(random: () => number, options: FaultPlanOptions): PlannedFault[] {
  const plan: PlannedFault[] = [];
  const within = ([from, to]: readonly [number, number]) => Math.round(options.durationMs * (from + random() * (to - from)));
  for (const service of options.services) {
    const times = Array.from({ length: options.killsPerService }, () => within(killWindow)).sort((a, b) => a - b);
    for (let i = 1; i < times.length; i += 1) times[i] = Math.max(times[i] as number, (times[i - 1] as number) + killSpacingMinMs);
    for (const atMs of times) plan.push({ atMs, kind: 'kill', service });
  }
  const [from, to] = brokerWindow;
  const span = (to - from) / Math.max(1, options.brokerRestarts);
  for (let i = 0; i < options.brokerRestarts; i += 1) {
    const hard = options.brokerStop === 'kill' || (options.brokerStop === 'alternate' && ((options.earlierBrokerRestarts ?? 0) + i) % 2 === 1);
    plan.push({ atMs: within([from + i * span, from + (i + 1) * span]), kind: 'broker-restart', hard });
  }
  return plan.sort((a, b) => a.atMs - b.atMs);
}

export interface FaultEvent {
  atMs: number;
  what: string;
}

export interface FaultLog {
  events: FaultEvent[];
  kills: Record<ServiceName, number>;
  brokerRestarts: number;
  /** How long the broker was down each time. */
  brokerDownMs: number[];
  /** Faults that could not be carried out (an operational failure of the run). */
  errors: string[];
}

export interface FaultContext {
  services: ChaosService[];
  startMs: number;
  /** Undefined when the broker is not ours to restart. */
  restartBroker: ((hard: boolean) => Promise<KafkaRestart>) | undefined;
  say: (line: string) => void;
}

async function sleepUntil(ms: number): Promise<void> {
  const delay = ms - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
}

/** Carries out the plan; faults overlap freely (a kill may land while the broker is down). */
export async function runFaults(plan: PlannedFault[], context: FaultContext): Promise<FaultLog> {
  const log: FaultLog = { events: [], kills: { processor: 0, gateway: 0, query: 0 }, brokerRestarts: 0, brokerDownMs: [], errors: [] };
  const note = (what: string) => {
    const atMs = Date.now() - context.startMs;
    log.events.push({ atMs, what });
    context.say(`${(atMs / 1000).toFixed(1).padStart(6)} s  ${what}`);
  };
  await Promise.all(plan.map(async (fault) => {
    await sleepUntil(context.startMs + fault.atMs);
    if (fault.kind === 'kill') {
      const service = context.services.find((s) => s.name === fault.service);
      if (service === undefined) return;
      if (!service.process.running) {
        note(`${service.name} not running (restarting): kill skipped`);
        return;
      }
      service.process.crash();
      service.kills += 1;
      log.kills[service.name] += 1;
      note(`SIGKILL ${service.name} (pid ${service.process.child?.pid})`);
      return;
    }
    if (context.restartBroker === undefined) return;
    note(`broker: ${fault.hard ? 'SIGKILL' : 'clean stop'} and restart`);
    try {
      const restart = await context.restartBroker(fault.hard ?? false);
      log.brokerRestarts += 1;
      log.brokerDownMs.push(restart.downMs);
      note(`broker back after ${(restart.downMs / 1000).toFixed(1)} s (stopped in ${(restart.stopMs / 1000).toFixed(1)} s)`);
    } catch (error) {
      log.errors.push(`broker restart failed: ${(error as Error).message}`);
      note(`broker restart FAILED: ${(error as Error).message}`);
    }
  }));
  return log;
}
