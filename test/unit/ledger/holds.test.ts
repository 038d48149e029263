// The checker's second opinion on holds and overdraft limits (scripts/ledger/check-holds.ts): a
// ledger the processor wrote passes; histories that evolve() folds without complaint but that
// break a hold's lifecycle, or debits below the limit in force, are named.
import { describe, expect, it } from 'vitest';
import { checkLedger } from '../../../scripts/ledger/check.ts';
import { foldAccounts, type AccountFold } from '../../../scripts/ledger/check-accounts.ts';
import { checkHolds } from '../../../scripts/ledger/check-holds.ts';
import { Violations } from '../../../scripts/ledger/violations.ts';
import type { AccountEvent, AccountState, CommandOutcome, EventPayload } from '../../../schemas/types.ts';
import { A, ev, numbered } from '../domain/given.ts';
import { appendState, command, deposit, ledgerOf, open, withdraw } from './given.ts';

/** The fold checkHolds is given, built from events as written (no evolve in between). */
function foldOf(payloads: EventPayload[], heldBalance: number): AccountFold {
  const verified = numbered(payloads);
  const state = { accountId: A, heldBalance, version: verified.length } as AccountState;
  return { folded: new Map([[A, state]]), broken: new Set(), verified, unique: [], balanceAfter: new Map() };
}

function holdViolations(payloads: EventPayload[], heldBalance: number): string[] {
  const violations = new Violations();
  checkHolds(foldOf(payloads, heldBalance), violations);
  return violations.details.map((v) => `[${v.kind}] ${v.message}`);
}

const opened = (balance: number, overdraftLimit = 0): EventPayload => ({ ...(ev.opened(balance) as Extract<EventPayload, { type: 'AccountOpened' }>), overdraftLimit });
const withdrawn = (amount: number, balanceAfter: number): EventPayload => ({ type: 'MoneyWithdrawn', amount, balanceAfter, reference: null });
const deposited = (amount: number, balanceAfter: number): EventPayload => ({ type: 'MoneyDeposited', amount, balanceAfter, reference: null });
const limitSet = (limit: number): EventPayload => ({ type: 'OverdraftLimitSet', limit });

describe('holds: what the processor wrote passes', () => {
  it('places, captures part of one hold, voids another, with overdraft limits raised and lowered', () => {
    const place = (holdId: string, amount: number) => command('account-a', { type: 'PlaceHold', holdId, amount, expiresInSeconds: 3600, reference: null });
    const snapshot = ledgerOf([
      command('account-a', { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 1000, overdraftLimit: 200 }),
      place('h1', 300),
      place('h2', 500),
      place('h3', 100),
      command('account-a', { type: 'CaptureHold', holdId: 'h1', amount: 120 }),
      command('account-a', { type: 'VoidHold', holdId: 'h2' }),
      // balance 880, 100 held, limit 200: available 980
      withdraw('account-a', 981), // refused: one unit more than available
      withdraw('account-a', 880), // balance 0, available 100
      withdraw('account-a', 100), // balance −100, available exactly 0
      command('account-a', { type: 'SetOverdraftLimit', limit: 50 }), // below the debt: allowed, blocks debits
      withdraw('account-a', 1), // refused
      deposit('account-a', 30),
    ]);
    const report = checkLedger(snapshot, { settled: true });
    expect(report.violations).toEqual([]);
    expect(report.totals.holds).toEqual({ placed: 3, captured: 1, voided: 1, expired: 0, active: 1, held: 100 });
    const final = report.balances.get('account-a');
    expect({ balance: final?.balance, heldBalance: final?.heldBalance, overdraftLimit: final?.overdraftLimit }).toEqual({ balance: -70, heldBalance: 100, overdraftLimit: 50 });
  });

  it('names a changelog whose heldBalance disagrees with the fold', () => {
    const snapshot = ledgerOf([open('account-a', 1000), command('account-a', { type: 'PlaceHold', holdId: 'h1', amount: 300, expiresInSeconds: 3600, reference: null })]);
    const last = snapshot.states.at(-1)?.value as AccountState;
    appendState(snapshot, { ...last, heldBalance: 0 });
    const report = checkLedger(snapshot, { settled: true });
    expect(report.violationKinds).toEqual({ changelog: 1 });
    expect(report.violations[0]).toContain('heldBalance 0');
  });
});

describe('holds: lifecycles evolve() folds but a ledger must not have', () => {
  it('passes a clean lifecycle: placed, captured in part (all released), another expired', () => {
    expect(holdViolations([opened(1000), ev.holdPlaced(300, undefined, 'h1'), ev.holdPlaced(200, undefined, 'h2'), ev.holdCaptured(100, 900, 300, 'h1'), ev.holdExpired(200, 'h2')], 0)).toEqual([]);
  });

  it('names a void of a hold never placed on this account', () => {
    expect(holdViolations([opened(1000), ev.holdPlaced(300, undefined, 'h1'), ev.holdVoided(300, 'elsewhere')], 0)).toEqual([
      `[hold] account ${A} event 3 (HoldVoided): hold elsewhere was never placed on this account`,
      `[hold] account ${A}: heldBalance folds to 0, its 1 active hold(s) sum to 300`,
    ]);
  });

  it('names a hold captured twice, and one expired for another amount than it held', () => {
    const history = [opened(1000), ev.holdPlaced(300, undefined, 'h1'), ev.holdPlaced(400, undefined, 'h2'), ev.holdCaptured(300, 700, 300, 'h1'), ev.holdCaptured(300, 400, 300, 'h1'), ev.holdExpired(100, 'h2')];
    expect(holdViolations(history, 0)).toEqual([
      `[hold] account ${A} event 5 (HoldCaptured): hold h1 was already closed by HoldCaptured at sequence 4`,
      `[hold] account ${A} event 6 (HoldExpired): releases 100 of hold h2, which held 400`,
    ]);
  });

  it('names a capture of more than the hold, and a hold placed twice', () => {
    expect(holdViolations([opened(1000), ev.holdPlaced(300, undefined, 'h1'), ev.holdPlaced(300, undefined, 'h1'), ev.holdCaptured(301, 699, 300, 'h1')], 0)).toEqual([
      `[hold] account ${A} event 3 (HoldPlaced): hold h1 placed twice`,
      `[hold] account ${A} event 4 (HoldCaptured): captures 301 of hold h1, which held 300`,
    ]);
  });

  it('names a heldBalance that is not the sum of the active holds', () => {
    expect(holdViolations([opened(1000), ev.holdPlaced(300, undefined, 'h1'), ev.holdPlaced(200, undefined, 'h2'), ev.holdVoided(300, 'h1')], 300)).toEqual([
      `[hold] account ${A}: heldBalance folds to 300, its 1 active hold(s) sum to 200`,
    ]);
  });
});

describe('a hold left active past its expiry', () => {
  const expiresAt = 1_700_003_600_000; // ev.holdPlaced's default: t0 + 1 h
  const violations = (now: number) => {
    const found = new Violations();
    checkHolds(foldOf([opened(1000), ev.holdPlaced(300, expiresAt, 'h1')], 300), found, { now, stuckAfterMs: 300_000 });
    return found.details.map((v) => v.kind);
  };

  it('is stuck once more than --stuck-after past its expiresAt, not before', () => {
    expect(violations(expiresAt + 300_000)).toEqual([]);
    expect(violations(expiresAt + 300_001)).toEqual(['stuck-hold']);
  });

  it('an expired hold is not', () => {
    const found = new Violations();
    checkHolds(foldOf([opened(1000), ev.holdPlaced(300, expiresAt, 'h1'), ev.holdExpired(300, 'h1')], 0), found, { now: expiresAt + 3_600_000, stuckAfterMs: 300_000 });
    expect(found.details).toEqual([]);
  });
});

describe('overdraft: a debit never leaves the balance below −overdraftLimit', () => {
  it('passes a withdrawal to exactly −limit, and a deposit that leaves a debt below a lowered limit', () => {
    expect(holdViolations([opened(100, 50), withdrawn(150, -50), limitSet(10), deposited(20, -30)], 0)).toEqual([]);
  });

  it('names a withdrawal one unit past the limit', () => {
    expect(holdViolations([opened(100, 50), withdrawn(151, -51)], 0)).toEqual([`[overdraft] account ${A} event 2 (MoneyWithdrawn): balance -51 is below −50, the overdraft limit`]);
  });

  it('names a debit after the limit was lowered below the debt, even one that stays within the old limit', () => {
    expect(holdViolations([opened(100, 50), withdrawn(140, -40), limitSet(10), ev.holdCaptured(1, -41, 1)], 0).filter((v) => v.startsWith('[overdraft]'))).toEqual([
      `[overdraft] account ${A} event 4 (HoldCaptured): balance -41 is below −10, the overdraft limit`,
    ]);
  });

  it('names an opening below zero without a limit', () => {
    expect(holdViolations([opened(-1)], 0)).toEqual([`[overdraft] account ${A} event 1 (AccountOpened): balance -1 is below −0, the overdraft limit`]);
  });
});

it('the fold the checker builds carries heldBalance for checkHolds (no stale copy)', () => {
  const events: AccountEvent[] = numbered([opened(1000), ev.holdPlaced(300, undefined, 'h1')]);
  const violations = new Violations();
  const fold = foldAccounts(events.map((value, i) => ({ partition: 0, offset: String(i), key: value.eventId, value, headers: {}, timestamp: value.occurredAt })), violations);
  expect(fold.folded.get(A)?.heldBalance).toBe(300);
  checkHolds(fold, violations);
  expect(violations.details).toEqual([]);
});

describe('a hold’s record as replayed', () => {
  const place = (id: string) => command('account-a', { type: 'PlaceHold', holdId: id, amount: 100, expiresInSeconds: 3600, reference: null }, `place-${id}`);
  const violationsOf = (commands: Parameters<typeof ledgerOf>[0]) => checkLedger(ledgerOf(commands)).violations;

  it('a PlaceHold retried after its hold was voided or captured is answered with the record as it stands, and that is no second outcome', () => {
    // The record carries the hold's current status (processors/account/hold-records.ts), as a
    // transfer initiation's carries its transfer's: a retry seen in the fault campaign.
    const voided = place('h-void');
    const captured = place('h-capture');
    expect(
      violationsOf([
        open('account-a', 1000),
        voided,
        command('account-a', { type: 'VoidHold', holdId: 'h-void' }),
        voided,
        captured,
        command('account-a', { type: 'CaptureHold', holdId: 'h-capture', amount: 40 }),
        captured,
      ]),
    ).toEqual([]);
  });

  it('anything else of a hold’s record changing is still a second outcome', () => {
    const placed = place('h-1');
    const snapshot = ledgerOf([open('account-a', 1000), placed]);
    const original = snapshot.outcomes.find((l) => l.key === placed.commandId)?.value;
    if (original === undefined) throw new Error('no outcome');
    const last = snapshot.outcomes[snapshot.outcomes.length - 1];
    if (last === undefined) throw new Error('no outcomes');
    const replayed = (value: CommandOutcome, offset: string) => snapshot.outcomes.push({ ...last, offset, value });
    replayed({ ...original, holdStatus: 'VOIDED', holdAmount: 99 }, '997');
    expect(checkLedger(snapshot).violations).toContainEqual(`command ${placed.commandId}: two different outcomes (ACCEPTED v2 and ACCEPTED v2)`);
    // Ended, it does not come back.
    snapshot.outcomes.pop();
    replayed({ ...original, holdStatus: 'VOIDED' }, '998');
    replayed(original, '999');
    expect(checkLedger(snapshot).violations).toEqual([`command ${placed.commandId}: two different outcomes (ACCEPTED v2 and ACCEPTED v2)`]);
  });
});
