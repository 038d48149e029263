// `npm run check-ledger` as a user runs it, a child process against a real ledger: a ledger the
// account processor wrote passes with exit 0 and its totals as JSON (every event matching its
// command), and fails with kind wrong-app-id under another APP_ID; one forged event (a deposit
// with a wrong balanceAfter and no command, produced straight to the events topic) fails it with
// exit 1 and names the broken invariants and their kinds; an unreachable broker is exit 2, within
// a bound.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { runScript } from '../support/cli.ts';
import { CommandClient } from '../support/command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { auditLedger } from '../../scripts/ledger/audit.ts';
import type { LedgerTotals } from '../../scripts/ledger/check.ts';
import type { AccountEvent } from '../../schemas/types.ts';

/** The CLI reads a small ledger in seconds; this bounds a hang. */
const cliTimeoutMs = 90_000;
const settleTimeoutMs = 90_000;

let ledger: TestLedger;
let client: CommandClient;
let processor: ServiceProcess;

const checkLedgerCli = (args: string[], env: Record<string, string>) => runScript('scripts/check-ledger.ts', args, env, cliTimeoutMs);

beforeAll(async () => {
  ledger = await createTestLedger('check-ledger');
  client = new CommandClient(ledger);
  await client.start();
  processor = startService('processors/account/main.ts', ledger.env);
  await processor.waitForLine(/account processor started/);
});

afterAll(async () => {
  await processor?.kill('SIGTERM');
  await client?.stop();
  await ledger?.close();
});

it('passes a ledger the processor wrote: exit 0 and the totals as JSON', async () => {
  const commands = generateWorkload({ seed: 23, commands: 600, accounts: 40 });
  await client.send(...commands);
  const distinct = [...new Set(commands.map((c) => c.commandId))];
  await waitFor(() => (distinct.every((id) => client.outcomes.has(id)) ? true : undefined), { what: 'an outcome for every command', timeoutMs: settleTimeoutMs });
  // The saga's last step (a settlement or a refund at the source) marks the initiation final.
  await client.settled(commands, settleTimeoutMs);
  // The workload repeats some commands (client retries): each transfer once.
  const transfers = [...new Set(commands.flatMap((c) => (c.payload.type === 'InitiateTransfer' && client.outcomes.get(c.commandId)?.[0]?.outcome.status === 'ACCEPTED' ? [c.commandId] : [])))];
  const refunds = transfers.filter((id) => client.finalTransfer(id)?.transferStatus === 'failed');

  const result = await checkLedgerCli(['--json', '--settled'], ledger.env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const report = JSON.parse(result.stdout) as { ok: boolean; violations: string[]; totals: LedgerTotals };
  expect(report.violations).toEqual([]);
  expect(report.ok).toBe(true);
  const opened = new Set(commands.filter((c) => c.payload.type === 'OpenAccount' && client.outcomes.get(c.commandId)?.[0]?.outcome.status === 'ACCEPTED').map((c) => c.accountId));
  expect(report.totals.accounts).toBe(opened.size);
  // Every transfer adds its credit, then a settlement (credited) or a refund (refused).
  expect(report.totals.commands).toBe(commands.length + transfers.length + transfers.length);
  expect(report.totals.pendingCommands).toBe(0);
  expect(report.totals.transfers).toMatchObject({ debited: transfers.length, pending: 0, refunded: refunds.length, credited: transfers.length - refunds.length, settled: transfers.length - refunds.length });
  expect(report.totals.balances + report.totals.inFlight).toBe(report.totals.openedInitial + report.totals.deposited - report.totals.withdrawn);

  // Another APP_ID names a processor group that committed nothing: it cannot pass with everything "pending".
  const wrongApp = await checkLedgerCli(['--json', '--app-id', `${ledger.config.appId}-other`], ledger.env);
  expect(wrongApp.code).toBe(1);
  expect((JSON.parse(wrongApp.stdout) as { violationKinds: Record<string, number> }).violationKinds).toEqual({ 'wrong-app-id': 1 });
}, 240_000);

it('fails with exit 1 and names the violation when a forged event is appended', async () => {
  const audit = await auditLedger({ kafka: ledger.kafka, codecs: async () => ledger.codecs, topics: ledger.topics, appId: ledger.config.appId });
  const [accountId, state] = [...audit.report.balances].find(([, s]) => s.status === 'OPEN') ?? [];
  if (accountId === undefined || state === undefined) throw new Error('the workload left no open account');
  const partition = audit.snapshot.events.find((l) => l.value.accountId === accountId)?.partition;
  const sequence = state.version + 1;
  const forged: AccountEvent = {
    eventId: `${accountId}:${sequence}`,
    accountId,
    sequence,
    commandId: randomUUID(),
    occurredAt: Date.now(),
    payload: { type: 'MoneyDeposited', amount: 100, balanceAfter: state.balance + 1_000_000, reference: 'forged' },
  };
  const producer = ledger.kafka.producer();
  await producer.connect();
  await producer.send({ topic: ledger.topics.events, acks: -1, messages: [{ partition, key: forged.eventId, value: ledger.codecs.events.encode(forged) }] });
  await producer.disconnect();

  const json = await checkLedgerCli(['--json'], ledger.env);
  expect(json.code).toBe(1);
  const report = JSON.parse(json.stdout) as { ok: boolean; violations: string[]; violationKinds: Record<string, number> };
  expect(report.ok).toBe(false);
  expect(report.violationKinds).toEqual({ history: 1, outcome: 1, 'event-without-command': 1 });
  expect(report.violations).toContainEqual(`event ${forged.eventId} (MoneyDeposited) was caused by command ${forged.commandId}, which is not on the commands topic`);
  expect(report.violations).toContainEqual(`account ${accountId}: event ${sequence} (MoneyDeposited) breaks the fold: event ${forged.eventId} (MoneyDeposited): balanceAfter ${state.balance + 1_000_000} is not ${state.balance} + 100`);
  expect(report.violations).toContainEqual(`command ${forged.commandId} caused 1 event(s) (MoneyDeposited ${forged.eventId}) but has no outcome`);

  const text = await checkLedgerCli([], ledger.env);
  expect(text.code).toBe(1);
  expect(text.stdout).toMatch(/^VIOLATIONS: 3$/m);
  expect(text.stdout).toContain(`[history] account ${accountId}: event ${sequence} (MoneyDeposited) breaks the fold: event ${forged.eventId}`);
  expect(text.stdout).toContain(`[event-without-command] event ${forged.eventId}`);
}, 240_000);

it('exits 2, within a bound, when the broker cannot be reached', async () => {
  const result = await checkLedgerCli(['--json'], { ...ledger.env, KAFKA_BROKERS: '127.0.0.1:1' });
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^check-ledger: could not read the ledger: .*ECONNREFUSED/);
}, 120_000);
