// Runs a service (processor, gateway, query) as its own OS process, so tests can kill it with
// SIGKILL like a crash, and collects its output for assertions and for failure messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outputKeptMax = 2000;

export interface WaitForLineOptions {
  /**
   * A mark() taken earlier: lines printed since then count too. Without it only lines printed
   * after the call count, so a wait never returns at once on an old line.
   */
  since?: number;
  timeoutMs?: number;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** The last outputKeptMax lines. */
  lines: string[];
  /** Resolves with the exit code (or the signal) when the process ends. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** "Now" in the output: the number of lines printed so far, for waitForLine's `since`. */
  mark(): number;
  /** Lines printed since a mark() (those still kept). */
  linesSince(mark: number): string[];
  /** The first line matching `pattern` printed after the call, or after `since`. */
  waitForLine(pattern: RegExp, options?: WaitForLineOptions): Promise<string>;
}

export function startService(script: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  /** Lines printed in total, kept or not: the sequence number of the next line. */
  let printed = 0;
  const linesSince = (mark: number): string[] => lines.slice(Math.max(0, lines.length - (printed - mark)));
  const watchers: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.length === 0) continue;
      lines.push(line);
      printed += 1;
      if (lines.length > outputKeptMax) lines.shift();
      for (const w of [...watchers]) {
        if (w.pattern.test(line)) {
          watchers.splice(watchers.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    lines,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    mark: () => printed,
    linesSince,
    waitForLine(pattern: RegExp, { since = printed, timeoutMs = 60_000 }: WaitForLineOptions = {}) {
      const seen = linesSince(since).find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${script} printed no line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-30).join('\n')}`)), timeoutMs);
        const watcher = { pattern, resolve: (line: string) => (clearTimeout(timer), resolve(line)) };
        watchers.push(watcher);
        void exited.then((code) => {
          if (!watchers.includes(watcher)) return;
          clearTimeout(timer);
          reject(new Error(`${script} exited (${code}) before printing a line matching ${pattern}; last lines:\n${lines.slice(-30).join('\n')}`));
        });
      });
    },
  };
}
