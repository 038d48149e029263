// The services of one campaign run as supervised child processes (scripts/services.ts): the
// gateway, the query processor and 1–3 account processor instances (`processor-<n>`, each with
// its own DATA_DIR, started and stopped during the run). Logs go to a file per service; readiness
// is tracked per child (a restarted child is not ready until it says so); a supervisor that gave
// up — expected while the broker is down and a service crash-loops — is started again after a
// pause, a bounded number of times. Each processor's partitions are followed from its log, so
// the run audits only once every partition is owned by a live instance that has initialized it:
// that initialization fences and aborts whatever a killed owner left open, which would otherwise
// hold back the last stable offset and hide committed records from a read_committed audit.
import fs from 'node:fs';
import path from 'node:path';
import { ServiceProcess } from '../services.ts';
import { kindOf, type ServiceKind, type Target } from './plan.ts';

/** After the supervisor gives up on a crash-looping service, the campaign starts it again after this. */
const giveUpRestartDelayMs = 5000;
/** ...at most this many times per run; beyond, the run fails. */
export const giveUpRestartsMax = 6;
/** A (re)started service must be ready within this. */
export const serviceReadyTimeoutMs = 120_000;
const readyPollMs = 250;
/**
 * processor-3 runs this far ahead of the others: clock skew between machines, and the way the
 * campaign's 60-second holds expire within a run. A hold expires at the gateway's issuedAt + 60 s,
 * and whoever owns the partition decides expiry by its own clock: under processor-3 a hold expires
 * about 10 s after it was placed (captures and voids race it), under the others not within a run.
 */
export const processor3ClockSkewMs = 50_000;

export interface ChaosService {
  target: Target;
  kind: ServiceKind;
  process: ServiceProcess;
  /** Times the supervisor gave up and the campaign started it again. */
  giveUps: number;
  failure?: string;
  stopped: boolean;
  /** SIGSTOPped and not thawed yet. */
  frozen: boolean;
  /** Crash points this service died at (from its own last line). */
  crashedAt: string[];
  ready(): Promise<boolean>;
  /** Partitions the current child owns and has initialized (processors only). */
  readyPartitions(): number[];
  log: fs.WriteStream;
}

const scripts: Record<ServiceKind, string> = {
  processor: 'processors/account/main.ts',
  gateway: 'gateway/main.ts',
  query: 'processors/query/main.ts',
};

export interface ServicesOptions {
  /** The run's environment, DATA_DIR included (a processor instance gets a directory of its own under it). */
  env: Record<string, string>;
  dataDir: string;
  logDir: string;
  gatewayUrl: string;
  queryUrl: string;
  partitions: number;
  /** Also echo service logs to stdout. */
  verbose: boolean;
}

async function httpReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function parse(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Follows a processor child's start line, assignments, initialized and failed partitions. */
function followProcessor(supervised: ServiceProcess) {
  let child: unknown;
  let started = false;
  let ready = new Set<number>();
  supervised.listeners.add((line) => {
    const entry = parse(line);
    if (entry === undefined) return;
    if (child !== supervised.child) {
      child = supervised.child;
      started = false;
      ready = new Set();
    }
    if (entry.msg === 'account processor started') started = true;
    // Partitions kept across a rebalance stay initialized; those taken away are closed.
    else if (entry.msg === 'partitions assigned' && Array.isArray(entry.partitions)) ready = new Set([...ready].filter((p) => (entry.partitions as number[]).includes(p)));
    else if (entry.msg === 'partition ready' && typeof entry.partition === 'number') ready.add(entry.partition);
    else if (typeof entry.msg === 'string' && entry.msg.startsWith('partition failed') && typeof entry.partition === 'number') ready.delete(entry.partition);
  });
  const current = () => child === supervised.child && supervised.running;
  return { started: () => current() && started, partitions: () => (current() ? [...ready] : []) };
}

/** Every service a run started and has not stopped: an interrupted campaign stops them on its way out. */
const running = new Set<ChaosService>();

export class RunServices {
  /** Every service started in the run, removed ones included (a re-added instance is a new entry). */
  readonly started: ChaosService[] = [];
  private readonly live = new Map<Target, ChaosService>();

  constructor(private readonly options: ServicesOptions) {
    fs.mkdirSync(options.logDir, { recursive: true });
  }

  get(target: Target): ChaosService | undefined {
    return this.live.get(target);
  }

  liveServices(): ChaosService[] {
    return [...this.live.values()];
  }

  /** Where an instance keeps its stores: its own directory for each processor, the run's for the rest. */
  dataDirOf(target: Target): string {
    return kindOf(target) === 'processor' ? path.join(this.options.dataDir, target) : this.options.dataDir;
  }

  start(target: Target): ChaosService {
    const { options } = this;
    const kind = kindOf(target);
    const log = fs.createWriteStream(path.join(options.logDir, `${target}.log`), { flags: 'a' });
    const write = (line: string) => {
      log.write(`${line}\n`);
      if (options.verbose) process.stdout.write(`${line}\n`);
    };
    let service: ChaosService | undefined;
    const onGiveUp = (_: string, reason: string) => {
      if (service === undefined || service.stopped) return;
      write(`[chaos] supervisor gave up on ${target}: ${reason}`);
      service.giveUps += 1;
      if (service.giveUps > giveUpRestartsMax) {
        service.failure = `${target} kept crashing: the supervisor gave up ${service.giveUps} times (${reason})`;
        return;
      }
      const restarting = service;
      setTimeout(() => {
        if (!restarting.stopped) restarting.process.start();
      }, giveUpRestartDelayMs).unref();
    };
    const skew: Record<string, string> = target === 'processor-3' ? { ACCOUNT_CLOCK_OFFSET_MS: String(processor3ClockSkewMs) } : {};
    const child = new ServiceProcess({ name: target, script: scripts[kind], env: { ...options.env, ...skew, DATA_DIR: this.dataDirOf(target) } }, write, onGiveUp);
    const followed = kind === 'processor' ? followProcessor(child) : undefined;
    const url = `${kind === 'gateway' ? options.gatewayUrl : options.queryUrl}/ready`;
    service = {
      target, kind, process: child, giveUps: 0, stopped: false, frozen: false, crashedAt: [], log,
      ready: async () => (followed ? followed.started() : child.running && (await httpReady(url))),
      readyPartitions: () => followed?.partitions() ?? [],
    };
    const self = service;
    child.listeners.add((line) => {
      const point = parse(line)?.point;
      if (line.includes('crash point reached') && typeof point === 'string') self.crashedAt.push(point);
    });
    running.add(service);
    this.started.push(service);
    this.live.set(target, service);
    child.start();
    return service;
  }

  /** Stops an instance for good (SIGTERM): its group rebalances without it. */
  async remove(target: Target): Promise<void> {
    const service = this.live.get(target);
    if (service === undefined) return;
    this.live.delete(target);
    await stopServices([service]);
  }

  /** Partitions no live, unfrozen processor has initialized since it was assigned them. */
  uncoveredPartitions(): number[] {
    const covered = new Set(this.liveServices().filter((s) => s.kind === 'processor' && !s.frozen).flatMap((s) => s.readyPartitions()));
    return Array.from({ length: this.options.partitions }, (_, p) => p).filter((p) => !covered.has(p));
  }

  /**
   * Resolves when every live service is ready and, with `partitionsCovered`, every partition is
   * initialized by a live processor; throws naming what is not, after the bound.
   */
  async waitUntilReady(options: { partitionsCovered: boolean; timeoutMs?: number }): Promise<void> {
    const timeoutMs = options.timeoutMs ?? serviceReadyTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const services = this.liveServices();
      const failed = services.find((s) => s.failure !== undefined);
      if (failed !== undefined) throw new Error(failed.failure);
      const states = await Promise.all(services.map(async (s) => ({ target: s.target, ready: !s.frozen && (await s.ready()) })));
      const waiting = states.filter((s) => !s.ready).map((s) => s.target);
      const uncovered = options.partitionsCovered ? this.uncoveredPartitions() : [];
      if (waiting.length === 0 && uncovered.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error([waiting.length > 0 ? `${waiting.join(', ')} not ready` : '', uncovered.length > 0 ? `partitions ${uncovered.join(', ')} initialized by no live processor` : ''].filter(Boolean).join('; ') + ` within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, readyPollMs));
    }
  }

  async stopAll(): Promise<void> {
    const services = this.liveServices();
    this.live.clear();
    await stopServices(services);
  }
}

export async function stopServices(services: ChaosService[]): Promise<void> {
  for (const s of services) {
    s.stopped = true;
    running.delete(s);
  }
  await Promise.all(services.map((s) => s.process.stop()));
  await Promise.all(services.map((s) => new Promise<void>((resolve) => s.log.end(resolve))));
}

/** Stops whatever runs still have running (SIGINT/SIGTERM of the campaign). */
export function stopRunningServices(): Promise<void> {
  return stopServices([...running]);
}
