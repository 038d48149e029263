// Where each assigned partition stands: restoring, rebuilding or live. `/ready` is true once
// every assigned partition has reached the end of the log as it was when the partition was
// prepared (its last stable offset then), so a freshly started or rebuilding processor does not
// take traffic with views that are minutes behind. While partitions rebuild, a progress line
// (events/s, % of the way to that end) is logged at a fixed interval.
import type { Logger } from '../log.ts';

export const progressLogIntervalMs = 2000;

export type PartitionPhase = 'preparing' | 'rebuilding' | 'catching-up' | 'live';

export interface PartitionProgress {
  partition: number;
  phase: PartitionPhase;
  reason: string;
  startOffset: bigint;
  position: bigint;
  target: bigint;
  events: number;
  startedAtMs: number;
}

export interface ProgressReport {
  ready: boolean;
  partitions: Array<{ partition: number; phase: PartitionPhase; position: string; target: string; percent: number }>;
}

const percentOf = (p: PartitionProgress): number =>
  p.target <= p.startOffset ? 100 : Math.min(100, Math.floor((Number(p.position - p.startOffset) * 1000) / Number(p.target - p.startOffset)) / 10);

export class Progress {
  private readonly partitions = new Map<number, PartitionProgress>();
  private assignmentKnown = false;
  private assignedAtMs = Date.now();
  private eventsAtAssignment = 0;
  private caughtUpLogged = false;
  /** Events applied since the process started (all partitions, all generations). */
  private totalEvents = 0;
  private eventsAtLastLog = 0;
  private lastLogAtMs = Date.now();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly log: Logger) {}

  /** A new assignment: every partition starts over in 'preparing'. */
  assign(partitions: readonly number[]): void {
    this.assignmentKnown = true;
    this.assignedAtMs = Date.now();
    this.eventsAtAssignment = this.totalEvents;
    this.caughtUpLogged = false;
    this.partitions.clear();
    for (const partition of partitions) {
      this.partitions.set(partition, { partition, phase: 'preparing', reason: '', startOffset: 0n, position: 0n, target: 0n, events: 0, startedAtMs: Date.now() });
    }
  }

  begin(partition: number, mode: 'rebuild' | 'resume', from: bigint, target: bigint, reason: string): void {
    const phase: PartitionPhase = mode === 'rebuild' ? 'rebuilding' : 'catching-up';
    const entry: PartitionProgress = { partition, phase, reason, startOffset: from, position: from, target, events: 0, startedAtMs: Date.now() };
    this.partitions.set(partition, entry);
    this.advance(partition, from, 0);
  }

  /** The consumer has applied everything before `position` (aborted data and markers included). */
  advance(partition: number, position: bigint, events: number): void {
    const entry = this.partitions.get(partition);
    if (entry === undefined || entry.phase === 'preparing') return;
    if (position > entry.position) entry.position = position;
    entry.events += events;
    this.totalEvents += events;
    if (entry.phase !== 'live' && entry.position >= entry.target) {
      const seconds = Math.max(0.001, (Date.now() - entry.startedAtMs) / 1000);
      this.log.info(entry.phase === 'rebuilding' ? 'partition rebuilt' : 'partition caught up', {
        partition,
        events: entry.events,
        seconds: Number(seconds.toFixed(3)),
        eventsPerSecond: Math.round(entry.events / seconds),
        offset: String(entry.position),
      });
      entry.phase = 'live';
      if (this.ready()) this.logCaughtUp();
    }
  }

  /** One line for the whole assignment: how long restoring and rebuilding took, and how fast it went. */
  private logCaughtUp(): void {
    if (this.caughtUpLogged) return;
    this.caughtUpLogged = true;
    const events = this.totalEvents - this.eventsAtAssignment;
    const seconds = Math.max(0.001, (Date.now() - this.assignedAtMs) / 1000);
    this.log.info('views caught up', {
      partitions: this.partitions.size,
      events,
      seconds: Number(seconds.toFixed(3)),
      eventsPerSecond: Math.round(events / seconds),
    });
  }

  eventsApplied(): number {
    return this.totalEvents;
  }

  position(partition: number): bigint | undefined {
    return this.partitions.get(partition)?.position;
  }

  ready(): boolean {
    if (!this.assignmentKnown || this.partitions.size === 0) return false;
    for (const entry of this.partitions.values()) if (entry.phase !== 'live') return false;
    return true;
  }

  report(): ProgressReport {
    return {
      ready: this.ready(),
      partitions: [...this.partitions.values()].map((p) => ({
        partition: p.partition,
        phase: p.phase,
        position: String(p.position),
        target: String(p.target),
        percent: percentOf(p),
      })),
    };
  }

  startLogging(intervalMs: number = progressLogIntervalMs): void {
    this.timer = setInterval(() => this.logProgress(), intervalMs);
    this.timer.unref();
  }

  stopLogging(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
  }

  private logProgress(): void {
    const behind = [...this.partitions.values()].filter((p) => p.phase === 'rebuilding' || p.phase === 'catching-up');
    const events = this.totalEvents;
    const now = Date.now();
    if (behind.length > 0) {
      const remaining = behind.reduce((sum, p) => sum + Number(p.target - p.position), 0);
      const total = behind.reduce((sum, p) => sum + Number(p.target - p.startOffset), 0);
      this.log.info('rebuilding views', {
        partitions: behind.map((p) => ({ partition: p.partition, phase: p.phase, percent: percentOf(p) })),
        eventsPerSecond: Math.round(((events - this.eventsAtLastLog) * 1000) / Math.max(1, now - this.lastLogAtMs)),
        percent: total <= 0 ? 100 : Math.floor(((total - remaining) * 1000) / total) / 10,
        offsetsRemaining: remaining,
      });
    }
    this.eventsAtLastLog = events;
    this.lastLogAtMs = now;
  }
}
