// Runs the ledger's services as child processes with readable, prefixed logs, restarts one that
// dies (a processor exits on purpose when it cannot go on, and resumes from committed offsets),
// and stops them all cleanly. Used by `npm start` and the fault campaign.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Restarts allowed per service within restartWindowMs before the supervisor gives up. */
export const restartsMax = 5;
const restartWindowMs = 60_000;
/** A service that ignores SIGTERM this long is killed. */
export const stopTimeoutMs = 20_000;

export interface ServiceSpec {
  name: string;
  script: string;
  env: Record<string, string>;
  /** Options for node itself, before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const pinoLevels: Record<number, Level> = { 10: 'debug', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'error' };

/** One JSON log line as `time level msg key=value…`; anything else as it came. */
export function readableLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const { time, level, msg, component: _component, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
    const when = typeof time === 'number' ? new Date(time).toISOString() : String(time ?? '');
    const levelName = typeof level === 'number' ? (pinoLevels[level] ?? String(level)) : String(level ?? '');
    const fields = Object.entries(rest)
      .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    return `${when.slice(11, 23)} ${levelName.padEnd(5)} ${String(msg ?? '')}${fields ? `  ${fields}` : ''}`;
  } catch {
    return line;
  }
}

export class ServiceProcess {
  child: ChildProcess | undefined;
  /** Called with every raw output line, e.g. to notice readiness. */
  readonly listeners = new Set<(line: string) => void>();
  private restarts: number[] = [];
  private stopping = false;
  /** Environment for the next start only, and what to do just before it (the fault campaign's armed restart). */
  private nextStart: { env: Record<string, string>; prepare?: () => void } | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly write: (line: string) => void,
    private readonly onGiveUp: (name: string, reason: string) => void,
  ) {}

  start(): void {
    const once = this.nextStart;
    this.nextStart = undefined;
    once?.prepare?.();
    const child = spawn(process.execPath, [...(this.spec.nodeArgs ?? []), '--import', 'tsx', this.spec.script], {
      cwd: root,
      env: { ...process.env, ...this.spec.env, ...once?.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const prefix = `[${this.spec.name}]`.padEnd(12);
    let carry = '';
    const onData = (chunk: Buffer) => {
      const lines = (carry + chunk.toString('utf8')).split('\n');
      carry = lines.pop() ?? '';
      for (const line of lines) {
        if (line.length === 0) continue;
        for (const listener of this.listeners) listener(line);
        this.write(`${prefix}${readableLine(line)}`);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code, signal) => this.onExit(code, signal));
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping) return;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < restartWindowMs);
    if (this.restarts.length >= restartsMax) {
      this.onGiveUp(this.spec.name, `exited (${code ?? signal}) ${restartsMax} times within ${restartWindowMs / 1000} s`);
      return;
    }
    this.restarts.push(now);
    const delayMs = 500 * 2 ** (this.restarts.length - 1);
    this.write(`[${this.spec.name}] exited (${code ?? signal}); restarting in ${delayMs} ms`);
    setTimeout(() => {
      if (!this.stopping) this.start();
    }, delayMs).unref();
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Kills it like a crash (the supervisor restarts it), for the fault campaign. */
  crash(): void {
    this.child?.kill('SIGKILL');
  }

  /**
   * Stops it cleanly (SIGTERM) and lets the supervisor start it again with `env` added for that
   * one start, `prepare` run just before it; a restart that is under way already takes them.
   */
  restartWith(env: Record<string, string>, prepare?: () => void): void {
    this.nextStart = { env, prepare };
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    this.child?.kill('SIGCONT');
  }

  /** SIGSTOP: frozen, its sockets open and its group session expiring, until thaw(). */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (child === undefined || !this.running) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    // A frozen child would not see the SIGTERM before it is thawed.
    child.kill('SIGCONT');
    const timer = setTimeout(() => child.kill('SIGKILL'), stopTimeoutMs);
    await exited;
    clearTimeout(timer);
  }
}

/** Resolves at the first output line matching the pattern, within the bound. */
export function waitForLine(service: ServiceProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      service.listeners.delete(listener);
      reject(new Error(`${service.spec.name} printed no line matching ${pattern} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (line: string) => {
      if (!pattern.test(line)) return;
      clearTimeout(timer);
      service.listeners.delete(listener);
      resolve();
    };
    service.listeners.add(listener);
  });
}

/** Polls a URL until it answers 200, within the bound. */
export async function waitForHttp(url: string, timeoutMs: number, isAlive: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (!isAlive()) throw new Error(`${url}: the service exited before it was ready`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** A port free on 127.0.0.1 right now, for a service (or a test) that needs its own. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port was assigned');
  return address.port;
}
