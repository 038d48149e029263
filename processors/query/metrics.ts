// The query processor's Prometheus metrics (text format 0.0.4 at GET /metrics), on the shared
// hand-written registry of gateway/metrics.ts. Request latency is one histogram observation per
// answered request; everything about the views is read from their owners when scraped, so the
// fold pays nothing for it. Label values come from closed sets (route templates, partitions).
import { CallbackGauge, Counter, Histogram, MetricsRegistry } from '../metrics.ts';
import type { Progress } from './progress.ts';
import { parkReasons } from './views/index.ts';
import type { VersionWaiters } from './waiters.ts';
import type { EventStream } from './event-stream.ts';

/** GET latencies (seconds): sub-millisecond reads up to the 2 s minVersion bound. */
const requestSecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/** Per-partition numbers read from Progress at scrape time. */
class PartitionMetric {
  constructor(
    readonly name: string,
    private readonly help: string,
    private readonly type: 'gauge' | 'counter',
    private readonly read: () => Array<[number, number]>,
  ) {}

  render(): string {
    let text = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [partition, value] of this.read()) text += `${this.name}{partition="${partition}"} ${value}\n`;
    return text;
  }
}

export class QueryMetrics {
  readonly registry = new MetricsRegistry();
  readonly httpRequestSeconds = this.registry.register(
    new Histogram('query_http_request_duration_seconds', 'Answered HTTP requests, by route template, method and status class', ['route', 'method', 'status'], requestSecondsBuckets),
  );

  /** By reason (views/parked.ts: a closed set). */
  readonly eventsParked = this.registry.register(new Counter('query_events_parked_total', 'Events left out of the views because they cannot be applied, by reason', ['reason']));

  /** `parkedKept` reads how many parked events each open partition store keeps. */
  constructor(progress: Progress, waiters: VersionWaiters, parkedKept: () => Array<[number, number]> = () => []) {
    const partitions = () => progress.report().partitions;
    // Every reason from 0, so a rate or an alert sees the first one.
    for (const reason of parkReasons) this.eventsParked.inc([reason], 0);
    this.registry.register(new CallbackGauge('query_ready', '1 when every assigned partition has caught up with the log', () => (progress.ready() ? 1 : 0)));
    this.registry.register(new CallbackGauge('query_events_applied', 'Events folded into the views since the process started', () => progress.eventsApplied()));
    this.registry.register(new CallbackGauge('query_min_version_waiters', 'Requests parked on ?minVersion', () => waiters.size));
    this.registry.register(
      new PartitionMetric('query_partition_lag_offsets', 'Offsets between the applied position and the log end seen at assignment', 'gauge', () =>
        partitions().map((p) => [p.partition, Math.max(0, Number(BigInt(p.target) - BigInt(p.position)))]),
      ),
    );
    this.registry.register(
      new PartitionMetric('query_partition_live', '1 when the partition serves live views, 0 while it is prepared or rebuilt', 'gauge', () =>
        partitions().map((p) => [p.partition, p.phase === 'live' ? 1 : 0]),
      ),
    );
    this.registry.register(new PartitionMetric('query_parked_events', 'Parked events kept in the partition\'s view store (at most parkedEventsMax)', 'gauge', parkedKept));
  }

  /** The live event stream's open clients and the clients it cut off for falling behind. */
  watchStream(stream: EventStream): void {
    this.registry.register(new CallbackGauge('query_event_streams', 'Open GET /api/v1/events/stream connections (at most STREAM_CLIENTS_MAX)', () => stream.size));
    this.registry.register(new CallbackGauge('query_event_streams_cut_off', 'Event streams cut off since start for leaving STREAM_CLIENT_BUFFER_BYTES_MAX unread', () => stream.cutOff));
  }
}
