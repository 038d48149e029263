// The load generator of `npm run bench:http`, a process of its own (forked with an IPC channel) so
// its CPU is measured apart from the orchestrator's and it never waits behind log parsing. It
// drives the gateway over keep-alive HTTP (maxSockets = concurrency), closed loop (each answer
// starts the next request) or open loop (`rate` requests/s on a fixed schedule, latency measured
// from the scheduled time, so a slow gateway cannot hide its queueing: no coordinated omission).
import { benchApiKey } from '../bench-key.ts';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { prng } from '../workload.ts';
import { LatencyHistogram, type HistogramSnapshot } from './histogram.ts';
import { operations, type LoadPlan, type Operation } from './options.ts';
import { parseServerTiming } from '../../gateway/server-timing.ts';

/** Open loop: requests scheduled but not answered at most; beyond, a request is dropped (counted). */
const outstandingMax = 20_000;
/** Open loop: how often the schedule is checked; each tick sends every request that is due. */
const scheduleTickMs = 1;
const progressIntervalMs = 500;

export type LatencyClass = 'accepted' | 'rejected' | 'pending';

export interface LoadProgress {
  type: 'progress';
  measuring: boolean;
  completed: number;
  accepted: number;
  rejected: number;
  errors: number;
  inFlight: number;
}

export interface LoadResult {
  type: 'result';
  /** Measured window: from the end of the warmup to the last answer of a measured request. */
  windowMs: number;
  measured: number;
  statusCounts: Record<string, number>;
  /** Codes of 4xx/5xx problem bodies. */
  codeCounts: Record<string, number>;
  errorCounts: Record<string, number>;
  dropped: number;
  /** op → class → histogram; 5xx and transport errors have no latency class. */
  histograms: Record<Operation, Record<LatencyClass, HistogramSnapshot>>;
  /** Server-Timing stage → histogram, over answered (non-202) measured requests (gateway/server-timing.ts). */
  stages: Record<string, HistogramSnapshot>;
}

type Message = { type: 'measuring' } | LoadProgress | LoadResult;
const send = (message: Message): void => void process.send?.(message);

function codeOf(body: string): string {
  const at = body.indexOf('"code":"');
  if (at < 0) return 'none';
  return body.slice(at + 8, body.indexOf('"', at + 8));
}

export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const authorization = `Bearer ${benchApiKey}`;
  const url = new URL(plan.baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.concurrency, maxFreeSockets: plan.concurrency });
  const random = prng(plan.seed);
  const totalWeight = operations.reduce((n, o) => n + plan.mix[o], 0);
  const cumulative = operations.map((_, i) => operations.slice(0, i + 1).reduce((n, o) => n + plan.mix[o], 0) / totalWeight);
  const accounts = plan.accounts;
  const depositPaths = accounts.map((a) => `/api/v1/accounts/${a}/deposit`);
  const withdrawPaths = accounts.map((a) => `/api/v1/accounts/${a}/withdraw`);
  const histograms = Object.fromEntries(operations.map((o) => [o, { accepted: new LatencyHistogram(), rejected: new LatencyHistogram(), pending: new LatencyHistogram() }])) as Record<Operation, Record<LatencyClass, LatencyHistogram>>;
  const stages = new Map<string, LatencyHistogram>();
  const statusCounts: Record<string, number> = {};
  const codeCounts: Record<string, number> = {};
  const errorCounts: Record<string, number> = {};
  const progress: LoadProgress = { type: 'progress', measuring: false, completed: 0, accepted: 0, rejected: 0, errors: 0, inFlight: 0 };
  let sequence = 0;
  let dropped = 0;
  let measured = 0;
  let lastAnswerAt = 0;
  const startedAt = performance.now();
  const measureFrom = startedAt + plan.warmupMs;
  const stopAt = measureFrom + plan.durationMs;
  let stopped = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const issuing = (): boolean => {
    if (stopped) return false;
    if (performance.now() >= stopAt || (plan.requests !== undefined && measured >= plan.requests)) stopped = true;
    return !stopped;
  };

  function answered(op: Operation, scheduledAt: number, status: number, body: string | undefined, error: string | undefined, timing?: string): void {
    const now = performance.now();
    progress.inFlight -= 1;
    progress.completed += 1;
    if (scheduledAt >= measureFrom) {
      lastAnswerAt = now;
      if (timing !== undefined && status !== 202) {
        for (const [stage, ms] of Object.entries(parseServerTiming(timing))) {
          let histogram = stages.get(stage);
          if (histogram === undefined) stages.set(stage, (histogram = new LatencyHistogram()));
          histogram.record(ms * 1000);
        }
      }
      const micros = (now - scheduledAt) * 1000;
      if (error !== undefined) errorCounts[error] = (errorCounts[error] ?? 0) + 1;
      else {
        statusCounts[status] = (statusCounts[status] ?? 0) + 1;
        if (body !== undefined) codeCounts[codeOf(body)] = (codeCounts[codeOf(body)] ?? 0) + 1;
      }
      if (error === undefined && status < 300) histograms[op][status === 202 ? 'pending' : 'accepted'].record(micros);
      else if (error === undefined && status < 500) histograms[op].rejected.record(micros);
    }
    if (error !== undefined || status >= 500) progress.errors += 1;
    else if (status < 300) progress.accepted += 1;
    else progress.rejected += 1;
    if (plan.rate === undefined && issuing()) fire(now);
    else if (stopped && progress.inFlight === 0) finish();
  }

  function fire(scheduledAt: number): void {
    if (scheduledAt >= measureFrom) measured += 1;
    const roll = random();
    const op: Operation = roll < (cumulative[0] ?? 1) ? 'deposit' : roll < (cumulative[1] ?? 1) ? 'withdraw' : 'transfer';
    const from = Math.floor(random() * accounts.length);
    const amount = 1 + Math.floor(random() * plan.amountMax);
    let path: string;
    let body: string;
    if (op === 'transfer') {
      const to = (from + 1 + Math.floor(random() * (accounts.length - 1))) % accounts.length;
      path = '/api/v1/transfers';
      body = `{"fromAccountId":"${accounts[from]}","toAccountId":"${accounts[to]}","amount":${amount}}`;
    } else {
      path = (op === 'deposit' ? depositPaths : withdrawPaths)[from] ?? '';
      body = `{"amount":${amount}}`;
    }
    progress.inFlight += 1;
    let settled = false;
    const settle = (status: number, text: string | undefined, error: string | undefined, timing?: string): void => {
      if (settled) return;
      settled = true;
      answered(op, scheduledAt, status, text, error, timing);
    };
    const request = http.request(
      {
        agent, host: url.hostname, port: url.port, method: 'POST', path,
        headers: { 'content-type': 'application/json', 'content-length': body.length, 'idempotency-key': `${plan.keyPrefix}${(sequence++).toString(36)}`, authorization },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        const header = response.headers['server-timing'];
        const timing = Array.isArray(header) ? header.join(', ') : header;
        if (status < 400) {
          response.resume();
          response.on('end', () => settle(status, undefined, undefined, timing));
          return;
        }
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => settle(status, text, undefined, timing));
      },
    );
    request.setTimeout(plan.requestTimeoutMs, () => request.destroy(Object.assign(new Error('timeout'), { code: 'CLIENT_TIMEOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => settle(0, undefined, error.code ?? error.message));
    request.end(body);
  }

  const reporter = setInterval(() => {
    progress.measuring = performance.now() >= measureFrom;
    send(progress);
  }, progressIntervalMs);
  const measuringTimer = setTimeout(() => send({ type: 'measuring' }), plan.warmupMs);
  if (plan.rate === undefined) {
    for (let i = 0; i < plan.concurrency && issuing(); i += 1) fire(performance.now());
  } else {
    const intervalMs = 1000 / plan.rate;
    let nextAt = startedAt;
    const ticker = setInterval(() => {
      const now = performance.now();
      while (nextAt <= now && issuing()) {
        if (progress.inFlight >= outstandingMax) dropped += nextAt >= measureFrom ? 1 : 0;
        else fire(nextAt);
        nextAt += intervalMs;
      }
      if (!stopped) return;
      clearInterval(ticker);
      if (progress.inFlight === 0) finish();
    }, scheduleTickMs);
  }

  return finished.then(() => {
    clearInterval(reporter);
    clearTimeout(measuringTimer);
    agent.destroy();
    const snapshots = Object.fromEntries(
      operations.map((o) => [o, { accepted: histograms[o].accepted.snapshot(), rejected: histograms[o].rejected.snapshot(), pending: histograms[o].pending.snapshot() }]),
    ) as LoadResult['histograms'];
    const stageSnapshots = Object.fromEntries([...stages].map(([stage, histogram]) => [stage, histogram.snapshot()]));
    return { type: 'result', windowMs: Math.max(1, lastAnswerAt - measureFrom), measured, statusCounts, codeCounts, errorCounts, dropped, histograms: snapshots, stages: stageSnapshots };
  });
}

// Forked by the orchestrator: one plan in, progress and one result out, then exit.
if (process.send !== undefined) {
  process.once('message', (plan: LoadPlan) => {
    void runLoad(plan).then((result) => {
      send(result);
      process.disconnect?.();
    });
  });
}
