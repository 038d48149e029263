// DESIGN §8 on the real broker, each path that once stranded, lost or split money (issue 9):
// a transfer retried after the idempotency window, a rebuilt store, a close while money is in
// flight, and a refund that would no longer fit. Time is moved with the processor's injectable
// clock (ACCOUNT_CLOCK_OFFSET_MS) instead of waiting 7 days.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { CommandClient, close, deposit, makeCommand, open, transfer } from '../support/command-client.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { limits } from '../../processors/account/domain/index.ts';
import type { Command, CommandOutcome } from '../../schemas/types.ts';

const dayMs = 24 * 60 * 60 * 1000;
let ledger: TestLedger;
let client: CommandClient;
let processor: ServiceProcess | undefined;

async function startProcessor(clockOffsetMs = 0): Promise<void> {
  processor = startService('processors/account/main.ts', { ...ledger.env, ACCOUNT_CLOCK_OFFSET_MS: String(clockOffsetMs) });
  await processor.waitForLine(/account processor started/);
}

async function stopProcessor(): Promise<void> {
  await processor?.kill('SIGTERM');
  processor = undefined;
}

/** The n-th outcome record (0-based) under a key, waiting for it within the bound. */
async function outcomeNumber(key: string, n: number): Promise<CommandOutcome> {
  return waitFor(() => client.outcomes.get(key)?.[n]?.outcome, { what: `outcome #${n + 1} for ${key}`, timeoutMs: 60_000 });
}

async function stateOf(accountId: string) {
  const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
  return {
    state: snapshot.states.filter((s) => s.value.accountId === accountId).at(-1)?.value,
    events: snapshot.events.filter((e) => e.value.accountId === accountId).map((e) => e.value.payload.type),
  };
}

/** Runs a command that must be processed and makes sure its processing (and its expiry pass) happened. */
const run = (command: Command) => client.run(command, 60_000);

beforeAll(async () => {
  ledger = await createTestLedger('money-safety');
  client = new CommandClient(ledger);
  await client.start();
});

afterAll(async () => {
  await stopProcessor();
  await client?.stop();
  await ledger?.close();
});

describe('ids that move money are unique forever', () => {
  it('a transfer retried after the idempotency window is answered with its original outcome and debits nothing; another body is IDEMPOTENCY_KEY_REUSED', async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    await startProcessor();
    await run(makeCommand(a, open(200)));
    await run(makeCommand(b, open(0)));
    const original = makeCommand(a, transfer(b, 60));
    expect(await run(original)).toMatchObject({ status: 'ACCEPTED', balance: 140 });
    expect(await client.transferResult(original.commandId)).toMatchObject({ transferStatus: 'completed' });
    const dep = makeCommand(a, deposit(5));
    expect(await run(dep)).toMatchObject({ status: 'ACCEPTED', balance: 145 });
    await stopProcessor();

    // Eight days later: the window has passed for the deposit (the store forgets it after the
    // next transaction), never for the transfer.
    await startProcessor(8 * dayMs);
    await run(makeCommand(crypto.randomUUID(), open(1)));
    const seen = client.outcomes.get(original.commandId)?.length ?? 0;
    await client.send(original);
    const replay = await outcomeNumber(original.commandId, seen);
    expect(replay).toMatchObject({ status: 'ACCEPTED', version: 2, balance: 140, transferStatus: 'completed' });
    expect(client.outcomes.get(original.commandId)?.[seen]?.replayed).toBe(true);

    const changed = { ...original, fingerprint: 'another-body', payload: { ...original.payload, amount: 61 } } as Command;
    await client.send(changed);
    // A key-reuse refusal is keyed <commandId>#<fingerprint>, so it never replaces the original.
    expect(await client.outcome(`${changed.commandId}#${changed.fingerprint}`, 60_000)).toMatchObject({ status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED' });

    // The deposit's record did expire: its replay is a new deposit (the window bounds those by design).
    const depSeen = client.outcomes.get(dep.commandId)?.length ?? 0;
    await client.send(dep);
    expect(await outcomeNumber(dep.commandId, depSeen)).toMatchObject({ status: 'ACCEPTED', balance: 150 });

    const { state, events } = await stateOf(a);
    expect(state).toMatchObject({ balance: 150, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
    expect(events.filter((t) => t === 'TransferDebited')).toHaveLength(1);
    expect((await stateOf(b)).state).toMatchObject({ balance: 60 });
    await stopProcessor();
  });

  it('a rebuilt store remembers transfers forever and never resurrects records past the window', async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    await startProcessor();
    await run(makeCommand(a, open(100)));
    await run(makeCommand(b, open(0)));
    const t = makeCommand(a, transfer(b, 30));
    await run(t);
    await client.transferResult(t.commandId);
    const dep = makeCommand(a, deposit(1));
    await run(dep);
    await stopProcessor();
    rmSync(join(ledger.config.dataDir, 'account'), { recursive: true, force: true });

    await startProcessor(8 * dayMs);
    const seen = client.outcomes.get(t.commandId)?.length ?? 0;
    const depSeen = client.outcomes.get(dep.commandId)?.length ?? 0;
    await client.send(t, dep);
    expect(await outcomeNumber(t.commandId, seen)).toMatchObject({ status: 'ACCEPTED', version: 2, transferStatus: 'completed' });
    // Restored from the outcomes topic, the 8-day-old deposit record would have made this a replay (balance 71).
    expect(await outcomeNumber(dep.commandId, depSeen)).toMatchObject({ status: 'ACCEPTED', balance: 72 });
    await stopProcessor();
  });
});

describe('money in flight is never stranded', () => {
  it('an account cannot close while its transfer is in flight, so the refund finds it open', async () => {
    const a = crypto.randomUUID();
    const missing = crypto.randomUUID();
    await startProcessor();
    await run(makeCommand(a, open(60)));
    // One produce: the close is decided in the same batch as the debit, before the credit is refused.
    const t = makeCommand(a, transfer(missing, 60));
    const shut = makeCommand(a, close());
    await client.send(t, shut);
    expect(await client.outcome(shut.commandId, 60_000)).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_NOT_EMPTY', balance: 0 });
    expect((await client.outcome(shut.commandId)).message).toMatch(/in flight/);
    expect(await client.transferResult(t.commandId)).toMatchObject({ transferStatus: 'failed', transferCode: 'ACCOUNT_NOT_FOUND' });
    expect((await stateOf(a)).state).toMatchObject({ balance: 60, status: 'OPEN', outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
    await stopProcessor();
  });

  it('a deposit cannot take the room a transfer in flight needs to come home, so its refund is never refused', async () => {
    const a = crypto.randomUUID();
    const missing = crypto.randomUUID();
    await startProcessor();
    await run(makeCommand(a, open(limits.amountMax)));
    const t = makeCommand(a, transfer(missing, 10));
    const refill = makeCommand(a, deposit(10));
    await client.send(t, refill);
    expect(await client.outcome(refill.commandId, 60_000)).toMatchObject({ status: 'REJECTED', code: 'AMOUNT_TOO_LARGE' });
    expect(await client.transferResult(t.commandId)).toMatchObject({ transferStatus: 'failed' });
    expect((await stateOf(a)).state).toMatchObject({ balance: limits.amountMax, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
    await stopProcessor();
  });
});
