// The ledger's invariants (DESIGN §4), checked from the topics alone. Pure: it takes what
// read.ts read and returns violations and totals, so it is unit-testable and serves the tests,
// `npm run check-ledger` and the fault campaign alike.
//
//   accounts     sequences 1, 2, 3… from AccountOpened, no gap, no fork; balanceAfter equals the
//                fold (evolve); never negative                                  check-accounts.ts
//   changelog    bank.account-state's latest record per account equals the fold  check-accounts.ts
//   outcomes     a command that caused events has one outcome, ACCEPTED, naming exactly them;
//                an ACCEPTED outcome caused events; a consumed valid command has an outcome,
//                an invalid or undecodable one is dead-lettered                  check-commands.ts
//   transfers    debited once, then credited or refunded at most once, never both check-transfers.ts
//   money        balances + in flight = opened + deposits − withdrawals          here
import type { AccountState } from '../../schemas/types.ts';
import { checkStates, foldAccounts } from './check-accounts.ts';
import { checkCommands, checkEventsAgainstOutcomes, indexOutcomes, type CommandCheckOptions } from './check-commands.ts';
import { checkTransfers } from './check-transfers.ts';
import type { LedgerSnapshot } from './read.ts';
import { Violations } from './violations.ts';

export { violationsListedMax } from './violations.ts';

export type CheckOptions = CommandCheckOptions;

export interface LedgerTotals {
  accounts: number;
  /** Accounts whose history breaks an invariant; their later events are not verified. */
  brokenAccounts: number;
  events: number;
  commands: number;
  undecodableCommands: number;
  /** Commands (and undecodable records) the processor has not answered yet. */
  pendingCommands: number;
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
  /** The first violations, in full (at most violationsListedMax). */
  violations: string[];
  violationCount: number;
  totals: LedgerTotals;
  /** The first few commands still waiting for the processor, when any. */
  pendingExamples: string[];
  /** The fold of the events per account, for comparison with other views. */
  balances: Map<string, AccountState>;
}

export function checkLedger(snapshot: LedgerSnapshot, options: CheckOptions = {}): LedgerReport {
  const violations = new Violations();
  const fold = foldAccounts(snapshot.events, violations);
  checkStates(snapshot.states, fold, violations);
  const outcomes = indexOutcomes(snapshot.outcomes, violations);
  checkEventsAgainstOutcomes(fold, snapshot.outcomes, outcomes, options, violations);
  const commands = checkCommands(snapshot, outcomes, options, violations);
  const commandIds = options.commandsTrimmed ? undefined : new Set(snapshot.commands.map((c) => c.value.commandId));
  const transfers = checkTransfers(fold.verified, { outcomes, commandIds, settled: options.settled ?? false }, violations);
  const totals: LedgerTotals = {
    accounts: fold.folded.size,
    brokenAccounts: fold.broken.size,
    events: snapshot.events.length,
    commands: snapshot.commands.length,
    undecodableCommands: snapshot.undecodableCommands.length,
    pendingCommands: commands.pending,
    outcomes: snapshot.outcomes.length,
    deadLetters: snapshot.deadLetters.length,
    openedInitial: 0,
    deposited: 0,
    withdrawn: 0,
    balances: 0,
    inFlight: transfers.inFlight,
    transfers: { debited: transfers.debited, credited: transfers.credited, refunded: transfers.refunded, pending: transfers.pending },
  };
  // Exact sums (each amount is a safe integer, their sum need not be); over the verified events
  // only, so a broken account's unverified tail is not counted against its verified balance.
  const sums = { opened: 0n, deposited: 0n, withdrawn: 0n, balances: 0n };
  for (const { payload: p } of fold.verified) {
    if (p.type === 'AccountOpened') sums.opened += BigInt(p.initialBalance);
    if (p.type === 'MoneyDeposited') sums.deposited += BigInt(p.amount);
    if (p.type === 'MoneyWithdrawn') sums.withdrawn += BigInt(p.amount);
  }
  for (const state of fold.folded.values()) sums.balances += BigInt(state.balance);
  Object.assign(totals, { openedInitial: Number(sums.opened), deposited: Number(sums.deposited), withdrawn: Number(sums.withdrawn), balances: Number(sums.balances) });
  const held = sums.balances + BigInt(transfers.inFlight);
  const expected = sums.opened + sums.deposited - sums.withdrawn;
  if (held !== expected) {
    violations.add(`money is not conserved: balances ${sums.balances} + in flight ${transfers.inFlight} = ${held}, but opened ${sums.opened} + deposits ${sums.deposited} − withdrawals ${sums.withdrawn} = ${expected}`);
  }
  return {
    ok: violations.count === 0,
    violations: violations.listed,
    violationCount: violations.count,
    totals,
    pendingExamples: commands.pendingExamples,
    balances: fold.folded,
  };
}
