// CPU time per process from /proc (Linux): utime + stime of each process between two snapshots,
// and the machine's busy time from /proc/stat, so "who used the cores" adds up, including
// processes the bench did not start (the remainder is reported as "other").
import { readFileSync, readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** USER_HZ: the unit of /proc times; 100 on every Linux this runs on (`getconf CLK_TCK`). */
const ticksPerSecond = 100;

export interface CpuSnapshot {
  atMs: number;
  pids: Record<string, number | undefined>;
  /** name → CPU seconds used so far (undefined: the process was not there). */
  processes: Record<string, number | undefined>;
  machineBusySeconds: number;
  machineTotalSeconds: number;
  /** Kernel time spent in interrupts and softirqs (loopback TCP lands here), not in any process. */
  machineInterruptSeconds: number;
  /** Every process on the machine (pid → CPU seconds), to name the biggest "other" ones. */
  all: Map<number, number>;
}

export interface CpuShare {
  name: string;
  /** Average cores used over the window (1.0 = one core fully busy). */
  cores: number;
  /** Share of the machine's capacity (all cores). */
  percentOfMachine: number;
}

export interface CpuSplit {
  windowSeconds: number;
  cores: number;
  machineBusyPercent: number;
  processes: CpuShare[];
  /** The busiest processes the bench did not start, with their command lines. */
  others: CpuShare[];
}

/** How many of the other processes the report names. */
const othersNamedMax = 4;

/** A process's or thread's name and CPU seconds from its `stat` file, or undefined once it has ended. */
function statOf(path: string): { name: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(path, 'utf8');
    // Fields after "pid (comm) ": comm may hold spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), seconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond };
  } catch {
    return undefined;
  }
}

function processSeconds(pid: number): number | undefined {
  return statOf(`/proc/${pid}/stat`)?.seconds;
}

/** CPU seconds of each thread of a process, busiest first (the main thread's tid is the pid). */
export function threadSeconds(pid: number): Array<{ tid: number; name: string; seconds: number }> {
  const threads: Array<{ tid: number; name: string; seconds: number }> = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = statOf(`/proc/${pid}/task/${tid}/stat`);
    if (stat !== undefined) threads.push({ tid: Number(tid), ...stat });
  }
  return threads.sort((a, b) => b.seconds - a.seconds);
}

function machineSeconds(): { busy: number; total: number; interrupts: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user).
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = values;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy: busy / ticksPerSecond, total: (busy + idle + iowait) / ticksPerSecond, interrupts: (irq + softirq) / ticksPerSecond };
}

export function cpuSnapshot(pids: Record<string, number | undefined>): CpuSnapshot {
  const processes: Record<string, number | undefined> = {};
  for (const [name, pid] of Object.entries(pids)) processes[name] = pid === undefined ? undefined : processSeconds(pid);
  const machine = machineSeconds();
  const all = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const seconds = processSeconds(Number(entry));
    if (seconds !== undefined) all.set(Number(entry), seconds);
  }
  return { atMs: Date.now(), pids, processes, machineBusySeconds: machine.busy, machineTotalSeconds: machine.total, machineInterruptSeconds: machine.interrupts, all };
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 120) || `pid ${pid}`;
  } catch {
    return `pid ${pid} (exited)`;
  }
}

export function cpuSplit(before: CpuSnapshot, after: CpuSnapshot): CpuSplit {
  const windowSeconds = Math.max(0.001, (after.atMs - before.atMs) / 1000);
  const cores = availableParallelism();
  const machineSeconds = Math.max(0.001, after.machineTotalSeconds - before.machineTotalSeconds);
  const busySeconds = after.machineBusySeconds - before.machineBusySeconds;
  const share = (name: string, seconds: number): CpuShare => ({
    name,
    cores: Math.round((seconds / windowSeconds) * 100) / 100,
    percentOfMachine: Math.round((seconds / machineSeconds) * 1000) / 10,
  });
  const processes: CpuShare[] = [];
  let known = 0;
  for (const [name, end] of Object.entries(after.processes)) {
    const start = before.processes[name];
    if (start === undefined || end === undefined) continue;
    known += end - start;
    processes.push(share(name, end - start));
  }
  const interrupts = after.machineInterruptSeconds - before.machineInterruptSeconds;
  processes.push(share('interrupts (irq and softirq: loopback TCP, timers)', interrupts));
  processes.push(share('other (processes the bench did not start, incl. short-lived ones)', Math.max(0, busySeconds - known - interrupts)));
  processes.push(share('idle', Math.max(0, machineSeconds - busySeconds)));
  const ours = new Set(Object.values(after.pids));
  const others = [...after.all]
    .filter(([pid]) => !ours.has(pid))
    .map(([pid, end]) => ({ pid, seconds: end - (before.all.get(pid) ?? 0) }))
    .sort((a, b) => b.seconds - a.seconds)
    .slice(0, othersNamedMax)
    .filter((o) => o.seconds > 0)
    .map((o) => share(`${o.pid} ${commandLine(o.pid)}`, o.seconds));
  return { windowSeconds, cores, machineBusyPercent: Math.round((busySeconds / machineSeconds) * 1000) / 10, processes, others };
}
