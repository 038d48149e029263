// Named crash points: the variable's grammar, and a real process that visits a point five times
// dies by SIGKILL on exactly the n-th visit of the armed point and never otherwise, or with
// `:stop` freezes there once and, woken, runs on.
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { crashPointNames, parseCrashPlan } from '../../processors/crash-points.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

const visitScript = "const m = await import('./processors/crash-points.ts'); for (let i = 1; i <= 5; i += 1) { console.log('visit ' + i); if (m.crashPointsArmed) m.crashPoint('after-send'); }";

/** Runs a process that reaches `after-send` five times, printing each visit before it. */
function visitFiveTimes(crashPoint: string | undefined): { signal: NodeJS.Signals | null; status: number | null; lines: string[] } {
  const script = visitScript;
  const env: Record<string, string | undefined> = { ...process.env, LEDGER_CRASH_POINT: crashPoint };
  if (crashPoint === undefined) delete env.LEDGER_CRASH_POINT;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root, env, encoding: 'utf8', timeout: 60_000 });
  return { signal: result.signal, status: result.status, lines: `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.length > 0) };
}

describe('parseCrashPlan', () => {
  it('is off when the variable is unset or empty', () => {
    expect(parseCrashPlan(undefined)).toBeUndefined();
    expect(parseCrashPlan('')).toBeUndefined();
  });

  it('reads a name, with the first visit as the default', () => {
    expect(parseCrashPlan('after-commit')).toEqual({ name: 'after-commit', at: 1, signal: 'SIGKILL' });
    expect(parseCrashPlan('mid-restore:3')).toEqual({ name: 'mid-restore', at: 3, signal: 'SIGKILL' });
    expect(parseCrashPlan('after-offsets:2:stop')).toEqual({ name: 'after-offsets', at: 2, signal: 'SIGSTOP' });
    expect(parseCrashPlan('after-offsets:stop')).toEqual({ name: 'after-offsets', at: 1, signal: 'SIGSTOP' });
  });

  it('knows every documented point, the reserved mid-expiry included', () => {
    for (const name of crashPointNames) expect(parseCrashPlan(name)?.name).toBe(name);
    expect(crashPointNames).toContain('mid-expiry');
  });

  it('refuses an unknown name, a zero or negative count and trailing junk', () => {
    for (const bad of ['after-sned', 'after-send:0', 'after-send:-1', 'after-send:2x', 'AFTER-SEND', 'after-send:']) {
      expect(() => parseCrashPlan(bad), bad).toThrow(/LEDGER_CRASH_POINT/);
    }
  });
});

/** Each case starts Node with tsx (about a second, more on a busy machine). */
const processTestTimeoutMs = 60_000;

describe('a process with a crash point armed', { timeout: processTestTimeoutMs }, () => {
  it('dies by SIGKILL on the n-th visit of the armed point, not before', () => {
    const run = visitFiveTimes('after-send:3');
    expect(run.signal).toBe('SIGKILL');
    expect(run.lines.filter((l) => l.startsWith('visit'))).toEqual(['visit 1', 'visit 2', 'visit 3']);
    expect(run.lines.at(-1)).toContain('"point":"after-send"');
  });

  it('with :stop, freezes on the n-th visit only: woken, it runs to the end', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', visitScript], { cwd: root, env: { ...process.env, LEDGER_CRASH_POINT: 'after-send:3:stop' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const frozen = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('freezing the process')) resolve();
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
    });
    await frozen;
    // Frozen: nothing more is printed while it is stopped.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(output.split('\n').filter((l) => l.startsWith('visit'))).toEqual(['visit 1', 'visit 2', 'visit 3']);
    child.kill('SIGCONT');
    // Frozen again at a later visit, it would never end: give up after a while and say so.
    const ended = await Promise.race([exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running (frozen again?)'), 15_000))]);
    if (ended === 'still running (frozen again?)') child.kill('SIGKILL');
    expect(ended, output).toBe(0);
    const lines = output.split('\n').filter((l) => l.length > 0);
    expect(lines.filter((l) => l.startsWith('visit'))).toEqual(['visit 1', 'visit 2', 'visit 3', 'visit 4', 'visit 5']);
    expect(lines.filter((l) => l.includes('freezing the process'))).toHaveLength(1);
  });

  it('runs to the end when another point is armed or none is', () => {
    for (const armed of ['after-commit', undefined]) {
      const run = visitFiveTimes(armed);
      expect(run.signal, String(armed)).toBeNull();
      expect(run.status, String(armed)).toBe(0);
      expect(run.lines, String(armed)).toEqual(['visit 1', 'visit 2', 'visit 3', 'visit 4', 'visit 5']);
    }
  });

  it('does not start with a misspelled point', () => {
    const run = visitFiveTimes('after-sendd');
    expect(run.status).not.toBe(0);
    expect(run.lines.join('\n')).toMatch(/LEDGER_CRASH_POINT=after-sendd/);
  });
});
