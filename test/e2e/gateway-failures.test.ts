// The gateway when something is missing: no Kafka at all (503 without trying to send, never a hang, not ready),
// and no account processor yet (202 with Location; the command completes once one starts).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders } from '../support/keys.ts';

const services: ServiceProcess[] = [];
let ledger: TestLedger;

async function startGateway(env: Record<string, string>): Promise<string> {
  const port = await freePort();
  services.push(startService('gateway/main.ts', { ...env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1', LOG_LEVEL: 'warn' }));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${base}/health`).catch(() => undefined))?.ok ? true : undefined), { what: 'the gateway to listen' });
  return base;
}

const deposit = (base: string, accountId: string, key: string, signal?: AbortSignal) =>
  fetch(`${base}/api/v1/accounts/${accountId}/deposit`, {
    method: 'POST',
    headers: { ...adminHeaders, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify({ amount: 5 }),
    ...(signal ? { signal } : {}),
  });

/**
 * A request to a gateway without Kafka that got this far has hung: far beyond any answer given
 * at once, yet short of the 120 s the gateway below would wait for an outcome.
 */
const hangBoundMs = 30_000;

beforeAll(async () => {
  ledger = await createTestLedger('gateway-failures');
});

afterAll(async () => {
  for (const service of services) await service.kill('SIGTERM');
  await ledger?.close();
});

describe('gateway failure behaviour', () => {
  it('answers 503 without waiting for Kafka and is not ready while Kafka is unreachable', async () => {
    const deadBroker = `127.0.0.1:${await freePort()}`;
    // The longest wait the gateway allows: a request that waited for Kafka would hang past the bound.
    const base = await startGateway({ ...ledger.env, KAFKA_BROKERS: deadBroker, GATEWAY_INSTANCE_ID: 'no-kafka', COMMAND_TIMEOUT_MS: '120000' });
    const response = await deposit(base, randomUUID(), 'k', AbortSignal.timeout(hangBoundMs));
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(response.headers.get('retry-after')).toBe('1');
    // Refused before any send was tried (not "not acknowledged in time" after waiting for one).
    expect(await response.json()).toMatchObject({ code: 'UNAVAILABLE', status: 503, detail: 'the gateway is not connected to Kafka yet' });
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ checks: { producer: false, outcomes: false } });
  });

  it('answers 202 with Location until a processor runs, then the command completes', async () => {
    const base = await startGateway({ ...ledger.env, GATEWAY_INSTANCE_ID: 'no-processor', COMMAND_TIMEOUT_MS: '300' });
    await waitFor(async () => ((await fetch(`${base}/ready`)).ok ? true : undefined), { what: 'the gateway to be ready' });
    const key = randomUUID();
    const opened = await fetch(`${base}/api/v1/accounts`, {
      method: 'POST',
      headers: { ...adminHeaders, 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ ownerName: 'Ada', currency: 'EUR', initialBalance: 1 }),
    });
    expect(opened.status).toBe(202);
    const pending = (await opened.json()) as { commandId: string; accountId: string; status: string };
    expect(pending.status).toBe('pending');
    const location = opened.headers.get('location');
    expect(location).toBe(`/api/v1/commands/${pending.commandId}`);
    expect((await fetch(`${base}${location}`, { headers: adminHeaders })).status).toBe(404);

    services.push(startService('processors/account/main.ts', ledger.env));
    const outcome = await waitFor(
      async () => {
        const response = await fetch(`${base}${location}`, { headers: adminHeaders });
        return response.ok ? ((await response.json()) as Record<string, unknown>) : undefined;
      },
      { what: 'the pending command to complete', timeoutMs: 90_000 },
    );
    expect(outcome).toMatchObject({ commandId: pending.commandId, accountId: pending.accountId, status: 'ACCEPTED', balance: 1 });
  });
});
