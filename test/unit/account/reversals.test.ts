// Reversals through the processing loop on a real LevelDB store (no broker): the records that
// make "each transaction reversed at most once, at any age" hold — past the idempotency window
// and after a store rebuilt from the movements changelog — and the transfer reversal saga with
// its follow-ups run to the end, completed or failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processBatch, type BatchResult } from '../../../processors/account/batch.ts';
import { lookupsFor } from '../../../processors/account/lookups.ts';
import { isPostingRecord } from '../../../processors/account/reversal-records.ts';
import { PartitionStore, emptyCheckpoint } from '../../../processors/account/store.ts';
import { reversalCreditCommandId, reversalDebitCommandId, reversalFailCommandId, reversalIdForCommand } from '../../../schemas/ids.ts';
import type { Command, CommandOutcome, CommandPayload } from '../../../schemas/types.ts';

const dayMs = 86_400_000;
const windowMs = 7 * dayMs;
const A = 'account-a';
const B = 'account-b';
const quiet = () => {};

/** One store for every account (the batch's logic does not depend on partitions), fed like task.ts feeds it. */
class Ledger {
  now = 1_700_000_000_000;
  /** Every record written to the movements changelog, in order: what a rebuild restores from. */
  readonly movementsLog: CommandOutcome[] = [];
  readonly outcomesLog: CommandOutcome[] = [];
  readonly deadLetters: string[] = [];
  private counter = 0;

  constructor(public store: PartitionStore) {}

  command(accountId: string, payload: CommandPayload, commandId = `c${(this.counter += 1)}`): Command {
    return { commandId, accountId, issuedAt: this.now, fingerprint: `fp-${JSON.stringify(payload)}`, payload };
  }

  /** One transaction; its follow-ups are returned, not run. */
  async run(...commands: Command[]): Promise<BatchResult> {
    const lookups = await lookupsFor(this.store, commands);
    const records = commands.map((command, i) => ({ kind: 'command' as const, offset: String(i), key: Buffer.from(command.accountId), value: Buffer.from('x'), command }));
    const result = processBatch(records, lookups, this.now);
    const movements = [...result.movements.values(), ...result.postings.values()];
    await this.store.write(result.states.values(), result.newOutcomes, emptyCheckpoint, movements);
    await this.store.expireOutcomes(this.now - windowMs, 4000);
    this.movementsLog.push(...movements);
    this.outcomesLog.push(...result.outcomes.map((o) => o.outcome));
    this.deadLetters.push(...result.deadLetters.map((d) => d.reason));
    return result;
  }

  /** Runs a command and then every follow-up it causes, one transaction each. */
  async runSaga(command: Command): Promise<BatchResult[]> {
    const results = [await this.run(command)];
    for (let next = results[0]?.followUps ?? []; next.length > 0; ) {
      const result = await this.run(...next);
      results.push(result);
      next = result.followUps;
    }
    return results;
  }

  async outcome(command: Command): Promise<CommandOutcome | undefined> {
    return (await this.run(command)).outcomes[0]?.outcome;
  }

  balance(accountId: string): number | undefined {
    return this.store.cachedState(accountId)?.balance;
  }
}

const dirs: string[] = [];
let ledger: Ledger;

async function freshStore(): Promise<PartitionStore> {
  const dir = mkdtempSync(join(tmpdir(), 'reversals-'));
  dirs.push(dir);
  return PartitionStore.open(dir, { clusterId: 'c', topics: ['t'], partition: 0 }, quiet);
}

beforeEach(async () => {
  ledger = new Ledger(await freshStore());
});

afterEach(async () => {
  await ledger.store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const open = (initialBalance: number): CommandPayload => ({ type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance, overdraftLimit: 0 });
const deposit = (amount: number): CommandPayload => ({ type: 'Deposit', amount, reference: null });
const withdraw = (amount: number): CommandPayload => ({ type: 'Withdraw', amount, reference: null });
const transfer = (toAccountId: string, amount: number, transferId = 't1'): CommandPayload => ({ type: 'InitiateTransfer', transferId, toAccountId, amount, reference: null });
const reverse = (reversedCommandId: string, reversalCommandId: string, reason: string | null = null): CommandPayload => ({
  type: 'ReverseTransaction', reversalId: reversalIdForCommand(reversalCommandId), reversedCommandId, reason,
});

/** A reversal command whose reversalId derives from its own id, as the gateway builds it. */
function reversal(accountId: string, reversedCommandId: string, commandId: string, reason: string | null = null): Command {
  return ledger.command(accountId, reverse(reversedCommandId, commandId, reason), commandId);
}

describe('account-level reversals', () => {
  it('a deposit is reversed once at any age: past the window and after a rebuild, a second reversal is ALREADY_REVERSED', async () => {
    await ledger.run(ledger.command(A, open(100)));
    const dep = ledger.command(A, deposit(50));
    await ledger.run(dep);
    ledger.now += 8 * dayMs;
    await ledger.run(ledger.command(A, withdraw(1)));
    expect(await ledger.outcome(reversal(A, dep.commandId, 'r1', 'duplicate'))).toMatchObject({
      status: 'ACCEPTED', reversalStatus: 'completed', reversedCommandId: dep.commandId, amount: 50, balance: 99,
    });
    // Rebuild: a new store fed only what the changelogs carry (the windowed outcomes are past retention).
    const rebuilt = await freshStore();
    await rebuilt.write([...[A].map((id) => ledger.store.cachedState(id)!)], [], emptyCheckpoint, ledger.movementsLog);
    await ledger.store.close();
    ledger.store = rebuilt;
    ledger.now += 400 * dayMs;
    expect(await ledger.outcome(reversal(A, dep.commandId, 'r2'))).toMatchObject({ status: 'REJECTED', code: 'ALREADY_REVERSED' });
    expect(ledger.balance(A)).toBe(99);
  });

  it('a retried reversal is replayed; another command with the same reversalId is IDEMPOTENCY_KEY_REUSED', async () => {
    await ledger.run(ledger.command(A, open(100)));
    const dep = ledger.command(A, deposit(50));
    await ledger.run(dep);
    const first = reversal(A, dep.commandId, 'r1');
    await ledger.run(first);
    ledger.now += 30 * dayMs;
    const again = await ledger.run(first);
    expect(again.outcomes[0]).toMatchObject({ replayed: true, outcome: { status: 'ACCEPTED', reversalStatus: 'completed' } });
    const sameId = ledger.command(A, { ...first.payload }, 'another-command');
    expect(await ledger.outcome({ ...sameId, fingerprint: 'other' })).toMatchObject({ status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(ledger.balance(A)).toBe(100);
  });

  it('a deposit retried past the window is still a new deposit: its posting record is no idempotency record', async () => {
    await ledger.run(ledger.command(A, open(0)));
    const dep = ledger.command(A, deposit(50));
    await ledger.run(dep);
    ledger.now += 8 * dayMs;
    await ledger.run(ledger.command(A, withdraw(1)));
    expect(await ledger.outcome(dep)).toMatchObject({ status: 'ACCEPTED', balance: 99 });
  });

  it('an id a deposit or withdrawal used is not reused past the window for a transfer, a hold or a reversal (IDEMPOTENCY_KEY_REUSED): both would be kept forever under one key of the compacted movements changelog', async () => {
    await ledger.run(ledger.command(A, open(1000)), ledger.command(B, open(0)));
    const dep = ledger.command(A, deposit(7));
    const out = ledger.command(A, withdraw(3));
    await ledger.run(dep, out);
    ledger.now += 8 * dayMs;
    await ledger.run(ledger.command(A, withdraw(1)));
    const reuses = [
      ledger.command(A, transfer(B, 300, 'reused-transfer'), dep.commandId),
      ledger.command(A, { type: 'PlaceHold', holdId: 'reused-hold', amount: 500, expiresInSeconds: 3600, reference: null }, out.commandId),
      reversal(A, out.commandId, dep.commandId),
    ];
    for (const reuse of reuses) {
      const result = await ledger.run(reuse);
      expect(result.outcomes[0]?.outcome, reuse.payload.type).toMatchObject({ status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED' });
      expect([result.events, result.followUps, [...result.movements.keys()], [...result.postings.keys()]]).toEqual([[], [], [], []]);
    }
    expect(ledger.store.cachedState(A)).toMatchObject({ balance: 1003, heldBalance: 0 });
    // Each commandId on the changelog is of one kind only, so compaction (the last record per key) loses nothing.
    const kinds = new Map<string, Set<string>>();
    for (const record of ledger.movementsLog) kinds.set(record.commandId, (kinds.get(record.commandId) ?? new Set()).add(isPostingRecord(record) ? 'posting' : 'movement'));
    expect([...kinds.values()].filter((k) => k.size > 1)).toEqual([]);
    // The deposit and the withdrawal are still what their ids reverse.
    expect(await ledger.outcome(reversal(A, dep.commandId, 'r-dep'))).toMatchObject({ status: 'ACCEPTED', amount: 7, balance: 996 });
    expect(await ledger.outcome(reversal(A, out.commandId, 'r-out'))).toMatchObject({ status: 'ACCEPTED', amount: 3, balance: 999 });
  });

  it('a withdrawal and a capture are given back; a reversal of a reversal, an opening, a refund or a credit leg is NOT_REVERSIBLE and changes nothing', async () => {
    const opening = ledger.command(A, open(500));
    await ledger.run(opening, ledger.command(B, open(0)));
    const out = ledger.command(A, withdraw(200));
    await ledger.run(out);
    const hold = ledger.command(A, { type: 'PlaceHold', holdId: 'h1', amount: 100, expiresInSeconds: 3600, reference: null });
    const capture = ledger.command(A, { type: 'CaptureHold', holdId: 'h1', amount: 60 });
    await ledger.run(hold, capture);
    expect(ledger.balance(A)).toBe(240);
    const backOut = reversal(A, out.commandId, 'r1');
    expect(await ledger.outcome(backOut)).toMatchObject({ status: 'ACCEPTED', balance: 440 });
    expect(await ledger.outcome(reversal(A, capture.commandId, 'r2'))).toMatchObject({ status: 'ACCEPTED', balance: 500, amount: 60 });
    const failed = ledger.command(A, transfer('missing', 10));
    const refundSaga = await ledger.runSaga(failed);
    const refund = refundSaga.at(-1)?.outcomes[0]?.outcome.commandId ?? '';
    const creditLeg = (await ledger.runSaga(ledger.command(A, transfer(B, 10, 't2'))))[1]?.outcomes[0]?.outcome.commandId ?? '';
    const balances = [ledger.balance(A), ledger.balance(B)];
    for (const [reversed, on] of [[opening.commandId, A], [backOut.commandId, A], [refund, A], [creditLeg, B], [hold.commandId, A], [failed.commandId, A]] as const) {
      const result = await ledger.run(reversal(on, reversed, `r-${reversed}`));
      expect(result.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'NOT_REVERSIBLE' });
      expect(result.events).toEqual([]);
    }
    expect([ledger.balance(A), ledger.balance(B)]).toEqual(balances);
  });

  it("someone else's command, an unknown one, or one that posted nothing is TRANSACTION_NOT_FOUND", async () => {
    await ledger.run(ledger.command(A, open(100)), ledger.command(B, open(100)));
    const theirs = ledger.command(B, deposit(5));
    const refused = ledger.command(A, withdraw(1000));
    await ledger.run(theirs, refused);
    for (const reversed of [theirs.commandId, 'never-sent', refused.commandId]) {
      expect(await ledger.outcome(reversal(A, reversed, `r-${reversed}`))).toMatchObject({ status: 'REJECTED', code: 'TRANSACTION_NOT_FOUND' });
    }
    expect([ledger.balance(A), ledger.balance(B)]).toEqual([100, 105]);
  });
});

describe('transfer reversals', () => {
  async function completedTransfer(amount: number): Promise<Command> {
    await ledger.run(ledger.command(A, open(amount)), ledger.command(B, open(0)));
    const t = ledger.command(A, transfer(B, amount));
    await ledger.runSaga(t);
    return t;
  }

  it('within one transaction, another command with a transfer reversal\'s reversalId is refused naming the reversal, not the transfer it reverses', async () => {
    const t = await completedTransfer(300);
    const r = reversal(A, t.commandId, 'r1');
    const sameReversalId = { ...ledger.command(A, r.payload, 'r1-again'), fingerprint: 'another body' };
    const result = await ledger.run(r, sameReversalId);
    // (The transfer's own record is re-emitted too, saying it is being reversed.)
    expect(result.outcomes.map((o) => o.outcome).filter((o) => o.commandId !== t.commandId)).toMatchObject([
      { commandId: 'r1', status: 'ACCEPTED', reversalStatus: 'pending' },
      { commandId: 'r1-again', status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED', message: `reversal ${reversalIdForCommand('r1')} already exists (command r1)`, reversedCommandId: t.commandId },
    ]);
    expect(result.events).toHaveLength(1);
  });

  it('a completed transfer is taken back from the destination and credited at the source; its record says completed and its debit is never applied twice, at any age', async () => {
    const t = await completedTransfer(300);
    const r = reversal(A, t.commandId, 'r1', 'fraud');
    const saga = await ledger.runSaga(r);
    expect(saga.map((s) => s.events.map((e) => `${e.accountId}:${e.payload.type}`))).toEqual([
      [`${A}:TransferReversalRequested`], [`${B}:TransferReversed`], [`${A}:TransferReversalCredited`],
    ]);
    const debitId = reversalDebitCommandId(`${A}:${saga[0]?.events[0]?.sequence}`);
    expect(saga[1]?.outcomes[0]?.outcome.commandId).toBe(debitId);
    expect(saga[2]?.outcomes[0]?.outcome.commandId).toBe(reversalCreditCommandId(debitId));
    expect([ledger.balance(A), ledger.balance(B), ledger.store.cachedState(A)?.outgoingInFlight]).toEqual([300, 0, 0]);
    // The reversal's record, re-emitted when it landed, carries the balance and version after the credit.
    const final = saga[2]?.outcomes.find((o) => o.key === r.commandId)?.outcome;
    expect(final).toMatchObject({ reversalStatus: 'completed', amount: 300, balance: 300, version: ledger.store.cachedState(A)?.version });
    ledger.now += 30 * dayMs;
    expect((await ledger.run(r)).outcomes[0]).toMatchObject({ replayed: true, outcome: { reversalStatus: 'completed' } });
    expect(await ledger.outcome(reversal(A, t.commandId, 'r2'))).toMatchObject({ status: 'REJECTED', code: 'ALREADY_REVERSED' });
    // The destination's debit arriving again past the idempotency window is replayed, not applied twice.
    const late = await ledger.run(saga[0]?.followUps[0] as Command);
    expect(late.events).toEqual([]);
    expect(late.followUps).toEqual([]);
    expect(late.outcomes[0]).toMatchObject({ replayed: true, outcome: { commandId: debitId, status: 'ACCEPTED' } });
    expect([ledger.balance(A), ledger.balance(B)]).toEqual([300, 0]);
  });

  it('a destination that cannot pay fails the reversal: nothing moves, the source may close again and may retry later', async () => {
    const t = await completedTransfer(300);
    await ledger.run(ledger.command(B, withdraw(1)));
    const r = reversal(A, t.commandId, 'r1');
    const requested = await ledger.run(r);
    // While it is pending: the source cannot close (the credit must find it open), and a second reversal is refused.
    expect(await ledger.outcome(ledger.command(A, { type: 'CloseAccount' }))).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_NOT_EMPTY' });
    expect(await ledger.outcome(reversal(A, t.commandId, 'r-early'))).toMatchObject({ status: 'REJECTED', code: 'ALREADY_REVERSED' });
    const refused = await ledger.run(...requested.followUps);
    expect(refused.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'INSUFFICIENT_FUNDS' });
    const landed = await ledger.run(...refused.followUps);
    expect(landed.outcomes[0]?.outcome.commandId).toBe(reversalFailCommandId(refused.outcomes[0]?.outcome.commandId ?? ''));
    expect(landed.events.map((e) => e.payload)).toEqual([{ type: 'TransferReversalFailed', transferId: 't1', toAccountId: B, amount: 300, reason: 'INSUFFICIENT_FUNDS' }]);
    expect(landed.outcomes.find((o) => o.key === r.commandId)?.outcome).toMatchObject({ reversalStatus: 'failed', reversalCode: 'INSUFFICIENT_FUNDS' });
    expect([ledger.balance(A), ledger.balance(B), ledger.store.cachedState(A)?.outgoingInFlight]).toEqual([0, 299, 0]);
    // A forged second landing of the same reversal changes nothing.
    await ledger.run(ledger.command(A, { type: 'CreditTransferReversal', reversalId: reversalIdForCommand('r1'), transferId: 't1', fromAccountId: B, amount: 300 }));
    expect(ledger.deadLetters.at(-1)).toMatch(/^REVERSAL_NOT_PENDING/);
    expect(ledger.balance(A)).toBe(0);
    // Once the destination can pay, a new reversal goes through.
    await ledger.run(ledger.command(B, deposit(1)));
    await ledger.runSaga(reversal(A, t.commandId, 'r2'));
    expect([ledger.balance(A), ledger.balance(B)]).toEqual([300, 0]);
  });
});
