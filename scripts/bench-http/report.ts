// From the load generator's raw result to the numbers the bench reports: requests/s, latency
// percentiles per class (accepted 2xx, rejected 4xx, pending 202) overall and per operation,
// counts per status, code and error, and the CPU split; as a short table and as JSON.
import type { CpuSplit } from './cpu.ts';
import { mergeSnapshots, summarize, type LatencySummary } from './histogram.ts';
import type { LatencyClass, LoadResult } from './load-generator.ts';
import { operations, type Operation } from './options.ts';

export interface PhaseReport {
  name: string;
  mode: 'closed loop' | 'open loop';
  concurrency: number;
  targetRate: number | undefined;
  windowSeconds: number;
  requests: number;
  requestsPerSecond: number;
  /** Answered 2xx/4xx per second: the commands the ledger decided (or left pending). */
  answeredPerSecond: number;
  latency: Record<LatencyClass, LatencySummary>;
  latencyByOperation: Record<Operation, Record<LatencyClass, LatencySummary>>;
  statusCounts: Record<string, number>;
  codeCounts: Record<string, number>;
  errorCounts: Record<string, number>;
  /** Open loop: requests not sent because too many were outstanding (the gateway fell behind). */
  dropped: number;
  cpu: CpuSplit | undefined;
  /** Per request, where the time went (the gateway's Server-Timing stages), answered requests only. */
  stages: Record<string, LatencySummary>;
  /** Per processor chunk (one transaction), mean ms of each step, over the phase (its /metrics). */
  processorPhases: ProcessorPhases | undefined;
}

export interface ProcessorPhases {
  /** Partition chunks decided and committed (per partition, each its own transaction). */
  chunks: number;
  /** Kafka transactions ended (EndTxn requests): fewer than chunks when one carries several (ACCOUNT_TRANSACTIONS=instance). */
  transactions: number;
  commandsPerChunk: number;
  meanMs: Record<string, number>;
  /** Requests the transactional producers sent per transaction, by API (all of them: initialization and retries included). */
  requestsPerTransaction: Record<string, number>;
}

/** Server-Timing stages in the order a request meets them. */
const stageOrder = ['produce', 'queue', 'decide', 'commit', 'reply', 'total'];

const classes: LatencyClass[] = ['accepted', 'rejected', 'pending'];

export function phaseReport(name: string, result: LoadResult, concurrency: number, rate: number | undefined, cpu: CpuSplit | undefined, processorPhases?: ProcessorPhases): PhaseReport {
  const windowSeconds = result.windowMs / 1000;
  const latency = Object.fromEntries(classes.map((c) => [c, summarize(mergeSnapshots(operations.map((o) => result.histograms[o][c])))])) as PhaseReport['latency'];
  const latencyByOperation = Object.fromEntries(
    operations.map((o) => [o, Object.fromEntries(classes.map((c) => [c, summarize(result.histograms[o][c])]))]),
  ) as PhaseReport['latencyByOperation'];
  const requests = Object.values(result.statusCounts).reduce((n, c) => n + c, 0) + Object.values(result.errorCounts).reduce((n, c) => n + c, 0);
  const answered = classes.reduce((n, c) => n + latency[c].count, 0);
  return {
    name,
    mode: rate === undefined ? 'closed loop' : 'open loop',
    concurrency,
    targetRate: rate,
    windowSeconds: Math.round(windowSeconds * 10) / 10,
    requests,
    requestsPerSecond: Math.round(requests / windowSeconds),
    answeredPerSecond: Math.round(answered / windowSeconds),
    latency,
    latencyByOperation,
    statusCounts: result.statusCounts,
    codeCounts: result.codeCounts,
    errorCounts: result.errorCounts,
    dropped: result.dropped,
    cpu,
    stages: Object.fromEntries(stageOrder.filter((s) => result.stages[s] !== undefined).map((s) => [s, summarize(result.stages[s]!)])),
    processorPhases,
  };
}

const pad = (text: string | number, width: number): string => String(text).padStart(width);
const row = (label: string, s: LatencySummary): string =>
  `  ${label.padEnd(22)}${pad(s.count, 9)}${pad(s.p50Ms.toFixed(1), 8)}${pad(s.p95Ms.toFixed(1), 8)}${pad(s.p99Ms.toFixed(1), 8)}${pad(s.maxMs.toFixed(1), 9)}`;

export function formatPhase(report: PhaseReport): string {
  const lines: string[] = [];
  const target = report.targetRate === undefined ? '' : `, target ${report.targetRate} req/s`;
  lines.push(`${report.name}: ${report.mode}, concurrency ${report.concurrency}${target}, ${report.windowSeconds} s measured`);
  lines.push(`  throughput ${report.requestsPerSecond} requests/s (${report.requests} requests)${report.dropped > 0 ? `, ${report.dropped} not sent (backlog)` : ''}`);
  lines.push(`  ${'latency ms'.padEnd(22)}${pad('count', 9)}${pad('p50', 8)}${pad('p95', 8)}${pad('p99', 8)}${pad('max', 9)}`);
  lines.push(row('accepted (200/201)', report.latency.accepted));
  lines.push(row('rejected (4xx)', report.latency.rejected));
  if (report.latency.pending.count > 0) lines.push(row('pending (202 timeout)', report.latency.pending));
  for (const op of operations) {
    const s = report.latencyByOperation[op].accepted;
    if (s.count > 0) lines.push(row(`  ${op} accepted`, s));
  }
  if (Object.keys(report.stages).length > 0) {
    lines.push(`  ${'stages ms (answered)'.padEnd(22)}${pad('count', 9)}${pad('p50', 8)}${pad('p95', 8)}${pad('p99', 8)}${pad('max', 9)}`);
    for (const [stage, summary] of Object.entries(report.stages)) lines.push(row(`  ${stage}`, summary));
  }
  if (report.processorPhases !== undefined) {
    const p = report.processorPhases;
    const steps = Object.entries(p.meanMs).map(([phase, ms]) => `${phase} ${ms.toFixed(2)}`).join(', ');
    const carried = p.transactions === p.chunks ? `${p.chunks} transactions` : `${p.chunks} partition chunks in ${p.transactions} transactions (${(p.chunks / Math.max(1, p.transactions)).toFixed(1)} chunks each)`;
    lines.push(`  processor: ${carried}, ${p.commandsPerChunk.toFixed(1)} commands per chunk; mean ms per chunk: ${steps}`);
    const requests = Object.entries(p.requestsPerTransaction);
    const total = requests.reduce((n, [, count]) => n + count, 0);
    if (requests.length > 0) lines.push(`  broker requests per transaction: ${total.toFixed(2)} (${requests.map(([api, count]) => `${api} ${count.toFixed(2)}`).join(', ')})`);
  }
  const statuses = Object.entries(report.statusCounts).map(([k, v]) => `${k}: ${v}`).join(', ');
  const codes = Object.entries(report.codeCounts).map(([k, v]) => `${k}: ${v}`).join(', ');
  const errors = Object.entries(report.errorCounts).map(([k, v]) => `${k}: ${v}`).join(', ');
  lines.push(`  status ${statuses || '-'}`);
  if (codes) lines.push(`  codes  ${codes}`);
  lines.push(`  errors ${errors || 'none'}`);
  if (report.cpu !== undefined) lines.push(...cpuLines(report.cpu));
  return lines.join('\n');
}

function cpuLines(cpu: CpuSplit): string[] {
  const split = cpu.processes.map((p) => `${p.name.split(' ')[0]} ${p.cores.toFixed(2)}`).join(', ');
  return [`  cpu (cores of ${cpu.cores}, machine ${cpu.machineBusyPercent}% busy): ${split}`, ...cpu.others.map((other) => `    other: ${other.cores.toFixed(2)} ${other.name}`)];
}

/** The idle measurement: what the services and the broker use with no requests at all. */
export function formatIdle(cpu: CpuSplit, producerRequestsPerSecond: Record<string, number>): string {
  const requests = Object.entries(producerRequestsPerSecond).map(([api, n]) => `${api} ${n.toFixed(2)}`).join(', ');
  return [`idle: no requests for ${cpu.windowSeconds.toFixed(1)} s`, ...cpuLines(cpu), `  transactional producer requests/s: ${requests || 'none'}`].join('\n');
}
