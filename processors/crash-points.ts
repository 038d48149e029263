// Named crash points, for fault tests only: `LEDGER_CRASH_POINT=<name>[:<n>]` makes the process
// SIGKILL itself the n-th time (default 1) it reaches the named step — a power cut at exactly that
// moment, with no finally blocks, no shutdown hooks and no flushes. `<name>[:<n>]:stop` freezes it
// there instead (SIGSTOP): a zombie caught at exactly that step, which the test wakes with SIGCONT
// and which then runs on (later visits do not freeze it again). Read once at start-up; unset
// (production), every call site is one test of a constant false:
//
//   if (crashPointsArmed) crashPoint('after-send');
//
// A name that is not listed here fails at start-up, so a typo cannot make a test wait for a crash
// that never comes.

/**
 * Every named step, in the order a command meets them. Account processor (transaction.ts, one
 * transaction per chunk, or per instance cycle): `before-send` (decided, nothing of the
 * transaction sent yet), `after-send` (records written; a one-request transaction's offsets go at
 * the same time, so they may be sent too), `after-offsets` (records and offsets sent, not
 * committed), `after-commit` (committed, the local store not yet written); restore.ts:
 * `mid-restore` (a restored batch written to the store, the changelogs not yet read to the end);
 * hold-expiry.ts: `mid-expiry` (one partition's ExpireHold commands produced, the pass not done).
 * Query processor (consumer.ts): `query-after-write` (a chunk's views and checkpoint written, the
 * group offset not yet committed).
 */
export const crashPointNames = ['before-send', 'after-send', 'after-offsets', 'after-commit', 'mid-restore', 'mid-expiry', 'query-after-write'] as const;

export type CrashPointName = (typeof crashPointNames)[number];

export const crashPointVariable = 'LEDGER_CRASH_POINT';

export interface CrashPlan {
  name: CrashPointName;
  /** The process dies the n-th time it reaches the point (counted across partitions). */
  at: number;
  /** SIGKILL (dies) or SIGSTOP (freezes, a zombie until SIGCONT). */
  signal: 'SIGKILL' | 'SIGSTOP';
}

function isCrashPointName(name: string): name is CrashPointName {
  return (crashPointNames as readonly string[]).includes(name);
}

/** Parses `<name>[:<n>][:stop]`; undefined when unset or empty; throws on anything else. */
export function parseCrashPlan(value: string | undefined): CrashPlan | undefined {
  if (value === undefined || value === '') return undefined;
  const match = /^([a-z-]+)(?::([1-9][0-9]{0,8}))?(:stop)?$/.exec(value);
  const name = match?.[1];
  if (match === null || name === undefined || !isCrashPointName(name)) {
    throw new Error(`${crashPointVariable}=${value} is not <name>[:<n>][:stop] with a name among ${crashPointNames.join(', ')} and n ≥ 1`);
  }
  return { name, at: match[2] === undefined ? 1 : Number(match[2]), signal: match[3] === undefined ? 'SIGKILL' : 'SIGSTOP' };
}

const plan = parseCrashPlan(process.env[crashPointVariable]);

/** False unless LEDGER_CRASH_POINT is set: guard every call with it, so production pays one branch. */
export const crashPointsArmed: boolean = plan !== undefined;

let reached = 0;

/** Kills this process with SIGKILL when `name` is the armed point and this is its n-th visit. */
export function crashPoint(name: CrashPointName): void {
  if (plan === undefined || plan.name !== name) return;
  reached += 1;
  if (reached !== plan.at) return;
  // Synchronous on a pipe or file (Linux), so the line is out before the signal lands.
  const msg = plan.signal === 'SIGKILL' ? 'crash point reached; killing the process' : 'crash point reached; freezing the process';
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level: 'warn', component: 'crash-point', msg, point: name, reached }) + '\n');
  process.kill(process.pid, plan.signal);
}
