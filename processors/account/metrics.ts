// The account processor's Prometheus metrics and the small HTTP server that exposes them
// (`/metrics`, `/health`) on ACCOUNT_METRICS_PORT. Recording never throws into the loop.
import { createServer, type Server } from 'node:http';
import { Counter, Histogram, MetricsRegistry, metricsContentType } from '../metrics.ts';
import type { ChunkStats } from './task.ts';

/** Transaction durations (seconds): commits take tens to hundreds of milliseconds under load. */
const transactionSecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Commands per transaction, up to transactionCommandsMax (2,000). */
const transactionCommandsBuckets = [1, 10, 50, 100, 250, 500, 1000, 2000];

/** A gauge with one `partition` label, read from a map at scrape time. */
class PartitionGauge {
  readonly values = new Map<number, number>();
  constructor(
    readonly name: string,
    private readonly help: string,
  ) {}
  render(): string {
    let text = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    for (const [partition, value] of [...this.values].sort((a, b) => a[0] - b[0])) text += `${this.name}{partition="${partition}"} ${value}\n`;
    return text;
  }
}

export class ProcessorMetrics {
  readonly registry = new MetricsRegistry();
  readonly commands = this.registry.register(new Counter('account_commands_total', 'Commands processed, by result', ['result']));
  readonly rejections = this.registry.register(new Counter('account_rejections_total', 'Commands rejected, by code', ['code']));
  readonly transactionSeconds = this.registry.register(
    new Histogram('account_transaction_duration_seconds', 'Send, offsets and commit of one transaction', [], transactionSecondsBuckets),
  );
  readonly phaseSeconds = this.registry.register(
    new Histogram('account_chunk_phase_seconds', 'Where a chunk\'s time goes: read (decode, store reads), decide, send, offsets, commit, store (the local write)', ['phase'], transactionSecondsBuckets),
  );
  readonly transactionCommands = this.registry.register(
    new Histogram('account_transaction_commands', 'Commands per transaction', [], transactionCommandsBuckets),
  );
  readonly producerRequests = this.registry.register(
    new Counter('account_producer_requests_total', 'Requests the partitions\' transactional producers sent to brokers, by API (what transactions cost the broker)', ['api']),
  );
  readonly partitionFailures = this.registry.register(new Counter('account_partition_failures_total', 'Transactions or initializations that failed and were retried', ['partition']));
  readonly restoredRecords = this.registry.register(new Counter('account_restored_records_total', 'Changelog records applied to stores while restoring', ['partition']));
  readonly lag = this.registry.register(new PartitionGauge('account_consumer_lag', 'Offsets of the commands topic behind the last commit, per owned partition'));

  chunk(partition: number, stats: ChunkStats): void {
    this.commands.inc(['accepted'], stats.accepted);
    this.commands.inc(['rejected'], stats.rejected);
    this.commands.inc(['dead_lettered'], stats.deadLettered);
    for (const [code, count] of stats.rejectedByCode) this.rejections.inc([code], count);
    this.transactionSeconds.observe([], stats.transactionMs / 1000);
    for (const [phase, ms] of Object.entries(stats.phases)) this.phaseSeconds.observe([phase], ms / 1000);
    this.transactionCommands.observe([], stats.commands);
    this.lag.values.set(partition, stats.lag);
  }

  /** Forgets the lag of partitions this instance no longer owns. */
  owned(partitions: number[]): void {
    for (const p of this.lag.values.keys()) if (!partitions.includes(p)) this.lag.values.delete(p);
  }
}

export function serveMetrics(metrics: ProcessorMetrics, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/metrics') {
      response.writeHead(200, { 'content-type': metricsContentType });
      response.end(metrics.registry.render());
    } else if (request.url === '/health') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"status":"ok"}');
    } else {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"code":"ROUTE_NOT_FOUND"}');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
