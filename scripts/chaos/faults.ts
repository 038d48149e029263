// Carries out one run's fault schedule (plan.ts) against its services and the broker, on the
// clock of the load, and counts what was injected: a fault whose target is not running at its
// moment (restarting after another fault, or removed) is skipped and said so, never moved.
import fs from 'node:fs';
import path from 'node:path';
import type { KafkaRestart } from '../stack/index.ts';
import { crashPointVariable } from '../../processors/crash-points.ts';
import { describeFault, type PlannedFault, type RunPlan } from './plan.ts';
import type { RunServices } from './services.ts';

export interface FaultCounts {
  kill: number;
  stop: number;
  /** Restarts armed with a crash point, by point. */
  crashPointArmed: Record<string, number>;
  /** Processes that died at their armed crash point, by point (from their last line). */
  crashPointReached: Record<string, number>;
  brokerRestart: number;
  instanceAdded: number;
  instanceRemoved: number;
  /** Planned faults not carried out because the target was not running then. */
  skipped: number;
}

export const noFaults = (): FaultCounts => ({ kill: 0, stop: 0, crashPointArmed: {}, crashPointReached: {}, brokerRestart: 0, instanceAdded: 0, instanceRemoved: 0, skipped: 0 });

export interface FaultEvent {
  atMs: number;
  what: string;
}

export interface FaultLog {
  events: FaultEvent[];
  counts: FaultCounts;
  /** How long the broker was down each time. */
  brokerDownMs: number[];
  /** Faults that could not be carried out (an operational failure of the run). */
  errors: string[];
}

export interface FaultContext {
  services: RunServices;
  startMs: number;
  /** Undefined when the broker is not ours to restart. */
  restartBroker: ((hard: boolean) => Promise<KafkaRestart>) | undefined;
  say: (line: string) => void;
}

async function sleepUntil(ms: number): Promise<void> {
  const delay = ms - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
}

async function strike(fault: PlannedFault, context: FaultContext, log: FaultLog, note: (what: string) => void): Promise<void> {
  const { services } = context;
  const counts = log.counts;
  if (fault.kind === 'broker-restart') {
    if (context.restartBroker === undefined) return;
    note(describeFault(fault).trim());
    try {
      const restart = await context.restartBroker(fault.hard);
      counts.brokerRestart += 1;
      log.brokerDownMs.push(restart.downMs);
      note(`broker back after ${(restart.downMs / 1000).toFixed(1)} s (stopped in ${(restart.stopMs / 1000).toFixed(1)} s)`);
    } catch (error) {
      log.errors.push(`broker restart failed: ${(error as Error).message}`);
      note(`broker restart FAILED: ${(error as Error).message}`);
    }
    return;
  }
  if (fault.kind === 'add-instance') {
    services.start(fault.target);
    counts.instanceAdded += 1;
    note(`started ${fault.target} (rebalance)`);
    return;
  }
  const service = services.get(fault.target);
  if (fault.kind === 'remove-instance') {
    if (service === undefined) return;
    note(`stopping ${fault.target} with SIGTERM (rebalance)`);
    await services.remove(fault.target);
    counts.instanceRemoved += 1;
    return;
  }
  // An armed restart of a service that is restarting already arms that restart.
  if (service === undefined || (!service.process.running && fault.kind !== 'crash-point')) {
    counts.skipped += 1;
    note(`${fault.target} not running: ${fault.kind} skipped`);
    return;
  }
  const pid = service.process.child?.pid;
  if (fault.kind === 'kill') {
    service.process.crash();
    counts.kill += 1;
    note(`SIGKILL ${fault.target} (pid ${pid})`);
  } else if (fault.kind === 'stop') {
    const child = service.process.child;
    service.process.freeze();
    service.frozen = true;
    counts.stop += 1;
    note(`SIGSTOP ${fault.target} (pid ${pid}) for ${(fault.forMs / 1000).toFixed(1)} s`);
    await new Promise((resolve) => setTimeout(resolve, fault.forMs));
    service.frozen = false;
    // Killed or restarted meanwhile: the new child was never frozen.
    if (service.process.child !== child || !service.process.running) return;
    service.process.thaw();
    note(`SIGCONT ${fault.target} (pid ${pid})`);
  } else {
    const setting = `${fault.point}:${fault.visit}`;
    // A lost store: the restarted instance must restore its partitions from the changelogs.
    const prepare = fault.point === 'mid-restore' ? () => fs.rmSync(path.join(services.dataDirOf(fault.target), 'account'), { recursive: true, force: true }) : undefined;
    service.process.restartWith({ [crashPointVariable]: setting }, prepare);
    counts.crashPointArmed[fault.point] = (counts.crashPointArmed[fault.point] ?? 0) + 1;
    note(`restarting ${fault.target} (pid ${pid}) with ${crashPointVariable}=${setting}${prepare ? ', its store wiped' : ''}`);
  }
}

/** Carries out the plan; faults overlap freely (a kill may land while the broker is down or on a frozen process). */
export async function runFaults(plan: RunPlan, context: FaultContext): Promise<FaultLog> {
  const log: FaultLog = { events: [], counts: noFaults(), brokerDownMs: [], errors: [] };
  const note = (what: string) => {
    const atMs = Date.now() - context.startMs;
    log.events.push({ atMs, what });
    context.say(`${(atMs / 1000).toFixed(1).padStart(6)} s  ${what}`);
  };
  await Promise.all(plan.faults.map(async (fault) => {
    await sleepUntil(context.startMs + fault.atMs);
    await strike(fault, context, log, note).catch((error: Error) => {
      log.errors.push(`${describeFault(fault).trim()}: ${error.message}`);
    });
  }));
  return log;
}

/** Crash points reached, read off every service of the run once it is over. */
export function countCrashes(services: RunServices, counts: FaultCounts): void {
  for (const service of services.started) for (const point of service.crashedAt) counts.crashPointReached[point] = (counts.crashPointReached[point] ?? 0) + 1;
}
