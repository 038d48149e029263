// The account processor against the real broker and registry, in its own OS process: each
// command's exact events, state and outcome; idempotency; transfers and refunds; poison input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { CommandClient, close, deposit, makeCommand, open, transfer, withdraw } from '../support/command-client.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { creditCommandId, refundCommandId } from '../../schemas/ids.ts';
import { commandBatchBytesMax } from '../../topics/topics.ts';
import { freePort } from '../../scripts/services.ts';

let ledger: TestLedger;
let processor: ServiceProcess;
let client: CommandClient;
let metricsPort: number;

beforeAll(async () => {
  ledger = await createTestLedger('processor-flows');
  metricsPort = await freePort();
  processor = startService('processors/account/main.ts', { ...ledger.env, ACCOUNT_METRICS_PORT: String(metricsPort), ACCOUNT_METRICS_HOST: '127.0.0.1' });
  await processor.waitForLine(/account processor started/);
  client = new CommandClient(ledger);
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

const ids = () => ({ a: crypto.randomUUID(), b: crypto.randomUUID() });

async function eventsOf(accountId: string) {
  const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
  return {
    snapshot,
    events: snapshot.events.filter((e) => e.value.accountId === accountId).map((e) => e.value),
    states: snapshot.states.filter((s) => s.value.accountId === accountId).map((s) => s.value),
  };
}

describe('account processor', () => {
  it('opens, deposits, withdraws and closes with exact events, states and outcomes', async () => {
    const { a } = ids();
    const opened = await client.run(makeCommand(a, open(100)));
    expect(opened).toMatchObject({ status: 'ACCEPTED', version: 1, balance: 100, eventSequences: [1], code: null });
    expect(await client.run(makeCommand(a, deposit(50, 'salary')))).toMatchObject({ status: 'ACCEPTED', version: 2, balance: 150 });
    expect(await client.run(makeCommand(a, withdraw(151)))).toMatchObject({ status: 'REJECTED', code: 'INSUFFICIENT_FUNDS', version: 2, balance: 150, eventSequences: [] });
    expect(await client.run(makeCommand(a, withdraw(150)))).toMatchObject({ status: 'ACCEPTED', version: 3, balance: 0 });
    expect(await client.run(makeCommand(a, close()))).toMatchObject({ status: 'ACCEPTED', version: 4, balance: 0 });
    expect(await client.run(makeCommand(a, deposit(1)))).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_CLOSED' });

    const { events, states, snapshot } = await eventsOf(a);
    expect(events.map((e) => [e.sequence, e.eventId, e.payload])).toEqual([
      [1, `${a}:1`, { type: 'AccountOpened', ownerName: 'Ada Lovelace', currency: 'EUR', initialBalance: 100, overdraftLimit: 0 }],
      [2, `${a}:2`, { type: 'MoneyDeposited', amount: 50, balanceAfter: 150, reference: 'salary' }],
      [3, `${a}:3`, { type: 'MoneyWithdrawn', amount: 150, balanceAfter: 0, reference: null }],
      [4, `${a}:4`, { type: 'AccountClosed' }],
    ]);
    expect(states.at(-1)).toMatchObject({ accountId: a, balance: 0, status: 'CLOSED', version: 4, currency: 'EUR' });
    const eventRecord = snapshot.events.find((e) => e.value.accountId === a);
    const commandPartition = snapshot.commands.find((c) => c.value.accountId === a)?.partition;
    expect(eventRecord?.key).toBe(`${a}:1`);
    expect(eventRecord?.partition).toBe(commandPartition);
  });

  it('a retried command is applied once and its original outcome is sent again', async () => {
    const { a } = ids();
    await client.run(makeCommand(a, open(0)));
    const dep = makeCommand(a, deposit(70));
    const first = await client.run(dep);
    await client.send(dep, dep);
    await waitFor(() => ((client.outcomes.get(dep.commandId)?.length ?? 0) >= 3 ? true : undefined), { what: 'three outcomes for the retried deposit' });
    const all = client.outcomes.get(dep.commandId) ?? [];
    expect(all.map((o) => o.outcome)).toEqual([first, first, first]);
    expect(all.map((o) => o.replayed)).toEqual([false, true, true]);
    const { events } = await eventsOf(a);
    expect(events.filter((e) => e.commandId === dep.commandId)).toHaveLength(1);
  });

  it('the same command id with another body is refused IDEMPOTENCY_KEY_REUSED and changes nothing', async () => {
    const { a } = ids();
    await client.run(makeCommand(a, open(0)));
    const dep = makeCommand(a, deposit(70));
    await client.run(dep);
    const reused = { ...makeCommand(a, deposit(999)), commandId: dep.commandId };
    await client.send(reused);
    const refusal = await client.outcome(`${dep.commandId}#${reused.fingerprint}`);
    expect(refusal).toMatchObject({ commandId: dep.commandId, status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED', fingerprint: reused.fingerprint });
    expect(await client.run(makeCommand(a, deposit(1)))).toMatchObject({ balance: 71, version: 3 });
  });

  it('a transfer credits the destination; one to a missing account is refunded to the source', async () => {
    const { a, b } = ids();
    await client.run(makeCommand(a, open(100)));
    await client.run(makeCommand(b, open(5)));
    const ok = makeCommand(a, transfer(b, 60));
    expect(await client.run(ok)).toMatchObject({ status: 'ACCEPTED', balance: 40 });
    const transferId = ok.payload.type === 'InitiateTransfer' ? ok.payload.transferId : '';
    // The credit is identified by the debit event that caused it (DESIGN §8), not by the client's transfer id.
    expect(await client.outcome(creditCommandId(`${a}:2`))).toMatchObject({ status: 'ACCEPTED', accountId: b, balance: 65, transferId });
    expect(await client.transferResult(ok.commandId)).toMatchObject({ transferStatus: 'completed', transferCode: null, transferId });

    const missing = crypto.randomUUID();
    const bad = makeCommand(a, transfer(missing, 30));
    expect(await client.run(bad)).toMatchObject({ status: 'ACCEPTED', balance: 10 });
    const badId = bad.payload.type === 'InitiateTransfer' ? bad.payload.transferId : '';
    expect(await client.outcome(creditCommandId(`${a}:4`))).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_NOT_FOUND', accountId: missing, transferId: badId });
    expect(await client.outcome(refundCommandId(creditCommandId(`${a}:4`)))).toMatchObject({ status: 'ACCEPTED', accountId: a, balance: 40 });
    expect(await client.transferResult(bad.commandId)).toMatchObject({ transferStatus: 'failed', transferCode: 'ACCOUNT_NOT_FOUND' });

    const { events, states } = await eventsOf(a);
    expect(events.map((e) => e.payload.type)).toEqual(['AccountOpened', 'TransferDebited', 'TransferSettled', 'TransferDebited', 'TransferRefunded']);
    expect(states.at(-1)).toMatchObject({ balance: 40, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
    expect(events.at(-1)?.payload).toMatchObject({ reason: 'ACCOUNT_NOT_FOUND', amount: 30, balanceAfter: 40, toAccountId: missing });
  });

  it('a transfer in another currency is refused by the destination and refunded', async () => {
    const { a, b } = ids();
    await client.run(makeCommand(a, open(100, 'EUR')));
    await client.run(makeCommand(b, open(0, 'USD')));
    const t = makeCommand(a, transfer(b, 25));
    await client.run(t);
    const creditId = creditCommandId(`${a}:2`);
    expect(await client.outcome(creditId)).toMatchObject({ status: 'REJECTED', code: 'CURRENCY_MISMATCH' });
    expect(await client.outcome(refundCommandId(creditId))).toMatchObject({ status: 'ACCEPTED', balance: 100 });
  });

  it('a record that is not Avro lands in the DLQ with its reason and the next command is processed', async () => {
    const { a } = ids();
    await client.sendRaw(a, Buffer.from('{"this":"is json, not avro"}'));
    const after = await client.run(makeCommand(a, open(7)));
    expect(after).toMatchObject({ status: 'ACCEPTED', balance: 7 });
    const { snapshot } = await eventsOf(a);
    const letter = snapshot.deadLetters.find((d) => d.key === a);
    expect(letter?.value?.toString()).toBe('{"this":"is json, not avro"}');
    expect(letter?.headers['dlq.reason']).toMatch(/magic byte/);
    expect(letter?.headers['dlq.source.topic']).toBe(ledger.topics.commands);
    expect(letter?.headers['dlq.source.offset']).toMatch(/^\d+$/);
  });

  it('a command with an unknown schema id is dead-lettered, and the ledger stays consistent', async () => {
    const { a } = ids();
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2, 3]);
    await client.sendRaw(a, unknownId);
    await client.run(makeCommand(a, open(1)));
    const { snapshot } = await eventsOf(a);
    expect(snapshot.deadLetters.find((d) => d.key === a)?.headers['dlq.reason']).toMatch(/unknown to the schema registry/);
    const report = checkLedger(snapshot);
    expect(report.violations).toEqual([]);
  });

  it("a command whose issuedAt would put a hold's expiry past 2**53, or whose actor is 64 KiB, is dead-lettered with its reason; nothing is held and the partition goes on", async () => {
    const { a } = ids();
    expect(await client.run(makeCommand(a, open(1000)))).toMatchObject({ status: 'ACCEPTED', balance: 1000 });
    // Avro carries both; the expiry (issuedAt + 30 days) could not be encoded, and the partition retried it forever.
    const farHold = { ...makeCommand(a, { type: 'PlaceHold', holdId: crypto.randomUUID(), amount: 500, expiresInSeconds: 2_592_000, reference: null }), issuedAt: 2 ** 53 - 2 };
    const bigActor = { ...makeCommand(a, deposit(5)), actor: 'k'.repeat(64 * 1024) };
    await client.send(farHold, bigActor);
    expect(await client.run(makeCommand(a, withdraw(1)))).toMatchObject({ status: 'ACCEPTED', balance: 999, availableBalance: 999 });
    const { snapshot, events } = await eventsOf(a);
    const reasons = snapshot.deadLetters.filter((d) => d.key === a).map((d) => String(d.headers['dlq.reason']));
    expect(reasons).toEqual([expect.stringMatching(/^invalid command: issuedAt must be an integer from 0 to 253402300799999/), expect.stringMatching(/^invalid command: actor must be at most 255/)]);
    expect(events.map((e) => e.payload.type)).toEqual(['AccountOpened', 'MoneyWithdrawn']);
  });

  it('exposes Prometheus metrics: commands by result, rejections by code, transactions, lag', async () => {
    const { a } = ids();
    await client.run(makeCommand(a, withdraw(1)));
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(text).toMatch(/^account_commands_total\{result="accepted"\} [1-9]\d*$/m);
    expect(text).toMatch(/^account_rejections_total\{code="ACCOUNT_NOT_FOUND"\} [1-9]\d*$/m);
    expect(text).toMatch(/^account_transaction_duration_seconds_count [1-9]\d*$/m);
    expect(text).toMatch(/^account_consumer_lag\{partition="\d+"\} \d+$/m);
  });

  it('a poison record as large as the broker accepts is dead-lettered whole, and processing goes on', async () => {
    const { a } = ids();
    // Within ~100 bytes of the commands topic's record batch limit (commandBatchBytesMax): with the
    // DLQ headers added it would not fit a topic of the same limit, and used to wedge the partition.
    const huge = Buffer.alloc(commandBatchBytesMax - 108, 0x41);
    await client.sendRaw(a, huge);
    expect(await client.run(makeCommand(a, open(3)))).toMatchObject({ status: 'ACCEPTED', balance: 3 });
    const { snapshot } = await eventsOf(a);
    const letter = snapshot.deadLetters.find((d) => d.key === a);
    expect(letter?.value?.length).toBe(huge.length);
    expect(letter?.headers['dlq.reason']).toMatch(/magic byte/);
  });
});
