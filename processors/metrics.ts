// Prometheus metrics for every service (text exposition format 0.0.4 at GET /metrics): a small
// hand-written registry, no dependency. Recording is a Map lookup and a few additions, cheap
// enough for every request; gauges are read when scraped. Label values come from a closed set
// (route templates, status classes, command types, outcome codes), so series stay bounded.

type Labels = readonly string[];

/** Escapes a label value: backslash, double quote and line feed (the format's rules). */
const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function labelText(names: Labels, values: Labels, extra?: string): string {
  const pairs = names.map((name, i) => `${name}="${escapeLabel(values[i] ?? '')}"`);
  if (extra !== undefined) pairs.push(extra);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return Number.isNaN(value) ? 'NaN' : String(value);
}

export interface Metric {
  readonly name: string;
  render(): string;
}

abstract class Labelled<Series> implements Metric {
  /** Joined label values → series; label values are never empty-joined ambiguously (\u0000). */
  protected readonly series = new Map<string, { values: Labels; data: Series }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: Labels,
  ) {}

  protected seriesFor(values: Labels): Series {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values, got ${values.length}`);
    const key = values.length === 1 ? (values[0] ?? '') : values.join('\u0000');
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { values: [...values], data: this.create() };
      this.series.set(key, entry);
    }
    return entry.data;
  }

  protected header(type: string): string {
    return `# HELP ${this.name} ${this.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${this.name} ${type}\n`;
  }

  protected abstract create(): Series;
  abstract render(): string;
}

export class Counter extends Labelled<{ value: number }> {
  inc(values: Labels = [], amount = 1): void {
    if (!(amount >= 0)) throw new Error(`${this.name}: a counter only goes up (got ${amount})`);
    this.seriesFor(values).value += amount;
  }

  get(values: Labels = []): number {
    return this.series.get(values.join('\u0000'))?.data.value ?? 0;
  }

  protected create() {
    return { value: 0 };
  }

  render(): string {
    let text = this.header('counter');
    for (const { values, data } of this.series.values()) text += `${this.name}${labelText(this.labelNames, values)} ${formatNumber(data.value)}\n`;
    return text;
  }
}

/** A gauge read at scrape time from whoever owns the number (no bookkeeping on the hot path). */
export class CallbackGauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n${this.name} ${formatNumber(this.read())}\n`;
  }
}

interface HistogramSeries {
  /** Per bucket (not cumulative; rendered cumulative), the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram extends Labelled<HistogramSeries> {
  constructor(name: string, help: string, labelNames: Labels, readonly buckets: readonly number[]) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i += 1) {
      if (!((buckets[i] ?? 0) > (buckets[i - 1] ?? 0))) throw new Error(`${name}: buckets must increase`);
    }
  }

  observe(values: Labels, value: number): void {
    const series = this.seriesFor(values);
    const buckets = this.buckets;
    let i = 0;
    while (i < buckets.length && value > (buckets[i] ?? 0)) i += 1;
    series.counts[i] = (series.counts[i] ?? 0) + 1;
    series.sum += value;
    series.count += 1;
  }

  protected create(): HistogramSeries {
    return { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 };
  }

  render(): string {
    let text = this.header('histogram');
    for (const { values, data } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i += 1) {
        cumulative += data.counts[i] ?? 0;
        const le = i < this.buckets.length ? formatNumber(this.buckets[i] ?? 0) : '+Inf';
        text += `${this.name}_bucket${labelText(this.labelNames, values, `le="${le}"`)} ${cumulative}\n`;
      }
      text += `${this.name}_sum${labelText(this.labelNames, values)} ${formatNumber(data.sum)}\n`;
      text += `${this.name}_count${labelText(this.labelNames, values)} ${data.count}\n`;
    }
    return text;
  }
}

export class MetricsRegistry {
  private readonly metrics: Metric[] = [];

  register<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} is registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }
}

export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8';

