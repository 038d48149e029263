// Holds over HTTP on the real broker (DESIGN §10): authorize, capture (part: the rest released),
// void, the codes of each refusal, and expiry by the processor across a SIGKILL and a crash at the
// `mid-expiry` point — the expiry is an event in a transaction like any other, so a crash neither
// loses nor doubles it.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, waitUntilReady, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders } from '../support/keys.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { exitWithin } from '../support/exit.ts';

let ledger: TestLedger;
let processor: ServiceProcess;
let gateway: ServiceProcess;
let base: string;

const startProcessor = async (env: Record<string, string> = {}) => {
  const service = startService('processors/account/main.ts', { ...ledger.env, ...env });
  await service.waitForLine(/account processor started/);
  return service;
};

beforeAll(async () => {
  ledger = await createTestLedger('holds-e2e');
  processor = await startProcessor();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = startService('gateway/main.ts', { ...ledger.env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1', COMMAND_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' });
  await waitUntilReady(gateway, base);
});

afterAll(async () => {
  await gateway?.kill('SIGTERM');
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

async function post(path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...adminHeaders, 'idempotency-key': randomUUID() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

async function openAccount(initialBalance: number): Promise<string> {
  const opened = await post('/api/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR', initialBalance });
  expect(opened.status).toBe(201);
  return opened.body.accountId as string;
}

describe('holds', () => {
  it('authorize, capture part (the rest released), and every refusal with its code', async () => {
    const id = await openAccount(1000);
    const placed = await post(`/api/v1/accounts/${id}/holds`, { amount: 300, reference: 'hotel', expiresInSeconds: 3600 });
    expect(placed).toMatchObject({ status: 201, body: { accountId: id, amount: 300, status: 'ACTIVE', balance: 1000, availableBalance: 700 } });
    expect(Date.parse(placed.body.expiresAt as string)).toBeGreaterThan(Date.now() + 3_500_000);
    const holdId = placed.body.holdId as string;
    // Held money is not available to debits.
    expect(await post(`/api/v1/accounts/${id}/withdraw`, { amount: 701 })).toMatchObject({ status: 422, body: { code: 'INSUFFICIENT_FUNDS' } });
    expect(await post(`/api/v1/accounts/${id}/holds/${holdId}/capture`, { amount: 301 })).toMatchObject({ status: 422, body: { code: 'AMOUNT_EXCEEDS_HOLD' } });
    expect(await post(`/api/v1/accounts/${id}/holds/${holdId}/capture`, { amount: 120 })).toMatchObject({
      status: 200, body: { holdId, status: 'CAPTURED', capturedAmount: 120, balance: 880, availableBalance: 880 },
    });
    expect(await post(`/api/v1/accounts/${id}/holds/${holdId}/capture`, {})).toMatchObject({ status: 409, body: { code: 'HOLD_NOT_ACTIVE' } });
    expect(await post(`/api/v1/accounts/${id}/holds/${holdId}/void`)).toMatchObject({ status: 409, body: { code: 'HOLD_NOT_ACTIVE' } });
    expect(await post(`/api/v1/accounts/${id}/holds/${randomUUID()}/void`)).toMatchObject({ status: 404, body: { code: 'HOLD_NOT_FOUND' } });
    // Someone else's hold is not found on this account.
    const other = await openAccount(50);
    const theirs = await post(`/api/v1/accounts/${other}/holds`, { amount: 50 });
    expect(await post(`/api/v1/accounts/${id}/holds/${theirs.body.holdId as string}/capture`, {})).toMatchObject({ status: 404, body: { code: 'HOLD_NOT_FOUND' } });
    // Bad input leaves no trace.
    for (const bad of [{ amount: -1 }, { amount: 1.5 }, { amount: 10, expiresInSeconds: 59 }, { amount: 10, expiresInSeconds: 2_592_001 }]) {
      expect(await post(`/api/v1/accounts/${id}/holds`, bad)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    }
  });

  it('void releases the whole hold, and the account cannot close while a hold is active', async () => {
    const id = await openAccount(200);
    const placed = await post(`/api/v1/accounts/${id}/holds`, { amount: 200 });
    expect(await post(`/api/v1/accounts/${id}/withdraw`, { amount: 1 })).toMatchObject({ status: 422, body: { code: 'INSUFFICIENT_FUNDS' } });
    expect(await post(`/api/v1/accounts/${id}/holds/${placed.body.holdId as string}/void`)).toMatchObject({ status: 200, body: { status: 'VOIDED', balance: 200, availableBalance: 200 } });
    expect(await post(`/api/v1/accounts/${id}/withdraw`, { amount: 200 })).toMatchObject({ status: 200, body: { balance: 0 } });
    const second = await post(`/api/v1/accounts/${id}/holds`, { amount: 1 });
    expect(second.status).toBe(422);
    expect(await post(`/api/v1/accounts/${id}/close`)).toMatchObject({ status: 200 });
  });

  it('a hold past its expiry is expired by the processor once, across a SIGKILL, and can no longer be captured', async () => {
    const id = await openAccount(500);
    const placed = await post(`/api/v1/accounts/${id}/holds`, { amount: 400, expiresInSeconds: 60 });
    const holdId = placed.body.holdId as string;
    expect(await processor.kill('SIGKILL')).toBe('SIGKILL');
    // Two minutes later, as far as the restarted processor's clock says: the hold is due. The first
    // restart dies at `mid-expiry`, right after producing the ExpireHold (before its pass is done).
    const crashing = startService('processors/account/main.ts', { ...ledger.env, ACCOUNT_CLOCK_OFFSET_MS: String(120_000), LEDGER_CRASH_POINT: 'mid-expiry:1' });
    expect(await exitWithin(crashing, 90_000)).toBe('SIGKILL');
    expect(crashing.lines.find((l) => l.includes('crash point reached')), crashing.lines.slice(-20).join('\n')).toContain('"point":"mid-expiry"');
    processor = await startProcessor({ ACCOUNT_CLOCK_OFFSET_MS: String(120_000) });
    const expired = await waitFor(async () => {
      const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
      const events = snapshot.events.filter((e) => e.value.accountId === id).map((e) => e.value.payload);
      return events.some((e) => e.type === 'HoldExpired') ? { events, snapshot } : undefined;
    }, { what: 'the hold to expire', timeoutMs: 60_000 });
    expect(expired.events.filter((e) => e.type === 'HoldExpired')).toEqual([{ type: 'HoldExpired', holdId, amount: 400 }]);
    expect(expired.snapshot.states.filter((s) => s.value.accountId === id).at(-1)?.value).toMatchObject({ balance: 500, heldBalance: 0 });
    expect(await post(`/api/v1/accounts/${id}/holds/${holdId}/capture`, {})).toMatchObject({ status: 409, body: { code: 'HOLD_NOT_ACTIVE' } });
    // However often it is asked (its id comes from the HoldPlaced event), the expiry is one event.
    expect(checkLedger(expired.snapshot, { partitions: ledger.config.partitions }).violations).toEqual([]);
  });
});
