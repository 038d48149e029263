// Reversals over HTTP on the real broker (DESIGN §10): deposits, withdrawals and captures taken
// back at once; a completed transfer taken back by its saga (the destination pays, the source is
// credited), or failed when the destination cannot pay — nothing moves and a later reversal is
// still possible; each transaction reversed at most once, also after the processor's store is
// rebuilt from the changelogs eight days later; every refusal with its code, and bad input with
// no trace in the ledger.
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, waitUntilReady, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders } from '../support/keys.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { creditCommandId, refundCommandId } from '../../schemas/ids.ts';

const dayMs = 86_400_000;
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
  ledger = await createTestLedger('reversals-e2e');
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

type Answer = { status: number; body: Record<string, unknown>; replayed: boolean };

async function post(path: string, body?: unknown, key: string = randomUUID()): Promise<Answer> {
  const headers: Record<string, string> = { ...adminHeaders, 'idempotency-key': key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, { method: 'POST', headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), replayed: response.headers.get('idempotent-replayed') === 'true' };
}

async function openAccount(initialBalance: number): Promise<{ id: string; commandId: string }> {
  const opened = await post('/api/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR', initialBalance });
  expect(opened.status).toBe(201);
  return { id: opened.body.accountId as string, commandId: opened.body.commandId as string };
}

async function moved(path: string, body: unknown): Promise<string> {
  const answer = await post(path, body);
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  return answer.body.commandId as string;
}

const reverse = (accountId: string, commandId: string, key?: string, reason?: string) => post(`/api/v1/accounts/${accountId}/reversals`, { commandId, ...(reason === undefined ? {} : { reason }) }, key);

async function auditedEvents(accountId: string) {
  const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
  return { snapshot, events: snapshot.events.filter((e) => e.value.accountId === accountId).map((e) => e.value.payload) };
}

describe('account-level reversals', () => {
  it('take a deposit, a withdrawal and a capture back once; a retry is replayed; every refusal has its code and leaves no trace', async () => {
    const a = await openAccount(1000);
    const deposit = await moved(`/api/v1/accounts/${a.id}/deposit`, { amount: 500 });
    const first = await reverse(a.id, deposit, 'rev-deposit', 'duplicate payment');
    expect(first).toMatchObject({ status: 201, body: { accountId: a.id, reversedCommandId: deposit, amount: 500, status: 'completed', balance: 1000, version: 3 } });
    expect(await reverse(a.id, deposit, 'rev-deposit', 'duplicate payment')).toMatchObject({ status: 201, replayed: true, body: { reversalId: first.body.reversalId } });
    expect(await reverse(a.id, deposit)).toMatchObject({ status: 409, body: { code: 'ALREADY_REVERSED' } });
    const withdrawal = await moved(`/api/v1/accounts/${a.id}/withdraw`, { amount: 300 });
    expect(await reverse(a.id, withdrawal)).toMatchObject({ status: 201, body: { amount: 300, balance: 1000 } });
    const hold = await post(`/api/v1/accounts/${a.id}/holds`, { amount: 200 });
    const capture = await moved(`/api/v1/accounts/${a.id}/holds/${hold.body.holdId as string}/capture`, { amount: 150 });
    expect(await reverse(a.id, capture)).toMatchObject({ status: 201, body: { amount: 150, balance: 1000 } });
    // A deposit spent since cannot be taken back: one unit short of its amount available.
    const spent = await moved(`/api/v1/accounts/${a.id}/deposit`, { amount: 100 });
    await moved(`/api/v1/accounts/${a.id}/withdraw`, { amount: 1001 });
    expect(await reverse(a.id, spent)).toMatchObject({ status: 422, body: { code: 'INSUFFICIENT_FUNDS' } });
    const b = await openAccount(10);
    const theirs = await moved(`/api/v1/accounts/${b.id}/deposit`, { amount: 5 });
    expect(await reverse(a.id, theirs)).toMatchObject({ status: 404, body: { code: 'TRANSACTION_NOT_FOUND' } });
    expect(await reverse(a.id, randomUUID())).toMatchObject({ status: 404, body: { code: 'TRANSACTION_NOT_FOUND' } });
    expect(await reverse(a.id, a.commandId)).toMatchObject({ status: 422, body: { code: 'NOT_REVERSIBLE' } });
    expect(await reverse(a.id, first.body.commandId as string)).toMatchObject({ status: 422, body: { code: 'NOT_REVERSIBLE' } });
    expect(await reverse(randomUUID(), deposit)).toMatchObject({ status: 404, body: { code: 'ACCOUNT_NOT_FOUND' } });
    for (const bad of [{}, { commandId: 'deposit-1' }, { commandId: deposit, amount: -1 }, { commandId: deposit, reason: 'x'.repeat(501) }]) {
      expect(await post(`/api/v1/accounts/${a.id}/reversals`, bad)).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
    }
    const { events, snapshot } = await auditedEvents(a.id);
    expect(events.filter((e) => e.type === 'TransactionReversed').map((e) => e.type === 'TransactionReversed' && [e.direction, e.amount])).toEqual([['DEBIT', 500], ['CREDIT', 300], ['CREDIT', 150]]);
    expect(checkLedger(snapshot, { partitions: ledger.config.partitions }).violations).toEqual([]);
  });

  it('a refund is NOT_REVERSIBLE', async () => {
    const a = await openAccount(100);
    const failed = await post('/api/v1/transfers', { fromAccountId: a.id, toAccountId: randomUUID(), amount: 40 });
    expect(failed).toMatchObject({ status: 404, body: { status: 'failed' } });
    const refund = refundCommandId(creditCommandId(`${a.id}:2`));
    expect(await reverse(a.id, refund)).toMatchObject({ status: 422, body: { code: 'NOT_REVERSIBLE' } });
    expect(await reverse(a.id, failed.body.commandId as string)).toMatchObject({ status: 422, body: { code: 'NOT_REVERSIBLE' } });
  });
});

describe('transfer reversals', () => {
  it('a destination that cannot pay fails the reversal with its code and nothing moves; once it can, a later reversal completes', async () => {
    const source = await openAccount(1000);
    const destination = await openAccount(0);
    const transfer = await post('/api/v1/transfers', { fromAccountId: source.id, toAccountId: destination.id, amount: 600 });
    expect(transfer).toMatchObject({ status: 201, body: { status: 'completed' } });
    const transferCommand = transfer.body.commandId as string;
    // The destination spends part of it: it cannot pay the whole transfer back.
    await moved(`/api/v1/accounts/${destination.id}/withdraw`, { amount: 1 });
    const failed = await reverse(source.id, transferCommand, 'rev-1', 'fraud');
    expect(failed).toMatchObject({ status: 422, body: { code: 'INSUFFICIENT_FUNDS', status: 'failed', reversedCommandId: transferCommand } });
    // A retry of the same request answers the same final status, from the reversal's record.
    expect(await reverse(source.id, transferCommand, 'rev-1', 'fraud')).toMatchObject({ status: 422, replayed: true, body: { code: 'INSUFFICIENT_FUNDS', status: 'failed' } });
    // The answer came with the destination's refusal; the failure lands at the source right after.
    const afterFailure = await waitFor(async () => {
      const audited = await auditedEvents(source.id);
      return audited.events.some((e) => e.type === 'TransferReversalFailed') ? audited : undefined;
    }, { what: 'the failed reversal to land at the source', timeoutMs: 30_000 });
    expect(afterFailure.snapshot.states.filter((s) => s.value.accountId === source.id).at(-1)?.value).toMatchObject({ balance: 400, outgoingInFlight: 0 });
    expect(afterFailure.snapshot.states.filter((s) => s.value.accountId === destination.id).at(-1)?.value).toMatchObject({ balance: 599 });
    await moved(`/api/v1/accounts/${destination.id}/deposit`, { amount: 1 });
    const completed = await reverse(source.id, transferCommand, 'rev-2');
    expect(completed).toMatchObject({ status: 201, body: { status: 'completed', amount: 600, balance: 1000, reversedCommandId: transferCommand } });
    expect(await reverse(source.id, transferCommand)).toMatchObject({ status: 409, body: { code: 'ALREADY_REVERSED' } });
    // Someone else's transfer (the destination's view of it) is not its to reverse.
    expect(await reverse(destination.id, transferCommand)).toMatchObject({ status: 404, body: { code: 'TRANSACTION_NOT_FOUND' } });
    const { snapshot } = await auditedEvents(source.id);
    const report = checkLedger(snapshot, { partitions: ledger.config.partitions, settled: true });
    expect(report.violations).toEqual([]);
    expect(report.totals.inFlight).toBe(0);
    expect(snapshot.states.filter((s) => s.value.accountId === destination.id).at(-1)?.value).toMatchObject({ balance: 0 });
  });
});

describe('at any age', () => {
  it('after the idempotency window and a rebuilt store, a reversed deposit stays reversed and another is still reversible', async () => {
    const a = await openAccount(0);
    const reversedEarlier = await moved(`/api/v1/accounts/${a.id}/deposit`, { amount: 70 });
    const keptForLater = await moved(`/api/v1/accounts/${a.id}/deposit`, { amount: 30 });
    expect(await reverse(a.id, reversedEarlier)).toMatchObject({ status: 201, body: { balance: 30 } });
    await processor.kill('SIGTERM');
    rmSync(join(ledger.config.dataDir, 'account'), { recursive: true, force: true });
    processor = await startProcessor({ ACCOUNT_CLOCK_OFFSET_MS: String(8 * dayMs) });
    expect(await reverse(a.id, reversedEarlier)).toMatchObject({ status: 409, body: { code: 'ALREADY_REVERSED' } });
    expect(await reverse(a.id, keptForLater)).toMatchObject({ status: 201, body: { balance: 0, amount: 30 } });
  });
});
