// Where the account processor's time goes per transaction, from two scrapes of its /metrics
// (processors/account/metrics.ts: account_chunk_phase_seconds by phase, account_transaction_commands,
// account_producer_requests_total by API): the mean of each step, and the broker requests, per
// transaction between the scrapes.
import type { ProcessorPhases } from './report.ts';

const phaseNames = ['read', 'decide', 'send', 'offsets', 'commit', 'store'];
const scrapeTimeoutMs = 5000;

/** The processor's metrics text, or undefined when it cannot be had (the report then leaves the line out). */
export async function scrapeProcessor(url: string | undefined): Promise<string | undefined> {
  if (url === undefined) return undefined;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(scrapeTimeoutMs) });
    return response.ok ? await response.text() : undefined;
  } catch {
    return undefined;
  }
}

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export function processorPhases(before: string | undefined, after: string | undefined): ProcessorPhases | undefined {
  if (before === undefined || after === undefined) return undefined;
  const delta = (series: string) => sample(after, series) - sample(before, series);
  const chunks = delta('account_chunk_phase_seconds_count{phase="commit"}');
  if (chunks <= 0) return undefined;
  const meanMs = Object.fromEntries(phaseNames.map((phase) => [phase, (delta(`account_chunk_phase_seconds_sum{phase="${phase}"}`) * 1000) / chunks]));
  // Every transaction ends with one EndTxn (a retried one is rare); per partition that is one per chunk.
  const ended = delta('account_producer_requests_total{api="EndTxn"}');
  const transactions = ended > 0 ? ended : chunks;
  return { chunks, transactions, commandsPerChunk: delta('account_transaction_commands_sum') / Math.max(1, delta('account_transaction_commands_count')), meanMs, requestsPerTransaction: producerRequestsPer(before, after, transactions) };
}

const requestSeries = /^account_producer_requests_total\{api="([A-Za-z0-9]+)"\} /;

/** The transactional producers' requests by API per second between two scrapes (the idle measurement). */
export function producerRequestsPerSecond(before: string | undefined, after: string | undefined, seconds: number): Record<string, number> {
  return before === undefined || after === undefined ? {} : producerRequestsPer(before, after, seconds);
}

/** account_producer_requests_total by API between two scrapes, divided by transactions or seconds: what the broker is asked. */
function producerRequestsPer(before: string, after: string, divisor: number): Record<string, number> {
  const apis = new Set(after.split('\n').flatMap((line) => requestSeries.exec(line)?.[1] ?? []));
  const per: Record<string, number> = {};
  for (const api of [...apis].sort()) {
    const series = `account_producer_requests_total{api="${api}"}`;
    const count = sample(after, series) - sample(before, series);
    if (count > 0) per[api] = count / divisor;
  }
  return per;
}
