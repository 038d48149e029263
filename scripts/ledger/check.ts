// The ledger's invariants (DESIGN §4), checked from the topics alone. Pure: it takes what
// read.ts read and returns violations and totals, so it is unit-testable and reusable by tests.
import { evolve } from '../../processors/account/domain/index.ts';
import type { AccountEvent, AccountState, CommandOutcome } from '../../schemas/types.ts';
import type { LedgerSnapshot } from './read.ts';

/** Violations listed in full; beyond this only counted, so a broken ledger still gives a readable report. */
export const violationsListedMax = 200;

export interface LedgerTotals {
  accounts: number;
  events: number;
  commands: number;
  outcomes: number;
  deadLetters: number;
  openedInitial: number;
  deposited: number;
  withdrawn: number;
  balances: number;
  inFlight: number;
  transfers: { debited: number; credited: number; refunded: number; pending: number };
}

export interface LedgerReport {
  ok: boolean;
  violations: string[];
  violationCount: number;
  totals: LedgerTotals;
  /** The fold of the events per account, for comparison with other views. */
  balances: Map<string, AccountState>;
}

type Transfer = { debited: number; credited: number; refunded: number; amount: number; creditAmount?: number; refundAmount?: number };

class Checker {
  readonly violations: string[] = [];
  count = 0;
  violate(message: string): void {
    this.count += 1;
    if (this.violations.length < violationsListedMax) this.violations.push(message);
  }
}

function foldAccounts(events: AccountEvent[], checker: Checker): Map<string, AccountState> {
  const byAccount = new Map<string, AccountEvent[]>();
  for (const e of events) {
    const list = byAccount.get(e.accountId) ?? [];
    list.push(e);
    byAccount.set(e.accountId, list);
  }
  const folded = new Map<string, AccountState>();
  for (const [accountId, list] of byAccount) {
    list.sort((a, b) => a.sequence - b.sequence);
    let state: AccountState | undefined;
    let previous: AccountEvent | undefined;
    for (const event of list) {
      if (previous !== undefined && previous.sequence === event.sequence) {
        // A re-published event under the same key is harmless when identical; anything else is a fork.
        if (JSON.stringify(previous) !== JSON.stringify(event)) checker.violate(`account ${accountId}: two different events with sequence ${event.sequence}`);
        continue;
      }
      try {
        state = evolve(state, event);
      } catch (error) {
        checker.violate(`account ${accountId}: event ${event.sequence} (${event.payload.type}) breaks the fold: ${(error as Error).message}`);
        break;
      }
      previous = event;
    }
    if (state !== undefined) folded.set(accountId, state);
  }
  return folded;
}

function checkTransfers(events: AccountEvent[], checker: Checker): Map<string, Transfer> {
  const transfers = new Map<string, Transfer>();
  const get = (id: string) => transfers.get(id) ?? (transfers.set(id, { debited: 0, credited: 0, refunded: 0, amount: 0 }).get(id) as Transfer);
  for (const { payload: p } of uniqueEvents(events)) {
    if (p.type === 'TransferDebited') Object.assign(get(p.transferId), { debited: get(p.transferId).debited + 1, amount: p.amount });
    if (p.type === 'TransferCredited') Object.assign(get(p.transferId), { credited: get(p.transferId).credited + 1, creditAmount: p.amount });
    if (p.type === 'TransferRefunded') Object.assign(get(p.transferId), { refunded: get(p.transferId).refunded + 1, refundAmount: p.amount });
  }
  for (const [id, t] of transfers) {
    if (t.debited !== 1) checker.violate(`transfer ${id}: debited ${t.debited} times`);
    if (t.credited > 1) checker.violate(`transfer ${id}: credited ${t.credited} times`);
    if (t.refunded > 1) checker.violate(`transfer ${id}: refunded ${t.refunded} times`);
    if (t.credited > 0 && t.refunded > 0) checker.violate(`transfer ${id}: both credited and refunded`);
    if (t.creditAmount !== undefined && t.creditAmount !== t.amount) checker.violate(`transfer ${id}: credited ${t.creditAmount}, debited ${t.amount}`);
    if (t.refundAmount !== undefined && t.refundAmount !== t.amount) checker.violate(`transfer ${id}: refunded ${t.refundAmount}, debited ${t.amount}`);
  }
  return transfers;
}

/** Events deduplicated by (account, sequence): compaction may not have collapsed re-publishes yet. */
function uniqueEvents(events: AccountEvent[]): AccountEvent[] {
  const seen = new Map<string, AccountEvent>();
  for (const e of events) if (!seen.has(e.eventId)) seen.set(e.eventId, e);
  return [...seen.values()];
}

function checkOutcomes(snapshot: LedgerSnapshot, checker: Checker): void {
  const byKey = new Map<string, CommandOutcome>();
  for (const { key, value } of snapshot.outcomes) {
    // `<commandId>#<fingerprint>` records are refusals of a reused key: replies, not the command's outcome.
    if (key.includes('#')) continue;
    const previous = byKey.get(key);
    // A duplicate command re-emits its original outcome: every record under one key must agree.
    if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(value)) checker.violate(`command ${key}: outcomes disagree (${previous.status}/${previous.code} v${previous.version} vs ${value.status}/${value.code} v${value.version})`);
    byKey.set(key, value);
  }
  const eventsByCommand = new Map<string, number>();
  for (const e of uniqueEvents(snapshot.events.map((l) => l.value))) eventsByCommand.set(e.commandId, (eventsByCommand.get(e.commandId) ?? 0) + 1);
  for (const [commandId, count] of eventsByCommand) {
    const outcome = byKey.get(commandId);
    if (outcome?.status !== 'ACCEPTED') checker.violate(`command ${commandId} caused ${count} event(s) but has ${outcome ? `a ${outcome.status} outcome` : 'no outcome'}`);
    else if (outcome.eventSequences.length !== count) checker.violate(`command ${commandId}: outcome lists ${outcome.eventSequences.length} events, log has ${count}`);
  }
  for (const [key, outcome] of byKey) {
    if (outcome.status === 'ACCEPTED' && !eventsByCommand.has(key)) checker.violate(`command ${key} is ACCEPTED but caused no event`);
  }
}

function checkStates(snapshot: LedgerSnapshot, folded: Map<string, AccountState>, checker: Checker): void {
  const latest = new Map<string, AccountState>();
  for (const { value } of snapshot.states) {
    const previous = latest.get(value.accountId);
    if (previous !== undefined && value.version < previous.version) checker.violate(`account-state ${value.accountId}: version went back from ${previous.version} to ${value.version}`);
    latest.set(value.accountId, value);
  }
  for (const [accountId, fold] of folded) {
    const state = latest.get(accountId);
    if (state === undefined) checker.violate(`account ${accountId}: no record in the account-state changelog`);
    else if (state.balance !== fold.balance || state.version !== fold.version || state.status !== fold.status)
      checker.violate(`account ${accountId}: changelog says balance ${state.balance} v${state.version} ${state.status}, events say ${fold.balance} v${fold.version} ${fold.status}`);
  }
  for (const accountId of latest.keys()) if (!folded.has(accountId)) checker.violate(`account-state has ${accountId}, which has no events`);
}

export function checkLedger(snapshot: LedgerSnapshot): LedgerReport {
  const checker = new Checker();
  const events = snapshot.events.map((l) => l.value);
  const folded = foldAccounts(events, checker);
  const transfers = checkTransfers(events, checker);
  checkOutcomes(snapshot, checker);
  checkStates(snapshot, folded, checker);
  const totals: LedgerTotals = {
    accounts: folded.size,
    events: events.length,
    commands: snapshot.commands.length,
    outcomes: snapshot.outcomes.length,
    deadLetters: snapshot.deadLetters.length,
    openedInitial: 0,
    deposited: 0,
    withdrawn: 0,
    balances: 0,
    inFlight: 0,
    transfers: { debited: 0, credited: 0, refunded: 0, pending: 0 },
  };
  for (const { payload: p } of uniqueEvents(events)) {
    if (p.type === 'AccountOpened') totals.openedInitial += p.initialBalance;
    if (p.type === 'MoneyDeposited') totals.deposited += p.amount;
    if (p.type === 'MoneyWithdrawn') totals.withdrawn += p.amount;
  }
  for (const state of folded.values()) totals.balances += state.balance;
  for (const t of transfers.values()) {
    totals.transfers.debited += t.debited > 0 ? 1 : 0;
    totals.transfers.credited += t.credited > 0 ? 1 : 0;
    totals.transfers.refunded += t.refunded > 0 ? 1 : 0;
    if (t.debited > 0 && t.credited === 0 && t.refunded === 0) {
      totals.transfers.pending += 1;
      totals.inFlight += t.amount;
    }
  }
  const expected = totals.openedInitial + totals.deposited - totals.withdrawn;
  if (totals.balances + totals.inFlight !== expected) {
    checker.violate(`money is not conserved: balances ${totals.balances} + in flight ${totals.inFlight} ≠ opened ${totals.openedInitial} + deposits ${totals.deposited} − withdrawals ${totals.withdrawn} = ${expected}`);
  }
  return { ok: checker.count === 0, violations: checker.violations, violationCount: checker.count, totals, balances: folded };
}
