// Detached JVMs tracked by pid files: a pid counts as ours only while it is alive and its command
// line still names our main class, so a recycled pid is never signalled.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StackError } from './errors.ts';
import type { ServiceFiles } from './layout.ts';

const pollIntervalMs = 200;
const commandOutputBytesMax = 16 * 1024 * 1024;

export interface CommandResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  spawnError?: NodeJS.ErrnoException;
}

/** Runs a short command to completion; never throws, so callers can word their own error. */
export function runCommand(command: string, args: string[], options: { cwd?: string } = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, maxBuffer: commandOutputBytesMax }, (error, stdout, stderr) => {
      const spawnError = error && typeof (error as NodeJS.ErrnoException).code === 'string'
        ? (error as NodeJS.ErrnoException)
        : undefined;
      const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ exitCode, stdout: String(stdout), stderr: String(stderr), ...(spawnError ? { spawnError } : {}) });
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readPid(pidFile: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = Number.parseInt(text, 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

async function commandLineOf(pid: number): Promise<string | undefined> {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    // No procfs (macOS): ask ps instead.
    const result = await runCommand('ps', ['-o', 'command=', '-p', String(pid)]);
    return result.exitCode === 0 ? result.stdout : undefined;
  }
}

/** The pid from the pid file if that process is alive and is still the one we started. */
export async function ownedPid(files: ServiceFiles, marker: string): Promise<number | undefined> {
  const pid = readPid(files.pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  const commandLine = await commandLineOf(pid);
  return commandLine?.includes(marker) ? pid : undefined;
}

/** Moves the previous console log aside so a failure report shows only this run's output. */
function rotateConsoleLog(consoleLog: string): void {
  fs.mkdirSync(path.dirname(consoleLog), { recursive: true });
  if (fs.existsSync(consoleLog)) fs.renameSync(consoleLog, `${consoleLog}.1`);
}

/** Starts a process that outlives us: own process group, output to its console log, unref'd. */
export function spawnDetached(files: ServiceFiles, command: string, args: string[], cwd: string): number {
  rotateConsoleLog(files.consoleLog);
  const output = fs.openSync(files.consoleLog, 'a');
  try {
    const child = spawn(command, args, { cwd, detached: true, stdio: ['ignore', output, output] });
    if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
    child.unref();
    fs.writeFileSync(files.pidFile, `${child.pid}\n`);
    return child.pid;
  } finally {
    fs.closeSync(output);
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(pollIntervalMs);
  }
  return !isAlive(pid);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM, a bounded wait for a clean shutdown, then SIGKILL; the pid file goes either way. */
export async function stopProcess(files: ServiceFiles, pid: number, gracefulStopMs: number): Promise<'clean' | 'killed'> {
  signal(pid, 'SIGTERM');
  let outcome: 'clean' | 'killed' = 'clean';
  if (!(await waitForExit(pid, gracefulStopMs))) {
    signal(pid, 'SIGKILL');
    await waitForExit(pid, gracefulStopMs);
    outcome = 'killed';
  }
  fs.rmSync(files.pidFile, { force: true });
  return outcome;
}

export interface Readiness {
  label: string;
  endpoint: string;
  /** One bounded request; true once the service really serves. */
  answers: () => Promise<boolean>;
  timeoutMs: number;
  timeoutName: string;
  /** What to try when the process died while starting. */
  exitedAdvice: string;
  /** The last lines of the service's logs, for the error. */
  report: () => string;
}

/** Polls until the service answers; fails fast if it exits, and after `timeoutMs` leaves it running. */
export async function waitUntilAnswering(pid: number, readiness: Readiness): Promise<void> {
  const deadline = Date.now() + readiness.timeoutMs;
  while (Date.now() < deadline) {
    if (await readiness.answers()) return;
    if (!isAlive(pid)) {
      throw new StackError('START_FAILED', `${readiness.label} (pid ${pid}) exited during startup. ${readiness.exitedAdvice}\n${readiness.report()}`);
    }
    await sleep(pollIntervalMs);
  }
  throw new StackError('START_TIMEOUT', `${readiness.label} (pid ${pid}) did not answer on ${readiness.endpoint} within ${readiness.timeoutName}=${readiness.timeoutMs} ms. It is left running: inspect its log, then \`npm run stack -- stop\` and start again.\n${readiness.report()}`, { retriable: true });
}

/** Stops `pid` if there is one; a pid file without a live owner is removed either way. */
export async function stopService(label: string, files: ServiceFiles, pid: number | undefined, gracefulStopMs: number, log: (line: string) => void): Promise<void> {
  if (pid === undefined) {
    fs.rmSync(files.pidFile, { force: true });
    return;
  }
  log(`stopping ${label} (pid ${pid})`);
  const outcome = await stopProcess(files, pid, gracefulStopMs);
  if (outcome === 'killed') log(`${label} did not stop within ${gracefulStopMs} ms and was killed`);
}

export function tailLines(file: string, lineCount: number): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return `(no log at ${file})`;
  }
  const lines = text.trimEnd().split('\n');
  return lines.slice(-lineCount).join('\n');
}
