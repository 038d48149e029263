// GET /metrics: Prometheus text that counts what the gateway did, by route template and status
// class, command type and outcome code; the waiting-requests gauge and the 202 counter; and the
// hand-written registry's format rules (cumulative buckets, label escaping, one name once).
import { describe, expect, it, vi } from 'vitest';
import { Counter, Histogram, MetricsRegistry, metricsContentType } from '../../../processors/metrics.ts';
import { accountA, harness, json, outcomeFor, rejectedFor } from './harness.ts';

const deposit = `/api/v1/accounts/${accountA}/deposit`;
const withdraw = `/api/v1/accounts/${accountA}/withdraw`;

async function scrape(gateway: ReturnType<typeof harness>): Promise<{ status: number; type: string | undefined; lines: string[] }> {
  const response = await gateway.app.inject({ method: 'GET', url: '/metrics' });
  return { status: response.statusCode, type: response.headers['content-type'] as string | undefined, lines: response.body.split('\n') };
}

/** The value of the one sample line that starts with `series ` (name plus labels). */
function sample(lines: string[], series: string): number | undefined {
  const line = lines.find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('GET /metrics', () => {
  it('answers Prometheus text with every metric described, before any traffic', async () => {
    const { status, type, lines } = await scrape(harness());
    expect(status).toBe(200);
    expect(type).toBe(metricsContentType);
    for (const name of [
      'gateway_http_request_duration_seconds', 'gateway_commands_sent_total', 'gateway_command_send_failures_total', 'gateway_outcomes_total',
      'gateway_produce_batch_records', 'gateway_produce_duration_seconds', 'gateway_command_timeouts_total', 'gateway_pending_waiters',
    ]) {
      expect(lines).toContain(`# TYPE ${name} ${name.endsWith('_total') ? 'counter' : name === 'gateway_pending_waiters' ? 'gauge' : 'histogram'}`);
    }
    expect(sample(lines, 'gateway_pending_waiters')).toBe(0);
  });

  it('times requests by route template and status class, and counts commands and outcomes', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: c.payload.type === 'Deposit' ? outcomeFor(c, { balance: 10 }) : rejectedFor(c, 'INSUFFICIENT_FUNDS') }];
    expect((await gateway.request(json(deposit, { amount: 10 }))).status).toBe(200);
    expect((await gateway.request(json(deposit, { amount: 5 }))).status).toBe(200);
    expect((await gateway.request(json(withdraw, { amount: 99 }))).status).toBe(422);
    expect((await gateway.request(json(deposit, { amount: 'ten' }))).status).toBe(400);
    const { lines } = await scrape(gateway);
    const route = (url: string, statusClass: string) => `route="${url}",method="POST",status_class="${statusClass}"`;
    expect(sample(lines, `gateway_http_request_duration_seconds_count{${route('/api/v1/accounts/:id/deposit', '2xx')}}`)).toBe(2);
    expect(sample(lines, `gateway_http_request_duration_seconds_count{${route('/api/v1/accounts/:id/deposit', '4xx')}}`)).toBe(1);
    expect(sample(lines, `gateway_http_request_duration_seconds_count{${route('/api/v1/accounts/:id/withdraw', '4xx')}}`)).toBe(1);
    expect(sample(lines, `gateway_http_request_duration_seconds_bucket{${route('/api/v1/accounts/:id/deposit', '2xx')},le="+Inf"}`)).toBe(2);
    expect(sample(lines, 'gateway_commands_sent_total{type="Deposit"}')).toBe(2);
    expect(sample(lines, 'gateway_commands_sent_total{type="Withdraw"}')).toBe(1);
    expect(sample(lines, 'gateway_outcomes_total{status="ACCEPTED",code="none"}')).toBe(2);
    expect(sample(lines, 'gateway_outcomes_total{status="REJECTED",code="INSUFFICIENT_FUNDS"}')).toBe(1);
  });

  it('labels unknown URLs "unmatched", never with the raw URL (bounded series)', async () => {
    const gateway = harness();
    await gateway.app.inject({ method: 'GET', url: '/no/such/thing?x=1' });
    const { lines } = await scrape(gateway);
    expect(sample(lines, 'gateway_http_request_duration_seconds_count{route="unmatched",method="GET",status_class="4xx"}')).toBe(1);
    expect(lines.some((l) => l.includes('/no/such/thing'))).toBe(false);
  });

  it('shows a waiting request in the gauge, then counts its 202 as a timeout', async () => {
    // A command timeout far beyond the test: the wait ends when the test releases it (the way a
    // timeout does: the waiter settles without an outcome), not when a busy machine's clock says.
    const gateway = harness({ commandTimeoutMs: 600_000 });
    const answer = gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'slow-1' }));
    await vi.waitFor(async () => expect(sample((await scrape(gateway)).lines, 'gateway_pending_waiters')).toBe(1), { timeout: 30_000, interval: 5 });
    gateway.outcomes.releaseAll();
    expect((await answer).status).toBe(202);
    const { lines } = await scrape(gateway);
    expect(sample(lines, 'gateway_pending_waiters')).toBe(0);
    expect(sample(lines, 'gateway_command_timeouts_total{route="/api/v1/accounts/:id/deposit"}')).toBe(1);
  });

  it('counts a send Kafka refused as a failure, not as sent', async () => {
    const gateway = harness();
    gateway.sink.failure = new Error('boom');
    await gateway.request(json(deposit, { amount: 10 }));
    const { lines } = await scrape(gateway);
    expect(sample(lines, 'gateway_command_send_failures_total{type="Deposit"}')).toBe(1);
    expect(sample(lines, 'gateway_commands_sent_total{type="Deposit"}')).toBeUndefined();
  });
});

describe('the metrics registry', () => {
  it('renders histogram buckets cumulatively, with sum and count', () => {
    const registry = new MetricsRegistry();
    const histogram = registry.register(new Histogram('batch_records', 'records per batch', [], [1, 10, 100]));
    for (const value of [1, 5, 7, 50, 1000]) histogram.observe([], value);
    expect(registry.render().split('\n')).toEqual([
      '# HELP batch_records records per batch',
      '# TYPE batch_records histogram',
      'batch_records_bucket{le="1"} 1',
      'batch_records_bucket{le="10"} 3',
      'batch_records_bucket{le="100"} 4',
      'batch_records_bucket{le="+Inf"} 5',
      'batch_records_sum 1063',
      'batch_records_count 5',
      '',
    ]);
  });

  it('escapes label values and refuses a name twice, a falling counter and a wrong label count', () => {
    const registry = new MetricsRegistry();
    const counter = registry.register(new Counter('things_total', 'things', ['name']));
    counter.inc(['a "quoted"\\back\nslash'], 2);
    expect(registry.render()).toContain('things_total{name="a \\"quoted\\"\\\\back\\nslash"} 2');
    expect(() => registry.register(new Counter('things_total', 'again', []))).toThrow(/twice/);
    expect(() => counter.inc(['x'], -1)).toThrow(/only goes up/);
    expect(() => counter.inc([])).toThrow(/label values/);
  });
});
