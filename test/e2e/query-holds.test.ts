// The holds routes of the query processor (DESIGN §11) on the real broker, fed by the real account
// processor: holds placed, captured in part and voided over the gateway, one expired by the
// processor (its clock runs two minutes ahead, so a 60-second hold is due at once), then every
// status, paging and the refusals as the query side answers them.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, waitUntilReady, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders } from '../support/keys.ts';
import { allPages, getJson, startQuery, type InProcessQuery } from '../integration/query-support.ts';

let ledger: TestLedger;
let processor: ServiceProcess;
let gateway: ServiceProcess;
let query: InProcessQuery;
let base: string;
const queryBase = () => query.processor.url;

beforeAll(async () => {
  ledger = await createTestLedger('query-holds', { partitions: 2 });
  processor = startService('processors/account/main.ts', { ...ledger.env, ACCOUNT_CLOCK_OFFSET_MS: String(120_000) });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = startService('gateway/main.ts', { ...ledger.env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1', COMMAND_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' });
  query = await startQuery(ledger);
  await processor.waitForLine(/account processor started/, { since: 0, timeoutMs: 60_000 });
  await waitUntilReady(gateway, base);
}, 120_000);

afterAll(async () => {
  await query?.processor.stop();
  await gateway?.kill('SIGTERM');
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

async function post(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const headers: Record<string, string> = { ...adminHeaders, 'idempotency-key': randomUUID() };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const answer = (await response.json()) as Record<string, unknown>;
  expect([path, response.status]).toEqual([path, path.endsWith('/holds') || path.endsWith('/accounts') ? 201 : 200]);
  return answer;
}

describe('holds on the query side, from the real processor', () => {
  it('shows each hold in its status, pages through them, and refuses what it cannot answer with a code', async () => {
    const opened = await post('/api/v1/accounts', { ownerName: 'Hilda Holder', currency: 'EUR', initialBalance: 1000 });
    const id = opened.accountId as string;
    const place = async (amount: number, expiresInSeconds: number, reference?: string) =>
      (await post(`/api/v1/accounts/${id}/holds`, { amount, expiresInSeconds, ...(reference === undefined ? {} : { reference }) })).holdId as string;
    const captured = await place(300, 7200, 'hotel');
    const capture = await post(`/api/v1/accounts/${id}/holds/${captured}/capture`, { amount: 120 });
    const voided = await place(100, 7200);
    await post(`/api/v1/accounts/${id}/holds/${voided}/void`);
    const expiring = await place(50, 60);
    const active = await place(20, 7200, 'taxi');
    const last = await post(`/api/v1/accounts/${id}/holds`, { amount: 5, expiresInSeconds: 7200 });

    // Read your writes: the view has applied the last placement.
    const placedLast = await getJson(queryBase(), `/api/v1/accounts/${id}/holds/${last.holdId as string}?minVersion=${last.version as number}`);
    expect(placedLast).toMatchObject({ status: 200, body: { status: 'ACTIVE', amount: 5, accountId: id, capturedAmount: null, releasedAmount: null, closedAt: null, actor: 'bootstrap' } });
    const expired = await waitFor(async () => {
      const { body } = await getJson(queryBase(), `/api/v1/accounts/${id}/holds?status=EXPIRED`);
      return body.items?.length === 1 ? body.items[0] : undefined;
    }, { what: 'the processor to expire the 60-second hold', timeoutMs: 60_000 });
    expect(expired).toMatchObject({ holdId: expiring, status: 'EXPIRED', amount: 50, releasedAmount: 50, capturedAmount: null });
    expect(Date.parse(expired.closedAt)).toBeGreaterThanOrEqual(Date.parse(expired.placedAt));

    const one = await getJson(queryBase(), `/api/v1/accounts/${id}/holds/${captured}`);
    expect(one).toMatchObject({ status: 200, body: { holdId: captured, status: 'CAPTURED', amount: 300, capturedAmount: 120, releasedAmount: 180, reference: 'hotel', commandId: expect.any(String) } });
    expect(Date.parse(one.body.closedAt)).toBeGreaterThanOrEqual(Date.parse(one.body.placedAt));
    const byStatus = async (status: string) => (await getJson(queryBase(), `/api/v1/accounts/${id}/holds?status=${status}`)).body.items.map((h: { holdId: string }) => h.holdId);
    expect(await byStatus('CAPTURED')).toEqual([captured]);
    expect(await byStatus('VOIDED')).toEqual([voided]);
    expect(await byStatus('ACTIVE')).toEqual([last.holdId, active]);

    // Every hold once, newest placed first, two to a page.
    const all = await allPages<{ holdId: string; status: string }>(queryBase(), `/api/v1/accounts/${id}/holds`, 2);
    expect(all.map((h) => [h.holdId, h.status])).toEqual([[last.holdId, 'ACTIVE'], [active, 'ACTIVE'], [expiring, 'EXPIRED'], [voided, 'VOIDED'], [captured, 'CAPTURED']]);
    // The account view agrees: only the two active holds are held.
    expect((await getJson(queryBase(), `/api/v1/accounts/${id}`)).body).toMatchObject({ heldBalance: 25, balance: capture.balance });

    expect(await getJson(queryBase(), `/api/v1/accounts/${id}/holds/${randomUUID()}`)).toMatchObject({ status: 404, body: { code: 'HOLD_NOT_FOUND' } });
    expect(await getJson(queryBase(), `/api/v1/accounts/${randomUUID()}/holds`)).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    expect(await getJson(queryBase(), `/api/v1/accounts/${id}/holds?status=PENDING`)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  });
});
