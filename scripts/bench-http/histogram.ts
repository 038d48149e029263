// A latency histogram with bounded memory and bounded error (HdrHistogram's log-linear layout):
// exact below 256 µs, then 128 sub-buckets per power of two, so a reported percentile is at most
// 0.8 % above the true value. Recording is two integer operations and one array increment.

/** Sub-buckets per power of two: 2^7 = 128, so a bucket spans at most 1/128 of its value. */
const subBucketBits = 7;
/** Latencies are clamped here (about 17.9 minutes); nothing the bench waits for is longer. */
const valueMaxMicroseconds = 2 ** 30 - 1;
const bucketCount = ((30 - subBucketBits) << subBucketBits) + (1 << (subBucketBits + 1));

export interface HistogramSnapshot {
  /** Bucket counts, index as in bucketOf(); sparse-free so snapshots merge by addition. */
  counts: number[];
  count: number;
  maxMicroseconds: number;
  sumMicroseconds: number;
}

export function bucketOf(microseconds: number): number {
  const v = Math.min(valueMaxMicroseconds, Math.max(0, Math.round(microseconds)));
  if (v < 1 << (subBucketBits + 1)) return v;
  const shift = 31 - Math.clz32(v) - subBucketBits;
  return (shift << subBucketBits) + (v >>> shift);
}

/** The highest value that falls into bucket `index` (what a percentile reports). */
export function bucketTop(index: number): number {
  if (index < 1 << (subBucketBits + 1)) return index;
  const shift = (index >>> subBucketBits) - 1;
  const mantissa = index - (shift << subBucketBits);
  return ((mantissa + 1) << shift) - 1;
}

export class LatencyHistogram {
  private readonly counts = new Uint32Array(bucketCount);
  count = 0;
  maxMicroseconds = 0;
  sumMicroseconds = 0;

  record(microseconds: number): void {
    const index = bucketOf(microseconds);
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count += 1;
    this.sumMicroseconds += microseconds;
    if (microseconds > this.maxMicroseconds) this.maxMicroseconds = microseconds;
  }

  snapshot(): HistogramSnapshot {
    return { counts: Array.from(this.counts), count: this.count, maxMicroseconds: this.maxMicroseconds, sumMicroseconds: this.sumMicroseconds };
  }
}

export function mergeSnapshots(snapshots: HistogramSnapshot[]): HistogramSnapshot {
  const counts = new Array<number>(bucketCount).fill(0);
  let count = 0;
  let maxMicroseconds = 0;
  let sumMicroseconds = 0;
  for (const s of snapshots) {
    for (let i = 0; i < s.counts.length; i += 1) counts[i] = (counts[i] ?? 0) + (s.counts[i] ?? 0);
    count += s.count;
    maxMicroseconds = Math.max(maxMicroseconds, s.maxMicroseconds);
    sumMicroseconds += s.sumMicroseconds;
  }
  return { counts, count, maxMicroseconds, sumMicroseconds };
}

/** The value below which `percent` of the samples fall (bucket top; the max for 100). */
export function percentileMicroseconds(snapshot: HistogramSnapshot, percent: number): number {
  if (snapshot.count === 0) return 0;
  const rank = Math.max(1, Math.ceil((percent / 100) * snapshot.count));
  let seen = 0;
  for (let i = 0; i < snapshot.counts.length; i += 1) {
    seen += snapshot.counts[i] ?? 0;
    if (seen >= rank) return Math.min(bucketTop(i), snapshot.maxMicroseconds);
  }
  return snapshot.maxMicroseconds;
}

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

const ms = (microseconds: number): number => Math.round(microseconds) / 1000;

export function summarize(snapshot: HistogramSnapshot): LatencySummary {
  return {
    count: snapshot.count,
    meanMs: snapshot.count === 0 ? 0 : ms(snapshot.sumMicroseconds / snapshot.count),
    p50Ms: ms(percentileMicroseconds(snapshot, 50)),
    p95Ms: ms(percentileMicroseconds(snapshot, 95)),
    p99Ms: ms(percentileMicroseconds(snapshot, 99)),
    p999Ms: ms(percentileMicroseconds(snapshot, 99.9)),
    maxMs: ms(snapshot.maxMicroseconds),
  };
}
