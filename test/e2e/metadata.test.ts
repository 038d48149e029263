// Metadata over HTTP on the real broker (DESIGN §10, §11): given on open, deposit, withdraw,
// transfer and hold, it comes back on the account view (the opening's) and on each history entry
// (a transfer's credit with its initiation's); the list filters by it; past its bounds a request
// is 400 VALIDATION_FAILED and nothing reaches the topics, and a command past them produced straight
// onto the commands topic by another tool is dead-lettered with its reason.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, waitUntilReady, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { freePort } from '../../scripts/services.ts';
import { adminHeaders } from '../support/keys.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { allPages, getJson, startQuery, type InProcessQuery } from '../integration/query-support.ts';
import { CommandClient, deposit, makeCommand } from '../support/command-client.ts';

let ledger: TestLedger;
let processor: ServiceProcess;
let gateway: ServiceProcess;
let query: InProcessQuery;
let base: string;
const queryBase = () => query.processor.url;

beforeAll(async () => {
  ledger = await createTestLedger('metadata-e2e');
  processor = startService('processors/account/main.ts', ledger.env);
  await processor.waitForLine(/account processor started/);
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  gateway = startService('gateway/main.ts', { ...ledger.env, GATEWAY_PORT: String(port), GATEWAY_HOST: '127.0.0.1', COMMAND_TIMEOUT_MS: '15000', LOG_LEVEL: 'warn' });
  query = await startQuery(ledger);
  await waitUntilReady(gateway, base, 180_000);
  await waitFor(async () => ((await getJson(queryBase(), '/ready')).status === 200 ? true : undefined), { what: 'the query processor to be ready', timeoutMs: 180_000 });
});

afterAll(async () => {
  await query?.processor.stop();
  await gateway?.kill('SIGTERM');
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { ...adminHeaders, 'idempotency-key': randomUUID(), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

type Entry = { type: string; metadata: Record<string, string>; sequence: number };

/** The account's history once the view has applied `version` (read-your-writes), newest first. */
async function historyAt(accountId: string, version: number): Promise<Entry[]> {
  const { status, body } = await getJson(queryBase(), `/api/v1/accounts/${accountId}/history?minVersion=${version}`);
  expect(status).toBe(200);
  return body.items as Entry[];
}

describe('metadata', () => {
  it('round-trips on open, deposit, withdraw, transfer and hold, onto the views and history', async () => {
    const customer = { 'crm.id': `c-${randomUUID()}`, segment: 'retail' };
    const opened = await post('/api/v1/accounts', { ownerName: 'Ada Lovelace', currency: 'EUR', initialBalance: 1000, metadata: customer });
    expect(opened.status).toBe(201);
    const id = opened.body.accountId as string;
    const other = await post('/api/v1/accounts', { ownerName: 'Grace Hopper', currency: 'EUR', metadata: { segment: 'wholesale' } });
    const otherId = other.body.accountId as string;

    expect((await post(`/api/v1/accounts/${id}/deposit`, { amount: 100, metadata: { invoice: 'INV-1' } })).status).toBe(200);
    expect((await post(`/api/v1/accounts/${id}/withdraw`, { amount: 30, metadata: { atm: 'ATM-9', 'note.text': 'x'.repeat(500) } })).status).toBe(200);
    const transfer = await post('/api/v1/transfers', { fromAccountId: id, toAccountId: otherId, amount: 70, metadata: { order: 'O-5' } });
    expect(transfer).toMatchObject({ status: 201, body: { status: 'completed' } });
    const hold = await post(`/api/v1/accounts/${id}/holds`, { amount: 20, metadata: { merchant: 'Hotel' } });
    expect(hold.status).toBe(201);

    const history = await historyAt(id, hold.body.version as number);
    const byType = (entries: Entry[]) => Object.fromEntries(entries.filter((e) => e.type !== 'TransferSettled').map((e) => [e.type, e.metadata]));
    expect(byType(history)).toEqual({
      AccountOpened: customer,
      MoneyDeposited: { invoice: 'INV-1' },
      MoneyWithdrawn: { atm: 'ATM-9', 'note.text': 'x'.repeat(500) },
      TransferDebited: { order: 'O-5' },
      HoldPlaced: { merchant: 'Hotel' },
    });
    // The destination's credit carries the initiation's metadata (its internal leg).
    const credited = await waitFor(async () => {
      const entries = await historyAt(otherId, 1);
      return entries.find((e) => e.type === 'TransferCredited');
    }, { what: 'the credit in the view' });
    expect(credited.metadata).toEqual({ order: 'O-5' });

    // The account's metadata is its opening's, whatever later commands said.
    expect((await getJson(queryBase(), `/api/v1/accounts/${id}`)).body).toMatchObject({ accountId: id, metadata: customer });
    expect((await getJson(queryBase(), `/api/v1/accounts/${otherId}`)).body).toMatchObject({ metadata: { segment: 'wholesale' } });

    // The list finds it by its metadata, alone or with other filters.
    const found = await allPages<{ accountId: string }>(queryBase(), `/api/v1/accounts?metadata.crm.id=${customer['crm.id']}`, 10);
    expect(found.map((a) => a.accountId)).toEqual([id]);
    const retail = await allPages<{ accountId: string }>(queryBase(), `/api/v1/accounts?metadata.segment=retail&metadata.crm.id=${customer['crm.id']}&ownerName=ada`, 10);
    expect(retail.map((a) => a.accountId)).toEqual([id]);

    // Every event carries its command's metadata: the auditor finds nothing wrong.
    const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
    expect(checkLedger(snapshot, { partitions: ledger.config.partitions }).violations).toEqual([]);
  });

  it('past its bounds is 400 VALIDATION_FAILED on every route, and nothing reaches the topics', async () => {
    const opened = await post('/api/v1/accounts', { ownerName: 'Ada', currency: 'EUR', initialBalance: 100 });
    const id = opened.body.accountId as string;
    const before = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit-before`);
    const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, 'v']));
    const bad = [keys(33), { ['k'.repeat(41)]: 'v' }, { 'bad key': 'v' }, { note: 'x'.repeat(501) }, { note: 1 }];
    const routes: Array<[string, Record<string, unknown>]> = [
      ['/api/v1/accounts', { ownerName: 'Ada', currency: 'EUR' }],
      [`/api/v1/accounts/${id}/deposit`, { amount: 1 }],
      [`/api/v1/accounts/${id}/withdraw`, { amount: 1 }],
      ['/api/v1/transfers', { fromAccountId: id, toAccountId: randomUUID(), amount: 1 }],
      [`/api/v1/accounts/${id}/holds`, { amount: 1 }],
    ];
    for (const [path, body] of routes) {
      for (const metadata of bad) {
        const answer = await post(path, { ...body, metadata });
        expect([path, answer.status, answer.body.code]).toEqual([path, 400, 'VALIDATION_FAILED']);
        expect(answer.body.detail).toMatch(/metadata/);
      }
    }
    // A command sent after them is the next on the topic: none of the refused ones got there.
    const marker = await post(`/api/v1/accounts/${id}/deposit`, { amount: 1 });
    expect(marker.status).toBe(200);
    const after = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit-after`);
    const known = new Set(before.commands.map((c) => c.value.commandId));
    expect(after.commands.map((c) => c.value.commandId).filter((commandId) => !known.has(commandId))).toEqual([marker.body.commandId]);
    expect(after.events.filter((e) => e.value.accountId === id).map((e) => e.value.payload.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
    expect(after.deadLetters.length).toBe(before.deadLetters.length);
  });

  it('past its bounds on a command another tool produced straight onto the topic, is dead-lettered with the bound as its reason', async () => {
    const opened = await post('/api/v1/accounts', { ownerName: 'Ada', currency: 'EUR', initialBalance: 10 });
    const id = opened.body.accountId as string;
    const client = new CommandClient(ledger);
    await client.start();
    try {
      const bad = { ...makeCommand(id, deposit(5)), metadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) };
      await client.send(bad);
      // The next command on the account is processed after it (same partition, in order).
      expect(await post(`/api/v1/accounts/${id}/deposit`, { amount: 1 })).toMatchObject({ status: 200, body: { balance: 11 } });
      const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit-dlq`);
      const letter = snapshot.deadLetters.find((d) => d.key === id);
      expect(letter?.headers['dlq.reason']).toMatch(/^invalid command: metadata has 33 keys; at most 32/);
      expect(snapshot.outcomes.some((o) => o.value.commandId === bad.commandId)).toBe(false);
      expect(snapshot.events.filter((e) => e.value.accountId === id).map((e) => e.value.payload.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
    } finally {
      await client.stop();
    }
  });
});
