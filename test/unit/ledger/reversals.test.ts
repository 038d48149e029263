// The ledger checker on reversals (DESIGN §10), on ledgers made by the processor's own pure core:
// account-level reversals are external flows, a transfer reversal's money is in flight between
// its destination's debit and its source's credit, and forged reversals are reported by name.
import { describe, expect, it } from 'vitest';
import { checkLedger } from '../../../scripts/ledger/check.ts';
import type { LedgerSnapshot } from '../../../scripts/ledger/read.ts';
import { reversalIdForCommand } from '../../../schemas/ids.ts';
import type { AccountEvent, Command } from '../../../schemas/types.ts';
import { appendEvent, command, deposit, ledgerOf, open, transfer, withdraw, type LedgerOptions } from './given.ts';

const A = 'account-a';
const B = 'account-b';

const depositToA = deposit(A, 500);
const withdrawFromA = withdraw(A, 200);
const done = transfer(A, B, 1000, 'transfer-done');
const reverse = (accountId: string, reversed: Command, commandId: string): Command =>
  command(accountId, { type: 'ReverseTransaction', reversalId: reversalIdForCommand(commandId), reversedCommandId: reversed.commandId, reason: null }, commandId);

/** Deposit, withdrawal and transfer, each reversed; a second transfer whose reversal fails (its destination spent the money) and is retried once it can pay. */
function reversedLedger(options: LedgerOptions = {}): LedgerSnapshot {
  const second = transfer(A, B, 300, 'transfer-second');
  return ledgerOf([
    open(A, 10_000),
    open(B, 0),
    depositToA,
    withdrawFromA,
    done,
    second,
    reverse(A, depositToA, 'r-deposit'),
    reverse(A, withdrawFromA, 'r-withdrawal'),
    reverse(A, depositToA, 'r-deposit-again'),
    reverse(A, done, 'r-transfer'),
    withdraw(B, 300),
    reverse(A, second, 'r-second'),
    deposit(B, 300),
    reverse(A, second, 'r-second-retried'),
  ], { followUpsFirst: true, ...options });
}

const lastEventOf = (snapshot: LedgerSnapshot, accountId: string): AccountEvent => {
  const events = snapshot.events.filter((l) => l.value.accountId === accountId).map((l) => l.value);
  return events.sort((a, b) => b.sequence - a.sequence)[0] as AccountEvent;
};

function next(snapshot: LedgerSnapshot, accountId: string, payload: AccountEvent['payload'], commandId: string): AccountEvent {
  const last = lastEventOf(snapshot, accountId);
  return { eventId: `${accountId}:${last.sequence + 1}`, accountId, sequence: last.sequence + 1, commandId, occurredAt: last.occurredAt + 1, payload };
}

describe('reversals in the ledger check', () => {
  it('a ledger with reversals passes: account-level ones are external flows, money is conserved', () => {
    const snapshot = reversedLedger();
    const report = checkLedger(snapshot, { settled: true });
    expect(report.violations).toEqual([]);
    // A: 10,000 + 500 − 200 − 1,000 − 300, the deposit and withdrawal reversed, the first transfer back, the second transfer back.
    expect(report.balances.get(A)?.balance).toBe(10_000);
    expect(report.balances.get(B)?.balance).toBe(0);
    expect(report.totals).toMatchObject({ deposited: 300, withdrawn: 300, inFlight: 0 });
    const types = snapshot.events.map((l) => l.value.payload.type);
    expect(types.filter((t) => t === 'TransactionReversed')).toHaveLength(2);
    expect(types.filter((t) => t === 'TransferReversalFailed')).toHaveLength(1);
    expect(types.filter((t) => t === 'TransferReversalCredited')).toHaveLength(2);
  });

  it("counts a reversal debited at the destination and not yet credited back as in flight, and reports it in a settled ledger", () => {
    const snapshot = reversedLedger({ unreached: (c) => c.payload.type === 'CreditTransferReversal' && c.payload.transferId === 'transfer-done' });
    const report = checkLedger(snapshot);
    expect(report.violations).toEqual([]);
    expect(report.totals.inFlight).toBe(1000);
    expect(checkLedger(snapshot, { settled: true }).violations).toContainEqual(expect.stringMatching(/^transfer transfer-done: its reversal was asked at account-a and is neither credited back nor failed in a settled ledger/));
  });

  it('reports a reversal of the wrong amount, and a posting reversed twice', () => {
    const snapshot = reversedLedger();
    const last = lastEventOf(snapshot, A);
    if (!('balanceAfter' in last.payload)) throw new Error('the last event of A moves money');
    const twice = next(snapshot, A, { type: 'TransactionReversed', reversedCommandId: depositToA.commandId, amount: 400, direction: 'DEBIT', balanceAfter: last.payload.balanceAfter - 400, reason: null }, 'forged');
    appendEvent(snapshot, twice);
    const violations = checkLedger(snapshot).violations;
    expect(violations).toContainEqual(`reversal ${twice.eventId} of command ${depositToA.commandId}: reverses 400, the posting moved 500`);
    expect(violations).toContainEqual(expect.stringMatching(new RegExp(`^reversal ${twice.eventId} of command ${depositToA.commandId}: already reversed by`)));
  });

  it('reports a transfer reversed at the wrong account, or twice', () => {
    const snapshot = reversedLedger();
    const last = lastEventOf(snapshot, A);
    if (!('balanceAfter' in last.payload)) throw new Error('the last event of A moves money');
    appendEvent(snapshot, next(snapshot, A, { type: 'TransferReversed', transferId: 'transfer-done', toAccountId: B, amount: 1000, balanceAfter: last.payload.balanceAfter - 1000, reason: null }, 'forged'));
    const violations = checkLedger(snapshot).violations;
    expect(violations).toContainEqual('transfer transfer-done: reversed 2 times');
    expect(violations).toContainEqual(`transfer transfer-done: reversed at ${A}, not at its destination ${B}`);
  });
});
