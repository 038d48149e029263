// The auditor is independent of the fold it checks (DESIGN §8, issue 9 item 8): each ledger here
// is self-consistent — events fold, outcomes and the changelog agree, money is conserved — and
// still wrong: an event that is not what its command asked, money stranded in flight, a ledger
// nobody processed or read under the wrong APP_ID, an event with no command on a partition that
// retention never trimmed. Each must fail with a named violation kind.
import { describe, expect, it } from 'vitest';
import { checkLedger, type CheckOptions, type LedgerReport } from '../../../scripts/ledger/check.ts';
import type { LedgerSnapshot } from '../../../scripts/ledger/read.ts';
import { creditCommandId, refundCommandId } from '../../../schemas/ids.ts';
import type { Command, CommandPayload } from '../../../schemas/types.ts';
import { appendCommand, appendEvent, appendOutcome, appendState, close, debitOf, deposit, emptySnapshot, lastEvent, ledgerOf, open, partitionOf, t0, transfer, withdraw, type LedgerOptions } from './given.ts';

const A = 'account-a'; // partition 1
const B = 'account-b'; // partition 0
const C = 'account-c'; // partition 1
const missing = 'account-missing';
const minute = 60_000;

const processedAll = (snapshot: LedgerSnapshot) => {
  const ends = new Map<number, bigint>();
  for (const c of snapshot.commands) ends.set(c.partition, BigInt(c.offset) + 1n > (ends.get(c.partition) ?? 0n) ? BigInt(c.offset) + 1n : (ends.get(c.partition) ?? 0n));
  return ends;
};

const kindsOf = (report: LedgerReport): string[] => Object.keys(report.violationKinds ?? {}).sort();

function command(snapshot: LedgerSnapshot, commandId: string): { value: Command } {
  const found = snapshot.commands.find((c) => c.value.commandId === commandId);
  if (found === undefined) throw new Error(`no command ${commandId}`);
  return found;
}

/** What a faulty processor that applied a command as something else leaves: only the command record says otherwise. */
function rewriteCommand(snapshot: LedgerSnapshot, commandId: string, change: (c: Command) => Command): void {
  const located = command(snapshot, commandId);
  located.value = change(located.value);
}

describe('every event does what its command asked', () => {
  const openA = open(A, 1000);
  const openC = open(C, 0);
  const big = deposit(A, 1_000_000);
  const out = withdraw(A, 10);
  const pay = transfer(A, B, 100, 'transfer-paid');
  const bounce = transfer(A, missing, 40, 'transfer-bounced');
  const closeC = close(C);
  const ledger = () => ledgerOf([openA, open(B, 0), openC, big, out, pay, bounce, closeC]);
  // Internal commands are named after the event that caused them (schemas/ids.ts): the debits of
  // pay and bounce are A's events 4 and 5 (after its opening, deposit and withdrawal).
  const creditOfPay = creditCommandId(`${A}:4`);
  const refundOfBounce = refundCommandId(creditCommandId(`${A}:5`));

  it('passes the ledger as the processor wrote it', () => {
    const snapshot = ledger();
    expect(checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true }).violations).toEqual([]);
  });

  it('fails a Deposit of 1 applied as 1,000,000, also when settled, and nothing else is wrong', () => {
    const snapshot = ledger();
    rewriteCommand(snapshot, big.commandId, (c) => ({ ...c, payload: { ...c.payload, amount: 1 } as CommandPayload }));
    for (const settled of [false, true]) {
      const report = checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled });
      expect(report.ok).toBe(false);
      expect(kindsOf(report)).toEqual(['event-command-mismatch']);
      expect(report.violations).toEqual([`event ${A}:2 (MoneyDeposited) is not what command ${big.commandId} (Deposit) asked: amount 1000000, the command says 1`]);
    }
  });

  const cases: { name: string; commandId: string; change: (c: Command) => Command; says: RegExp }[] = [
    { name: 'an OpenAccount whose initialBalance differs', commandId: openA.commandId, change: (c) => ({ ...c, payload: { ...c.payload, initialBalance: 5 } as CommandPayload }), says: /AccountOpened\) is not what command .* \(OpenAccount\) asked: initialBalance 1000, the command says 5$/ },
    { name: 'a Withdraw applied as another event type', commandId: out.commandId, change: (c) => ({ ...c, payload: { type: 'Deposit', amount: 10, reference: null } }), says: /MoneyWithdrawn\) is not what command .* \(Deposit\) asked: a Deposit is applied as MoneyDeposited$/ },
    { name: 'a Deposit applied to another account', commandId: big.commandId, change: (c) => ({ ...c, accountId: C }), says: new RegExp(`MoneyDeposited\\) is not what command .* \\(Deposit\\) asked: account ${A}, the command says ${C}$`) },
    { name: 'a debit under another transferId', commandId: pay.commandId, change: (c) => ({ ...c, payload: { ...c.payload, transferId: 'transfer-other' } as CommandPayload }), says: /TransferDebited\) is not what command .* \(InitiateTransfer\) asked: transferId transfer-paid, the command says transfer-other$/ },
    { name: 'a debit towards another destination', commandId: pay.commandId, change: (c) => ({ ...c, payload: { ...c.payload, toAccountId: C } as CommandPayload }), says: new RegExp(`TransferDebited\\) is not what command .* asked: toAccountId ${B}, the command says ${C}$`) },
    { name: 'a credit from another source', commandId: creditOfPay, change: (c) => ({ ...c, payload: { ...c.payload, fromAccountId: C } as CommandPayload }), says: new RegExp(`TransferCredited\\) is not what command .* \\(CreditTransfer\\) asked: fromAccountId ${A}, the command says ${C}$`) },
    { name: 'a refund of another amount', commandId: refundOfBounce, change: (c) => ({ ...c, payload: { ...c.payload, amount: 39 } as CommandPayload }), says: /TransferRefunded\) is not what command .* \(RefundTransfer\) asked: amount 40, the command says 39$/ },
    { name: 'a CloseAccount applied as another event type', commandId: closeC.commandId, change: (c) => ({ ...c, payload: { type: 'Withdraw', amount: 1, reference: null } }), says: /AccountClosed\) is not what command .* \(Withdraw\) asked: a Withdraw is applied as MoneyWithdrawn$/ },
  ];
  it.each(cases)('fails $name', ({ commandId, change, says }) => {
    const snapshot = ledger();
    rewriteCommand(snapshot, commandId, change);
    const report = checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true });
    expect(report.ok).toBe(false);
    expect(report.violationKinds?.['event-command-mismatch']).toBe(1);
    expect(report.violations).toContainEqual(expect.stringMatching(says));
  });

  it('fails a command applied twice, though the outcome lists both events', () => {
    const snapshot = ledger();
    // The big deposit applied a second time, with its outcome and the changelog made to agree.
    const deposited = snapshot.events.find((l) => l.value.commandId === big.commandId)?.value;
    if (deposited === undefined || deposited.payload.type !== 'MoneyDeposited') throw new Error('no deposit');
    const tail = lastEvent(snapshot, A);
    const state = snapshot.states.filter((s) => s.value.accountId === A).at(-1)?.value;
    if (state === undefined) throw new Error('no state of A');
    const sequence = tail.sequence + 1;
    const balance = state.balance + 1_000_000;
    appendEvent(snapshot, { ...deposited, eventId: `${A}:${sequence}`, sequence, occurredAt: t0 + 30_000, payload: { ...deposited.payload, balanceAfter: balance } });
    const outcome = snapshot.outcomes.find((o) => o.key === big.commandId)?.value;
    if (outcome === undefined) throw new Error('no outcome');
    for (const o of snapshot.outcomes.filter((l) => l.key === big.commandId)) o.value = { ...outcome, eventSequences: [deposited.sequence, sequence], version: sequence, balance };
    appendState(snapshot, { ...state, balance, version: sequence, updatedAt: t0 + 30_000 });
    const report = checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true });
    expect(report.ok).toBe(false);
    expect(report.violations).toContainEqual(`command ${big.commandId} (Deposit) caused 2 events (${A}:2, ${A}:${sequence}); it causes one MoneyDeposited`);
    expect(kindsOf(report)).toContain('event-command-mismatch');
  });
});

describe('nothing waits forever', () => {
  /** A transfer debited at A whose credit the processor never took up: the credit command waits. */
  function stranded(): LedgerSnapshot {
    return ledgerOf([open(A, 1000), open(B, 0), transfer(A, B, 100, 'transfer-stranded')], { unreached: (c) => c.payload.type === 'CreditTransfer' });
  }

  it('counts a young transfer in flight and a young unanswered command as pending', () => {
    const report = checkLedger(stranded(), { now: t0 + minute });
    expect(report.violations).toEqual([]);
    expect(report.totals).toMatchObject({ pendingCommands: 1, transfers: { pending: 1 } });
  });

  it('fails, by default, a transfer in flight and a command unanswered for longer than --stuck-after', () => {
    const snapshot = stranded();
    const options: CheckOptions = { now: t0 + 6 * minute };
    const report = checkLedger(snapshot, options);
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['stuck-transfer', 'unanswered-command']);
    expect(report.violations).toContainEqual(`transfer transfer-stranded: debited 100 at ${A}, neither credited nor refunded after 357 s (--stuck-after 300 s)`);
    expect(report.violations).toContainEqual(expect.stringMatching(new RegExp(`^command ${creditCommandId(debitOf(snapshot, 'transfer-stranded').eventId)} \\(CreditTransfer\\) at partition 0 offset 1 has no outcome after 357 s \\(--stuck-after 300 s\\)$`)));
    expect(checkLedger(snapshot, { ...options, stuckAfterMs: 10 * minute }).violations).toEqual([]);
  });

  it('measures age against the newest record in the dump when given no clock', () => {
    const snapshot = stranded();
    appendCommand(snapshot, { ...deposit(A, 1), issuedAt: t0 + 10 * minute });
    const report = checkLedger(snapshot, {});
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['stuck-transfer', 'unanswered-command']);
  });
});

describe('a ledger nobody processed, or read with the wrong APP_ID', () => {
  it('fails an empty ledger (a wrong prefix reads empty topics)', () => {
    const report = checkLedger(emptySnapshot(), { processedOffsets: new Map() });
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['empty-ledger']);
  });

  it('fails commands without a single outcome, event or dead letter', () => {
    const snapshot = ledgerOf([open(A, 1000), deposit(A, 5)]);
    Object.assign(snapshot, { events: [], states: [], outcomes: [], deadLetters: [] });
    const report = checkLedger(snapshot, { processedOffsets: new Map() });
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['nothing-processed']);
  });

  it('fails when the processor group has committed nothing though outcomes exist (a wrong APP_ID)', () => {
    const snapshot = ledgerOf([open(A, 1000), deposit(A, 5)]);
    appendCommand(snapshot, deposit(A, 7));
    const report = checkLedger(snapshot, { processedOffsets: new Map() });
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['wrong-app-id']);
  });
});

describe('retention trimmed one partition', () => {
  const pA = partitionOf(A);
  /** Activity on both partitions, then retention drops the first three commands of A's partition. */
  function trimmed(ledger: LedgerOptions = {}): { snapshot: LedgerSnapshot; options: CheckOptions } {
    const snapshot = ledgerOf([open(A, 1000), open(B, 1000), deposit(A, 5), deposit(B, 6), transfer(A, B, 10, 'transfer-early'), deposit(A, 7), withdraw(B, 8), transfer(B, A, 20, 'transfer-late')], ledger);
    const processedOffsets = processedAll(snapshot);
    snapshot.commands = snapshot.commands.filter((c) => !(c.partition === pA && BigInt(c.offset) < 3n));
    return { snapshot, options: { processedOffsets, settled: true, commandsTrimmed: new Set([pA]) } };
  }

  /** A deposit nobody asked for, with the outcome and changelog record a rogue writer would add. */
  function forgeDeposit(snapshot: LedgerSnapshot, accountId: string, amount: number): string {
    const state = snapshot.states.filter((s) => s.value.accountId === accountId).at(-1)?.value;
    if (state === undefined) throw new Error(`no state of ${accountId}`);
    const commandId = `cmd-forged-${accountId}`;
    const sequence = state.version + 1;
    const balance = state.balance + amount;
    const at = t0 + 20_000;
    appendEvent(snapshot, { eventId: `${accountId}:${sequence}`, accountId, sequence, commandId, occurredAt: at, payload: { type: 'MoneyDeposited', amount, balanceAfter: balance, reference: null } });
    appendOutcome(snapshot, { commandId, accountId, status: 'ACCEPTED', code: null, message: null, fingerprint: 'forged', version: sequence, balance, transferId: null, eventSequences: [sequence], processedAt: at, transferStatus: null, transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null });
    appendState(snapshot, { ...state, balance, version: sequence, updatedAt: at });
    return commandId;
  }

  it('passes: events and outcomes of trimmed commands are exempt', () => {
    const { snapshot, options } = trimmed();
    expect(checkLedger(snapshot, options).violations).toEqual([]);
  });

  it('fails a landed transfer record of a trimmed initiation that no settlement or refund landed', () => {
    const { snapshot, options } = trimmed();
    // transfer-early's initiation is trimmed; its record, re-emitted when it settled, is exempt.
    const landed = snapshot.outcomes.find((o) => o.partition === pA && o.value.transferStatus === 'completed')?.value;
    if (landed === undefined) throw new Error('no landed transfer on the trimmed partition');
    appendOutcome(snapshot, { ...landed, commandId: 'cmd-forged-landing', transferId: 'transfer-phantom', processedAt: t0 + 20_000 });
    const report = checkLedger(snapshot, options);
    expect(report.ok).toBe(false);
    expect(report.violations).toContainEqual('outcome for command cmd-forged-landing, which is not on the commands topic');
  });

  it('fails an event without a command on the partition retention did not trim', () => {
    const { snapshot, options } = trimmed();
    const forged = forgeDeposit(snapshot, B, 500);
    const report = checkLedger(snapshot, options);
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['event-without-command', 'outcome-without-command']);
    expect(report.violations).toContainEqual(`event ${lastEvent(snapshot, B).eventId} (MoneyDeposited) was caused by command ${forged}, which is not on the commands topic`);
  });

  it('fails an event without a command after the untrimmed records of the trimmed partition', () => {
    const { snapshot, options } = trimmed();
    forgeDeposit(snapshot, A, 500);
    const report = checkLedger(snapshot, options);
    expect(report.ok).toBe(false);
    expect(kindsOf(report)).toEqual(['event-without-command', 'outcome-without-command']);
  });

  it('fails an event that is not what its command asked among the untrimmed records of the trimmed partition', () => {
    const { snapshot, options } = trimmed();
    const kept = snapshot.commands.find((c) => c.partition === pA && c.value.payload.type === 'Deposit');
    if (kept === undefined) throw new Error('no deposit left on the trimmed partition');
    kept.value = { ...kept.value, payload: { type: 'Deposit', amount: 8, reference: null } };
    const report = checkLedger(snapshot, options);
    expect(report.ok).toBe(false);
    expect(report.violations).toEqual([`event ${A}:4 (MoneyDeposited) is not what command ${kept.value.commandId} (Deposit) asked: amount 7, the command says 8`]);
  });

  it('fails a transfer in flight whose credit command is missing, though it would sit on the trimmed partition', () => {
    // The debit of transfer-late wrote no credit command: the processor could not take one up.
    const late = (c: Command) => c.payload.type === 'CreditTransfer' && c.payload.transferId === 'transfer-late';
    const { snapshot, options } = trimmed({ unreached: late });
    const credit = snapshot.commands.find((c) => late(c.value));
    expect(credit?.partition).toBe(pA);
    snapshot.commands = snapshot.commands.filter((c) => c !== credit);
    const report = checkLedger(snapshot, { ...options, settled: false });
    expect(report.ok).toBe(false);
    expect(report.violations).toContainEqual('transfer transfer-late: debited, but its CreditTransfer command is not on the commands topic');
    expect(kindsOf(report)).toEqual(['transfer']);
  });
});
