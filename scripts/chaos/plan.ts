// One run's fault schedule, drawn up front from the seeded PRNG alone (never from what happens
// during the run), so a seed and the same options replay the same schedule: which processor
// instances start, when instances join and leave (rebalances among 2–3 of them), and when each
// service is SIGKILLed, frozen by SIGSTOP and thawed by SIGCONT, restarted armed with a named
// crash point (processors/crash-points.ts), and when the broker restarts. Pure: no I/O.
import type { CrashPointName } from '../../processors/crash-points.ts';

/** Processor instances are `processor-1` … `processor-<processorSlotsMax>`, each with its own DATA_DIR. */
export const processorSlotsMax = 3;
export type ProcessorTarget = `processor-${number}`;
export type Target = ProcessorTarget | 'gateway' | 'query';
export type ServiceKind = 'processor' | 'gateway' | 'query';

/** Where each kind of fault may fall, as shares of the load's duration: none before the load runs, none while settling. */
export const windows = {
  kill: [0.1, 0.85],
  stop: [0.1, 0.75],
  /** Early enough that the armed restart still meets work to crash in. */
  crashPoint: [0.1, 0.6],
  rebalance: [0.1, 0.8],
  broker: [0.25, 0.6],
} as const satisfies Record<string, readonly [number, number]>;
/** A frozen service is thawed after this long: below and above the processors' 10 s session, so some freezes cost the group membership (and the frozen instance is fenced as a zombie) and some do not. */
export const stopForMs = [2000, 12_000] as const;
/** Every thaw happens by this share of the load. */
const thawBy = 0.9;
/** Two faults of one service at least this far apart (a freeze counts from its thaw), so a restart can get somewhere. */
export const spacingMinMs = 3000;
const placementTries = 40;
/** An armed restart is left alone this long: a restart takes seconds on a loaded host, then it must meet work to crash in. */
export const crashPointSpanMs = 12_000;
/** In a crowded schedule, landing inside an armed restart's span counts as this many clashes: it would defeat the crash point. */
const armedSpanWeight = 10;

/** Crash points the campaign arms, and on which service; `mid-expiry` is left to crash-points.test.ts: only processor-3 expires holds within a run. */
export const campaignCrashPoints = {
  'after-send': 'processor',
  'after-offsets': 'processor',
  'after-commit': 'processor',
  'mid-restore': 'processor',
  'query-after-write': 'query',
} as const satisfies Partial<Record<CrashPointName, ServiceKind>>;
export type CampaignCrashPoint = keyof typeof campaignCrashPoints;
/** The visit to die at is drawn from 1 to this: a few transactions (over all partitions) or restore batches in. */
export const crashVisitMax: Record<CampaignCrashPoint, number> = { 'after-send': 4, 'after-offsets': 4, 'after-commit': 4, 'mid-restore': 2, 'query-after-write': 3 };

export type PlannedFault =
  | { atMs: number; kind: 'kill'; target: Target }
  /** SIGSTOP, then SIGCONT `forMs` later. */
  | { atMs: number; kind: 'stop'; target: Target; forMs: number }
  /** A clean restart with LEDGER_CRASH_POINT=<point>:<visit> for that start only (mid-restore: with the store wiped, so there is a restore to die in). */
  | { atMs: number; kind: 'crash-point'; target: Target; point: CampaignCrashPoint; visit: number }
  | { atMs: number; kind: 'broker-restart'; hard: boolean }
  | { atMs: number; kind: 'add-instance'; target: ProcessorTarget }
  /** SIGTERM: the instance leaves its group cleanly (scale-in); its DATA_DIR stays for a later re-add. */
  | { atMs: number; kind: 'remove-instance'; target: ProcessorTarget };
export type FaultKind = PlannedFault['kind'];

export interface RunPlan {
  /** Processor instances running when the load starts. */
  processorsAtStart: ProcessorTarget[];
  faults: PlannedFault[];
}

export interface PlanOptions {
  durationMs: number;
  withQuery: boolean;
  /** SIGKILLs of each service kind per run (processor kills fall on the instances running then). */
  killsPerService: number;
  /** Freezes of each service kind per run. */
  stopsPerService: number;
  crashPoints: number;
  /** Processor instances added or removed per run; the first run with any starts between 1 and 2 instances. */
  rebalances: number;
  brokerRestarts: number;
  /** How the broker is stopped: by SIGTERM, SIGKILL, or alternating over the campaign (first clean). */
  brokerStop: 'graceful' | 'kill' | 'alternate';
  /** Broker restarts of the campaign's earlier runs, so alternation continues across runs. */
  earlierBrokerRestarts?: number;
}

export const processorTarget = (slot: number): ProcessorTarget => `processor-${slot}`;
export const kindOf = (target: Target): ServiceKind => (target.startsWith('processor') ? 'processor' : (target as ServiceKind));

/** Which processor instances run when: the start set, then each membership change in time order. */
interface Membership {
  at: ProcessorTarget[];
  changes: Array<{ atMs: number; kind: 'add-instance' | 'remove-instance'; target: ProcessorTarget }>;
}

function presentAt(membership: Membership, atMs: number): ProcessorTarget[] {
  const present = new Set(membership.at);
  for (const change of membership.changes) {
    if (change.atMs > atMs) break;
    if (change.kind === 'add-instance') present.add(change.target);
    else present.delete(change.target);
  }
  return [...present].sort();
}

export function planRun(random: () => number, options: PlanOptions): RunPlan {
  const d = options.durationMs;
  const within = ([from, to]: readonly [number, number]) => Math.round(d * (from + random() * (to - from)));
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  // Membership: with rebalances, start with one or two instances and add or remove within 1..max.
  const startCount = options.rebalances > 0 ? 1 + Math.floor(random() * 2) : 1;
  const membership: Membership = { at: Array.from({ length: startCount }, (_, i) => processorTarget(i + 1)), changes: [] };
  const present = new Set(membership.at);
  const changeTimes = Array.from({ length: options.rebalances }, () => within(windows.rebalance)).sort((a, b) => a - b);
  for (const atMs of changeTimes) {
    const add = present.size <= 1 || (present.size < processorSlotsMax && random() < 0.5);
    const slots = Array.from({ length: processorSlotsMax }, (_, i) => processorTarget(i + 1));
    const target = add ? (slots.find((s) => !present.has(s)) as ProcessorTarget) : pick([...present].sort());
    if (add) present.add(target);
    else present.delete(target);
    membership.changes.push({ atMs, kind: add ? 'add-instance' : 'remove-instance', target });
  }

  const faults: PlannedFault[] = [...membership.changes];
  /**
   * Busy spans per target: a new fault keeps spacingMinMs from each. After placementTries it
   * lands where it clashes least (an armed restart's span weighs most), so the schedule always has the counts asked for.
   */
  const busy = new Map<Target, Array<[number, number, number]>>();
  const clashes = (target: Target, from: number, to: number) => (busy.get(target) ?? []).reduce((sum, [a, b, weight]) => sum + (to + spacingMinMs <= a || from >= b + spacingMinMs ? 0 : weight), 0);
  /** Instances running throughout [from, to]: none joins or leaves in between. */
  const lasting = (from: number, to: number) => presentAt(membership, from).filter((t) => !membership.changes.some((c) => c.target === t && c.atMs > from && c.atMs <= to));
  const place = (window: readonly [number, number], kind: ServiceKind, spanMs: (atMs: number) => number, weight = 1): { atMs: number; target: Target } => {
    let best = { atMs: 0, target: 'gateway' as Target, to: 0, clashes: Number.POSITIVE_INFINITY };
    for (let i = 0; i < placementTries && best.clashes > 0; i += 1) {
      const atMs = within(window);
      const to = atMs + spanMs(atMs);
      // Preferably an instance that is neither removed nor re-added before its fault has played out.
      const steady = lasting(atMs, to);
      const target: Target = kind === 'processor' ? pick(steady.length > 0 ? steady : presentAt(membership, atMs)) : kind;
      const candidate = { atMs, target, to, clashes: clashes(target, atMs, to) + (kind === 'processor' && steady.length === 0 ? 1 : 0) };
      if (candidate.clashes < best.clashes) best = candidate;
    }
    busy.set(best.target, [...(busy.get(best.target) ?? []), [best.atMs, best.to, weight]]);
    return { atMs: best.atMs, target: best.target };
  };
  const kinds: ServiceKind[] = options.withQuery ? ['processor', 'gateway', 'query'] : ['processor', 'gateway'];
  for (let i = 0; i < options.crashPoints; i += 1) {
    const points = (Object.keys(campaignCrashPoints) as CampaignCrashPoint[]).filter((p) => kinds.includes(campaignCrashPoints[p]));
    const point = pick(points);
    const visit = 1 + Math.floor(random() * crashVisitMax[point]);
    faults.push({ ...place(windows.crashPoint, campaignCrashPoints[point], () => crashPointSpanMs, armedSpanWeight), kind: 'crash-point', point, visit });
  }
  for (const kind of kinds) {
    for (let i = 0; i < options.stopsPerService; i += 1) {
      const forMs = stopForMs[0] + Math.round(random() * (stopForMs[1] - stopForMs[0]));
      const placed = place(windows.stop, kind, (atMs) => Math.max(0, Math.min(forMs, Math.round(d * thawBy) - atMs)));
      faults.push({ ...placed, kind: 'stop', forMs: Math.max(0, Math.min(forMs, Math.round(d * thawBy) - placed.atMs)) });
    }
    for (let i = 0; i < options.killsPerService; i += 1) faults.push({ ...place(windows.kill, kind, () => 0), kind: 'kill' });
  }
  const [from, to] = windows.broker;
  const span = (to - from) / Math.max(1, options.brokerRestarts);
  for (let i = 0; i < options.brokerRestarts; i += 1) {
    const hard = options.brokerStop === 'kill' || (options.brokerStop === 'alternate' && ((options.earlierBrokerRestarts ?? 0) + i) % 2 === 1);
    faults.push({ atMs: within([from + i * span, from + (i + 1) * span]), kind: 'broker-restart', hard });
  }
  return { processorsAtStart: membership.at, faults: faults.sort((a, b) => a.atMs - b.atMs) };
}

/** One line per fault, as printed before the run and replayed by the same seed. */
export function describeFault(fault: PlannedFault): string {
  const at = `${(fault.atMs / 1000).toFixed(1).padStart(6)} s`;
  switch (fault.kind) {
    case 'kill':
      return `${at}  SIGKILL ${fault.target}`;
    case 'stop':
      return `${at}  SIGSTOP ${fault.target}, SIGCONT after ${(fault.forMs / 1000).toFixed(1)} s`;
    case 'crash-point':
      return `${at}  restart ${fault.target} armed with LEDGER_CRASH_POINT=${fault.point}:${fault.visit}${fault.point === 'mid-restore' ? ' (store wiped)' : ''}`;
    case 'broker-restart':
      return `${at}  broker ${fault.hard ? 'SIGKILL' : 'clean stop'} and restart`;
    case 'add-instance':
      return `${at}  start ${fault.target} (rebalance)`;
    case 'remove-instance':
      return `${at}  stop ${fault.target} with SIGTERM (rebalance)`;
  }
}

export function describePlan(plan: RunPlan): string[] {
  return [`processors at start: ${plan.processorsAtStart.join(', ')}`, ...plan.faults.map(describeFault)];
}
