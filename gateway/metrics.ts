// The gateway's Prometheus metrics, on the shared registry of processors/metrics.ts.
import { CallbackGauge, Counter, Histogram, MetricsRegistry } from '../processors/metrics.ts';

export { metricsContentType } from '../processors/metrics.ts';

/** Request latency buckets (seconds): the 25 ms p99 target sits between two of them. */
const httpSecondsBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Records per produce request, up to batchRecordsMax (500). */
const batchRecordsBuckets = [1, 2, 5, 10, 20, 50, 100, 200, 500];

/** Everything the gateway measures; adapters get it and record, /metrics renders it. */
export class GatewayMetrics {
  readonly registry = new MetricsRegistry();
  readonly httpRequestSeconds = this.registry.register(
    new Histogram('gateway_http_request_duration_seconds', 'HTTP request latency, by route template, method and status class', ['route', 'method', 'status_class'], httpSecondsBuckets),
  );
  readonly commandsSent = this.registry.register(
    new Counter('gateway_commands_sent_total', 'Commands acknowledged by Kafka (acks=all), by command type', ['type']),
  );
  readonly commandSendFailures = this.registry.register(
    new Counter('gateway_command_send_failures_total', 'Commands Kafka did not acknowledge in time (answered 503), by command type', ['type']),
  );
  readonly outcomes = this.registry.register(
    new Counter('gateway_outcomes_total', 'Outcomes read from the outcomes topic, by status and code', ['status', 'code']),
  );
  readonly produceBatchRecords = this.registry.register(
    new Histogram('gateway_produce_batch_records', 'Commands per produce request (the micro-batcher)', [], batchRecordsBuckets),
  );
  readonly produceSeconds = this.registry.register(
    new Histogram('gateway_produce_duration_seconds', 'Time from a produce request to its acknowledgement', [], httpSecondsBuckets),
  );
  readonly outcomeReadDelaySeconds = this.registry.register(
    new Histogram(
      'gateway_outcome_read_delay_seconds',
      "From the processor's decision (processedAt) to the gateway reading the outcome: its transaction commit plus the fetch (host clocks)",
      [],
      httpSecondsBuckets,
    ),
  );
  readonly commandTimeouts = this.registry.register(
    new Counter('gateway_command_timeouts_total', 'Requests answered 202: no outcome within COMMAND_TIMEOUT_MS, by route', ['route']),
  );

  /** Gauges read from their owners at scrape time (the waiter table, the batcher). */
  gauge(name: string, help: string, read: () => number): void {
    this.registry.register(new CallbackGauge(name, help, read));
  }
}
