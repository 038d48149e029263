// GET /api/v1/system/health: what this query processor knows about the pipeline, for the
// dashboard's health panel (DESIGN §12): per partition of the events topic, the offset the views
// applied up to against the log's end now (the lag); the dead-letter topic's size; events
// applied per second. The log ends come from one ListOffsets request per topic, cached briefly and
// bounded in time, so a page polling it (or many) costs Kafka next to nothing; when Kafka does not
// answer, the rest is still reported, with the problem named.
import type { FastifyInstance } from 'fastify';
import type { ProgressReport } from './progress.ts';
import * as schemas from './http-schemas.ts';

export const systemBounds = {
  /** Log end offsets are asked of Kafka at most this often; readers in between share the answer. */
  logEndCacheMs: 2000,
  /** A ListOffsets answer slower than this is reported as unavailable, not waited for. */
  offsetsTimeoutMs: 3000,
  /** Events per second are measured over about this much time (between reads of this route). */
  throughputWindowMs: 30_000,
  /** Samples of the applied count kept for that: reads closer together than window / samples are not sampled. */
  throughputSamplesMax: 32,
} as const;

export interface PartitionOffsets {
  partition: number;
  /** The first offset still in the log and the next to be written, as kafkajs gives them. */
  low: string;
  high: string;
}

export interface SystemSources {
  eventsTopic: string;
  deadLetterTopic: string;
  partitions: number;
  fetchOffsets(topic: string): Promise<PartitionOffsets[]>;
  progress(): ProgressReport;
  eventsApplied(): number;
  parkedEvents(): number;
  streams(): number;
  now?: () => number;
}

interface Offsets {
  events: PartitionOffsets[];
  deadLetters: PartitionOffsets[];
}

export class SystemHealth {
  private cached: { atMs: number; offsets: Promise<Offsets> } | undefined;
  private readonly samples: Array<{ atMs: number; applied: number }> = [];
  private readonly now: () => number;

  constructor(private readonly sources: SystemSources) {
    this.now = sources.now ?? Date.now;
  }

  private offsets(): Promise<Offsets> {
    const now = this.now();
    if (this.cached === undefined || now - this.cached.atMs >= systemBounds.logEndCacheMs) {
      const { fetchOffsets, eventsTopic, deadLetterTopic } = this.sources;
      const fetched = Promise.all([fetchOffsets(eventsTopic), fetchOffsets(deadLetterTopic)]).then(([events, deadLetters]) => ({ events, deadLetters }));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`Kafka did not give the log end offsets within ${systemBounds.offsetsTimeoutMs} ms`)), systemBounds.offsetsTimeoutMs);
      });
      const offsets = Promise.race([fetched, timeout]).finally(() => clearTimeout(timer));
      // A failed ask is not cached: the next read asks again.
      offsets.catch(() => {
        if (this.cached?.offsets === offsets) this.cached = undefined;
      });
      this.cached = { atMs: now, offsets };
    }
    return this.cached.offsets;
  }

  /** Events applied per second between the oldest sample in the window and now; null until two reads are a second apart. */
  private eventsPerSecond(): number | null {
    const now = this.now();
    const applied = this.sources.eventsApplied();
    const last = this.samples[this.samples.length - 1];
    if (last === undefined || now - last.atMs >= systemBounds.throughputWindowMs / systemBounds.throughputSamplesMax) this.samples.push({ atMs: now, applied });
    if (this.samples.length > systemBounds.throughputSamplesMax) this.samples.shift();
    while (this.samples.length > 1 && now - (this.samples[0]?.atMs ?? now) > systemBounds.throughputWindowMs) this.samples.shift();
    const first = this.samples[0];
    if (first === undefined || now - first.atMs < 1000) return null;
    return Math.round(((applied - first.applied) * 10_000) / (now - first.atMs)) / 10;
  }

  async report() {
    const progress = this.sources.progress();
    const eventsPerSecond = this.eventsPerSecond();
    let offsets: Offsets | undefined;
    let problem: string | null = null;
    try {
      offsets = await this.offsets();
    } catch (error) {
      problem = (error as Error).message;
    }
    const partitions = Array.from({ length: this.sources.partitions }, (_, partition) => {
      const applied = progress.partitions.find((p) => p.partition === partition);
      const end = offsets?.events.find((o) => o.partition === partition);
      // Preparing: the position is not known yet; not assigned here: another instance applies it.
      const position = applied === undefined || applied.phase === 'preparing' ? null : BigInt(applied.position);
      const logEnd = end === undefined ? null : BigInt(end.high);
      return {
        partition,
        phase: applied?.phase ?? 'elsewhere',
        appliedOffset: position === null ? null : String(position),
        logEndOffset: logEnd === null ? null : String(logEnd),
        lag: position === null || logEnd === null ? null : Number(logEnd > position ? logEnd - position : 0n),
      };
    });
    const deadLetterOffsets = offsets?.deadLetters.reduce((sum, o) => sum + (BigInt(o.high) - BigInt(o.low)), 0n);
    return {
      at: new Date(this.now()).toISOString(),
      ready: progress.ready,
      eventsApplied: this.sources.eventsApplied(),
      eventsPerSecond,
      partitions,
      deadLetters: { topic: this.sources.deadLetterTopic, offsets: deadLetterOffsets === undefined ? null : Number(deadLetterOffsets) },
      parkedEvents: this.sources.parkedEvents(),
      streams: this.sources.streams(),
      problem,
    };
  }
}

export function registerSystemHealth(app: FastifyInstance, system: SystemHealth): void {
  app.get('/api/v1/system/health', { schema: { response: { 200: schemas.systemHealth } } }, async () => system.report());
}
