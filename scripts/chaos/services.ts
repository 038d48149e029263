// The three services of one campaign run as supervised child processes (scripts/services.ts):
// logs go to a file per service, readiness is tracked per child (a restarted child is not ready
// until it says so), and a supervisor that gave up — expected while the broker is down and a
// service crash-loops — is started again after a pause, a bounded number of times.
import fs from 'node:fs';
import path from 'node:path';
import { ServiceProcess } from '../services.ts';

/** After the supervisor gives up on a crash-looping service, the campaign starts it again after this. */
const giveUpRestartDelayMs = 5000;
/** ...at most this many times per run; beyond, the run fails. */
export const giveUpRestartsMax = 6;
/** A (re)started service must be ready within this. */
export const serviceReadyTimeoutMs = 120_000;
const readyPollMs = 250;

export type ServiceName = 'processor' | 'gateway' | 'query';

export interface ChaosService {
  name: ServiceName;
  process: ServiceProcess;
  /** Kills by the campaign (SIGKILL). */
  kills: number;
  /** Times the supervisor gave up and the campaign started it again. */
  giveUps: number;
  failure?: string;
  stopped: boolean;
  ready(): Promise<boolean>;
  /** Its log file, closed when the run stops it. */
  log: fs.WriteStream;
}

const scripts: Record<ServiceName, string> = {
  processor: 'processors/account/main.ts',
  gateway: 'gateway/main.ts',
  query: 'processors/query/main.ts',
};

export interface ServicesOptions {
  names: ServiceName[];
  env: Record<string, string>;
  logDir: string;
  gatewayUrl: string;
  queryUrl: string;
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

function readiness(name: ServiceName, supervised: ServiceProcess, options: ServicesOptions): () => Promise<boolean> {
  if (name !== 'processor') {
    const url = `${name === 'gateway' ? options.gatewayUrl : options.queryUrl}/ready`;
    return async () => supervised.running && (await httpReady(url));
  }
  // Ready once the current child printed its start line; a restarted child must say it again.
  let readyChild: unknown;
  supervised.listeners.add((line) => {
    if (/account processor started/.test(line)) readyChild = supervised.child;
  });
  return async () => supervised.running && readyChild === supervised.child;
}

/** Every service a run started and has not stopped: an interrupted campaign stops them on its way out. */
const running = new Set<ChaosService>();

export function startServices(options: ServicesOptions): ChaosService[] {
  fs.mkdirSync(options.logDir, { recursive: true });
  return options.names.map((name) => {
    const log = fs.createWriteStream(path.join(options.logDir, `${name}.log`), { flags: 'a' });
    const write = (line: string) => {
      log.write(`${line}\n`);
      if (options.verbose) process.stdout.write(`${line}\n`);
    };
    let service: ChaosService | undefined;
    const onGiveUp = (_: string, reason: string) => {
      if (service === undefined || service.stopped) return;
      write(`[chaos] supervisor gave up on ${name}: ${reason}`);
      service.giveUps += 1;
      if (service.giveUps > giveUpRestartsMax) {
        service.failure = `${name} kept crashing: the supervisor gave up ${service.giveUps} times (${reason})`;
        return;
      }
      const restarting = service;
      setTimeout(() => {
        if (!restarting.stopped) restarting.process.start();
      }, giveUpRestartDelayMs).unref();
    };
    const child = new ServiceProcess({ name, script: scripts[name], env: options.env }, write, onGiveUp);
    service = { name, process: child, kills: 0, giveUps: 0, stopped: false, ready: readiness(name, child, options), log };
    running.add(service);
    child.start();
    return service;
  });
}

/** Resolves when every service is ready; throws naming those that are not, after the bound. */
export async function waitUntilReady(services: ChaosService[], timeoutMs = serviceReadyTimeoutMs): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = services.find((s) => s.failure !== undefined);
    if (failed !== undefined) throw new Error(failed.failure);
    const states = await Promise.all(services.map(async (s) => ({ name: s.name, ready: await s.ready() })));
    const waiting = states.filter((s) => !s.ready).map((s) => s.name);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`${waiting.join(', ')} not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, readyPollMs));
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
