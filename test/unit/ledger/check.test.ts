// The ledger checker on ledgers made by the processor's own pure core: a clean one passes, and
// each invariant of DESIGN §4 broken on purpose is reported by name.
import { describe, expect, it } from 'vitest';
import { checkLedger } from '../../../scripts/ledger/check.ts';
import type { LedgerSnapshot } from '../../../scripts/ledger/read.ts';
import { creditCommandId, refundCommandId } from '../../../schemas/ids.ts';
import type { AccountEvent, AccountState, CommandOutcome } from '../../../schemas/types.ts';
import { appendCommand, appendEvent, appendOutcome, close, command, debitOf, deposit, lastEvent, ledgerOf, open, t0, transfer, withdraw, type LedgerOptions } from './given.ts';

const A = 'account-a';
const B = 'account-b';
const C = 'account-c';
const missing = 'account-missing';

const depositToA = deposit(A, 500);
const overdraw = withdraw(B, 1_000_000);
const duplicate = deposit(B, 7);
const invalid = command(A, { type: 'Deposit', amount: -5, reference: null });

/** Opens, money movements, a rejection, a duplicate, a reused id, a poison command, and three transfers: completed, to a missing account, across currencies. */
function cleanLedger(options: LedgerOptions = {}): LedgerSnapshot {
  return ledgerOf([
    open(A, 10_000),
    open(B, 0),
    open(C, 300, 'USD'),
    depositToA,
    withdraw(A, 200),
    overdraw,
    duplicate,
    duplicate,
    { ...duplicate, fingerprint: 'another-request' },
    invalid,
    transfer(A, B, 1000, 'transfer-done'),
    transfer(A, missing, 50, 'transfer-missing'),
    transfer(A, C, 60, 'transfer-currency'),
    withdraw(C, 300),
    close(C),
  ], options);
}

const allProcessed = (snapshot: LedgerSnapshot) => new Map(snapshot.commands.map((c) => [c.partition, BigInt(snapshot.commands.filter((d) => d.partition === c.partition).length)]));
const without = <T>(list: T[], drop: (item: T) => boolean): T[] => list.filter((item) => !drop(item));

function violationsOf(snapshot: LedgerSnapshot, options = { processedOffsets: allProcessed(snapshot) }): string[] {
  const report = checkLedger(snapshot, options);
  expect(report.ok).toBe(false);
  expect(report.violationCount).toBe(report.violations.length);
  return report.violations;
}

function eventOf(snapshot: LedgerSnapshot, accountId: string, sequence: number): AccountEvent {
  const found = snapshot.events.find((l) => l.value.accountId === accountId && l.value.sequence === sequence);
  if (found === undefined) throw new Error(`no event ${accountId}:${sequence}`);
  return found.value;
}

describe('a clean ledger', () => {
  it('passes, with totals that add up', () => {
    const snapshot = cleanLedger();
    const report = checkLedger(snapshot, { processedOffsets: allProcessed(snapshot), settled: true });
    expect(report.violations).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.totals).toMatchObject({
      accounts: 3,
      brokenAccounts: 0,
      pendingCommands: 0,
      deadLetters: 1,
      openedInitial: 10_300,
      deposited: 507,
      withdrawn: 500,
      balances: 10_307,
      inFlight: 0,
      transfers: { debited: 3, credited: 1, refunded: 2, pending: 0 },
    });
    expect(report.balances.get(B)).toMatchObject({ balance: 1007, version: 3 });
    expect(report.balances.get(C)).toMatchObject({ status: 'CLOSED' });
  });

  it('counts commands the processor has not reached as pending, not as violations', () => {
    const snapshot = cleanLedger();
    const late = appendCommand(snapshot, deposit(A, 1));
    const report = checkLedger(snapshot, { processedOffsets: new Map([[late.partition, BigInt(late.offset)]]) });
    expect(report.violations).toEqual([]);
    expect(report.totals.pendingCommands).toBe(1);
    expect(checkLedger(snapshot, { settled: true }).violations).toEqual([expect.stringMatching(/has no outcome in a settled ledger/)]);
  });
});

describe('sequences', () => {
  it('reports a gap', () => {
    const snapshot = cleanLedger();
    snapshot.events = without(snapshot.events, (l) => l.value.accountId === A && l.value.sequence === 3);
    expect(violationsOf(snapshot)).toContainEqual(`account ${A}: sequence gap: 2 is followed by 4; 3 is missing`);
  });

  it('reports a history that does not start at 1 with AccountOpened', () => {
    const snapshot = cleanLedger();
    snapshot.events = without(snapshot.events, (l) => l.value.accountId === B && l.value.sequence === 1);
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(new RegExp(`^account ${B}: history starts at sequence 2 \\(MoneyDeposited\\), not at 1`)));
  });

  it('reports two different events under one sequence (a fork)', () => {
    const snapshot = cleanLedger();
    const second = eventOf(snapshot, A, 2);
    appendEvent(snapshot, { ...second, commandId: 'cmd-forked' });
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(/two different events with sequence 2/));
  });

  it('accepts an identical re-publish of an event', () => {
    const snapshot = cleanLedger();
    appendEvent(snapshot, eventOf(snapshot, A, 2));
    expect(checkLedger(snapshot, { processedOffsets: allProcessed(snapshot) }).violations).toEqual([]);
  });
});

describe('balances', () => {
  it('reports a balanceAfter that is not the fold', () => {
    const snapshot = cleanLedger();
    const located = snapshot.events.find((l) => l.value.commandId === depositToA.commandId);
    if (located === undefined || located.value.payload.type !== 'MoneyDeposited') throw new Error('no deposit event');
    located.value = { ...located.value, payload: { ...located.value.payload, balanceAfter: located.value.payload.balanceAfter + 1 } };
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(new RegExp(`^account ${A}: event 2 \\(MoneyDeposited\\) breaks the fold: .*balanceAfter 10501 is not 10000 \\+ 500`)));
  });

  it('reports a balance below minus the overdraft limit', () => {
    const snapshot = cleanLedger();
    const last = lastEvent(snapshot, B);
    appendEvent(snapshot, { ...last, eventId: `${B}:${last.sequence + 1}`, sequence: last.sequence + 1, commandId: 'cmd-overdraft', payload: { type: 'MoneyWithdrawn', amount: 2000, balanceAfter: -993, reference: null } });
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(/breaks the fold: .*balanceAfter -993 is below −0, the overdraft limit/));
  });

  it('reports money that is not conserved', () => {
    const snapshot = cleanLedger();
    const last = lastEvent(snapshot, B);
    // A credit out of nowhere: the fold is fine, the money is not.
    appendEvent(snapshot, { ...last, eventId: `${B}:${last.sequence + 1}`, sequence: last.sequence + 1, commandId: 'cmd-free-money', payload: { type: 'TransferCredited', transferId: 'transfer-phantom', fromAccountId: A, amount: 100, balanceAfter: 1107 } });
    const violations = violationsOf(snapshot);
    expect(violations).toContainEqual(expect.stringMatching(/^money is not conserved: balances 10407 \+ in flight 0 = 10407, but opened 10300 \+ deposits 507 − withdrawals 500 = 10307$/));
    expect(violations).toContainEqual('transfer transfer-phantom: credited but never debited');
  });
});

describe('transfers', () => {
  function appendLeg(snapshot: LedgerSnapshot, accountId: string, commandId: string, payload: AccountEvent['payload']) {
    const last = lastEvent(snapshot, accountId);
    appendEvent(snapshot, { ...last, eventId: `${accountId}:${last.sequence + 1}`, sequence: last.sequence + 1, commandId, payload });
  }

  it('reports a double credit', () => {
    const snapshot = cleanLedger();
    appendLeg(snapshot, B, creditCommandId(debitOf(snapshot, 'transfer-done').eventId), { type: 'TransferCredited', transferId: 'transfer-done', fromAccountId: A, amount: 1000, balanceAfter: 2007 });
    const violations = violationsOf(snapshot);
    expect(violations).toContainEqual('transfer transfer-done: credited 2 times');
    expect(violations).toContainEqual(expect.stringMatching(/outcome lists events \[3\], the log has \[3, 4\]/));
  });

  it('reports a transfer both credited and refunded', () => {
    const snapshot = cleanLedger();
    const balance = lastEvent(snapshot, A).payload;
    if (!('balanceAfter' in balance)) throw new Error('last event of A moves no money');
    appendLeg(snapshot, A, refundCommandId(creditCommandId(debitOf(snapshot, 'transfer-done').eventId)), { type: 'TransferRefunded', transferId: 'transfer-done', toAccountId: B, amount: 1000, balanceAfter: balance.balanceAfter + 1000, reason: 'forged', inFlightReleased: 0 });
    expect(violationsOf(snapshot)).toContainEqual('transfer transfer-done: both credited and refunded');
  });

  it('counts a debit without credit or refund as in flight, and reports it in a settled ledger', () => {
    // The processor never reached the credit: the credit command waits, so nothing settles either.
    const snapshot = cleanLedger({ unreached: (c) => c.payload.type === 'CreditTransfer' && c.payload.transferId === 'transfer-done' });
    const report = checkLedger(snapshot);
    expect(report.violations).toEqual([]);
    expect(report.totals).toMatchObject({ inFlight: 1000, pendingCommands: 1, transfers: { pending: 1 } });
    expect(report.pendingExamples).toEqual([expect.stringMatching(new RegExp(`^command ${creditCommandId(debitOf(snapshot, 'transfer-done').eventId)} \\(CreditTransfer\\)`))]);
    expect(checkLedger(snapshot, { settled: true }).violations).toContainEqual(`transfer transfer-done: debited 1000 at ${A}, neither credited nor refunded in a settled ledger`);
  });

  it('counts a credit its source has not settled as pending, and reports it in a settled ledger', () => {
    const snapshot = cleanLedger({ unreached: (c) => c.payload.type === 'SettleTransfer' });
    const report = checkLedger(snapshot);
    expect(report.violations).toEqual([]);
    expect(report.totals).toMatchObject({ inFlight: 0, pendingCommands: 1, transfers: { credited: 1, pending: 0 } });
    expect(report.pendingExamples).toEqual([expect.stringMatching(/\(SettleTransfer\)/)]);
    expect(checkLedger(snapshot, { settled: true }).violations).toContainEqual(`transfer transfer-done: credited at ${B}, not settled at its source ${A} in a settled ledger`);
  });

  it('reports a credit whose SettleTransfer command is missing', () => {
    const snapshot = cleanLedger({ unreached: (c) => c.payload.type === 'SettleTransfer' });
    snapshot.commands = without(snapshot.commands, (l) => l.value.payload.type === 'SettleTransfer');
    expect(violationsOf(snapshot)).toContainEqual('transfer transfer-done: credited, but its SettleTransfer command is not on the commands topic');
  });
});

describe('the account-state changelog', () => {
  function lastState(snapshot: LedgerSnapshot, accountId: string): { value: AccountState } {
    const found = snapshot.states.filter((l) => l.value.accountId === accountId).at(-1);
    if (found === undefined) throw new Error(`no state for ${accountId}`);
    return found;
  }

  it('reports a state that disagrees with the fold', () => {
    const snapshot = cleanLedger();
    const state = lastState(snapshot, A);
    state.value = { ...state.value, balance: state.value.balance + 1 };
    expect(violationsOf(snapshot)).toContainEqual(`account ${A}: the account-state changelog says balance 9301; its events fold to balance 9300`);
  });

  it('reports an account missing from the changelog', () => {
    const snapshot = cleanLedger();
    snapshot.states = without(snapshot.states, (l) => l.value.accountId === C);
    expect(violationsOf(snapshot)).toContainEqual(`account ${C}: no record in the account-state changelog`);
  });
});

describe('outcomes', () => {
  it('reports an ACCEPTED outcome whose events are missing', () => {
    const snapshot = cleanLedger();
    const closing = snapshot.events.find((l) => l.value.payload.type === 'AccountClosed');
    snapshot.events = without(snapshot.events, (l) => l === closing);
    expect(violationsOf(snapshot)).toContainEqual(`command ${closing?.value.commandId} is ACCEPTED (v${closing?.value.sequence}) but caused no event`);
  });

  it('reports events without an ACCEPTED outcome', () => {
    const snapshot = cleanLedger();
    snapshot.outcomes = without(snapshot.outcomes, (l) => l.key === depositToA.commandId);
    expect(violationsOf(snapshot)).toContainEqual(`command ${depositToA.commandId} caused 1 event(s) (MoneyDeposited ${A}:2) but has no outcome`);
  });

  it('reports events of a command whose outcome is REJECTED', () => {
    const snapshot = cleanLedger();
    const located = snapshot.outcomes.filter((l) => l.key === depositToA.commandId);
    for (const l of located) l.value = { ...l.value, status: 'REJECTED', code: 'ACCOUNT_CLOSED', eventSequences: [] };
    expect(violationsOf(snapshot)).toContainEqual(`command ${depositToA.commandId} caused 1 event(s) but its outcome is REJECTED ACCOUNT_CLOSED`);
  });

  it('reports two different outcomes of one command', () => {
    const snapshot = cleanLedger();
    const original = snapshot.outcomes.find((l) => l.key === overdraw.commandId)?.value as CommandOutcome;
    appendOutcome(snapshot, { ...original, code: 'ACCOUNT_CLOSED' });
    expect(violationsOf(snapshot)).toContainEqual(`command ${overdraw.commandId}: two different outcomes (REJECTED INSUFFICIENT_FUNDS v1 and REJECTED ACCOUNT_CLOSED v1)`);
  });

  it('reports an outcome whose version or balance is not the ledger’s', () => {
    const snapshot = cleanLedger();
    for (const l of snapshot.outcomes.filter((o) => o.key === depositToA.commandId)) l.value = { ...l.value, balance: 1 };
    expect(violationsOf(snapshot)).toContainEqual(`command ${depositToA.commandId}: outcome says balance 1, the fold gives 10500 at version 2`);
  });

  it('reports an outcome for a command that was never sent', () => {
    const snapshot = cleanLedger();
    const original = snapshot.outcomes.find((l) => l.key === overdraw.commandId)?.value as CommandOutcome;
    appendOutcome(snapshot, { ...original, commandId: 'cmd-never-sent' });
    expect(violationsOf(snapshot)).toContainEqual('outcome for command cmd-never-sent, which is not on the commands topic');
  });
});

describe('commands', () => {
  it('reports a consumed command without an outcome', () => {
    const snapshot = cleanLedger();
    snapshot.outcomes = without(snapshot.outcomes, (l) => l.key === overdraw.commandId);
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(new RegExp(`^command ${overdraw.commandId} \\(Withdraw\\) at partition \\d offset \\d+ has no outcome, though the processor committed past it$`)));
  });

  it('reports a reused id that got no IDEMPOTENCY_KEY_REUSED refusal', () => {
    const snapshot = cleanLedger();
    snapshot.outcomes = without(snapshot.outcomes, (l) => l.key.startsWith(`${duplicate.commandId}#`));
    expect(violationsOf(snapshot)).toContainEqual(expect.stringMatching(/reuses its id with another fingerprint and has no IDEMPOTENCY_KEY_REUSED refusal/));
  });

  it('reports an invalid command that is not in the dead-letter topic, and a valid one that is', () => {
    const snapshot = cleanLedger();
    const dead = snapshot.deadLetters[0];
    if (dead === undefined) throw new Error('no dead letter');
    const valid = snapshot.commands.find((c) => c.value.commandId === depositToA.commandId);
    dead.headers = { ...dead.headers, 'dlq.source.partition': String(valid?.partition), 'dlq.source.offset': String(valid?.offset) };
    const violations = violationsOf(snapshot);
    expect(violations).toContainEqual(expect.stringMatching(new RegExp(`^invalid command ${invalid.commandId} at .* \\(amount must be .*\\) is not in the dead-letter topic`)));
    expect(violations).toContainEqual(expect.stringMatching(new RegExp(`^valid command ${depositToA.commandId} \\(Deposit\\) at .* was dead-lettered$`)));
  });

  it('reports an undecodable record that is not in the dead-letter topic', () => {
    const snapshot = cleanLedger();
    snapshot.undecodableCommands.push({ partition: 0, offset: '999', key: A, value: 'unknown magic byte', headers: {}, timestamp: t0 });
    const violations = violationsOf(snapshot, { processedOffsets: new Map([[0, 1000n]]) });
    expect(violations).toContainEqual('undecodable command at partition 0 offset 999 is not in the dead-letter topic, though the processor committed past it');
  });

  it('does not require outcomes of events older than the outcomes retention kept', () => {
    const snapshot = cleanLedger();
    snapshot.outcomes = without(snapshot.outcomes, (l) => l.value.processedAt <= t0 + 4000);
    const report = checkLedger(snapshot, { outcomesTrimmed: new Set([0, 1]), commandsTrimmed: new Set([0, 1]) });
    expect(report.violations).toEqual([]);
  });
});
