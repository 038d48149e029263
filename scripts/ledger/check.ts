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
//   causes       every event is what the command with its commandId asked (type, account,
//                amount, transfer, counterparty), one event per command           check-causes.ts
//   transfers    debited once, then credited or refunded at most once, never both check-transfers.ts
//   waiting      a command unanswered or a transfer in flight longer than --stuck-after
//                                                                   check-commands.ts, check-transfers.ts
//   reversals    an account-level reversal reverses one posting of its account, once, with its
//                amount and the opposite direction                                 check-reversals.ts
//                (a transfer's: reversed once, back to its source, credited there  check-transfers.ts)
//   money        balances + in flight (transfers, and transfer reversals debited at the
//                destination and not yet credited back) = opened + deposits − withdrawals, deposits
//                and withdrawals net of their account-level reversals              here
//   presence     an empty ledger, one nobody processed, or a processor group (APP_ID) that
//                committed nothing though outcomes exist                         here
//
// Every violation has a kind (violations.ts), counted in the report.
import type { AccountState } from '../../schemas/types.ts';
import { checkStates, foldAccounts } from './check-accounts.ts';
import { checkEventsAgainstCommands } from './check-causes.ts';
import { checkCommands, checkEventsAgainstOutcomes, indexOutcomes, type CommandCheckOptions } from './check-commands.ts';
import { checkHolds, type HoldTotals } from './check-holds.ts';
import { checkReversals } from './check-reversals.ts';
import { checkTransfers } from './check-transfers.ts';
import type { LedgerSnapshot } from './read.ts';
import { Violations, type Violation, type ViolationKind } from './violations.ts';

export { violationsListedMax } from './violations.ts';

/** Default of --stuck-after: a command unanswered or a transfer in flight longer than this is a violation. */
export const stuckAfterDefaultMs = 5 * 60_000;

export interface CheckOptions extends CommandCheckOptions {
  /**
   * What "now" is for ages. `npm run check-ledger` passes its clock at the start of the read, so
   * a processor that stopped (and writes nothing newer) is still seen stalling. Without it: the
   * newest record timestamp in the dump, so a saved dump checks the same whenever it is checked.
   */
  now?: number;
  /** A command unanswered or a transfer in flight longer than this is a violation (default 5 minutes). */
  stuckAfterMs?: number;
}

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
  /** settled: credited and settled at the source (its money no longer counted in flight there). */
  transfers: { debited: number; credited: number; settled: number; refunded: number; pending: number };
  holds: HoldTotals;
  /** Reversals that moved money: of deposits, withdrawals and captures; of transfers credited back; transfer reversals the destination refused. */
  reversals: { postings: number; transfers: number; transfersFailed: number };
}

export interface LedgerReport {
  ok: boolean;
  /** The first violations, in full (at most violationsListedMax). */
  violations: string[];
  /** The same, each with its kind. */
  violationDetails: Violation[];
  /** Every violation (listed or not), counted by kind. */
  violationKinds: Partial<Record<ViolationKind, number>>;
  violationCount: number;
  totals: LedgerTotals;
  /** The first few commands still waiting for the processor, when any. */
  pendingExamples: string[];
  /** The fold of the events per account, for comparison with other views. */
  balances: Map<string, AccountState>;
}

function newestRecord(snapshot: LedgerSnapshot): number {
  let newest = 0;
  for (const list of [snapshot.commands, snapshot.undecodableCommands, snapshot.events, snapshot.states, snapshot.outcomes, snapshot.deadLetters] as { timestamp: number }[][]) {
    for (const { timestamp } of list) if (timestamp > newest) newest = timestamp;
  }
  return newest;
}

/** A ledger that cannot be audited as it stands: a wrong prefix or APP_ID, or no processor at all. */
function checkPresence(snapshot: LedgerSnapshot, options: CheckOptions, violations: Violations): void {
  const commands = snapshot.commands.length + snapshot.undecodableCommands.length;
  const answers = snapshot.events.length + snapshot.outcomes.length + snapshot.deadLetters.length;
  if (commands + answers + snapshot.states.length === 0) violations.add('empty-ledger', 'no record on any topic of the ledger: a wrong BANK_TOPIC_PREFIX (--prefix), or nothing was ever sent');
  else if (commands > 0 && answers === 0) violations.add('nothing-processed', `${commands} command(s) but not one outcome, event or dead letter: no account processor ever ran on this ledger`);
  if (options.processedOffsets !== undefined && options.processedOffsets.size === 0 && snapshot.outcomes.length > 0) {
    violations.add('wrong-app-id', `${snapshot.outcomes.length} outcome records, but the processor group has committed no offset: a wrong APP_ID (--app-id)? Whether commands were consumed cannot be judged`);
  }
}

export function checkLedger(snapshot: LedgerSnapshot, options: CheckOptions = {}): LedgerReport {
  const violations = new Violations();
  const clock = { now: options.now ?? newestRecord(snapshot), stuckAfterMs: options.stuckAfterMs ?? stuckAfterDefaultMs };
  const commandsTrimmed = options.commandsTrimmed ?? new Set<number>();
  checkPresence(snapshot, options, violations);
  const fold = foldAccounts(snapshot.events, violations);
  checkStates(snapshot.states, fold, violations);
  const outcomes = indexOutcomes(snapshot.outcomes, violations);
  checkEventsAgainstOutcomes(fold, snapshot.outcomes, outcomes, options, violations);
  checkEventsAgainstCommands(fold, snapshot.commands, outcomes, commandsTrimmed, violations);
  const commands = checkCommands(snapshot, outcomes, options, clock, violations);
  const commandIds = new Set(snapshot.commands.map((c) => c.value.commandId));
  const holds = checkHolds(fold, violations, clock);
  const transfers = checkTransfers(fold.verified, { outcomes, commandIds, commandsTrimmed, settled: options.settled ?? false, clock }, violations);
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
    transfers: { debited: transfers.debited, credited: transfers.credited, settled: transfers.settled, refunded: transfers.refunded, pending: transfers.pending },
    holds,
    reversals: { postings: 0, transfers: 0, transfersFailed: 0 },
  };
  // Exact sums (each amount is a safe integer, their sum need not be); over the verified events
  // only, so a broken account's unverified tail is not counted against its verified balance.
  const sums = { opened: 0n, deposited: 0n, withdrawn: 0n, balances: 0n };
  for (const { payload: p } of fold.verified) {
    if (p.type === 'TransactionReversed') totals.reversals.postings += 1;
    if (p.type === 'TransferReversalCredited') totals.reversals.transfers += 1;
    if (p.type === 'TransferReversalFailed') totals.reversals.transfersFailed += 1;
    if (p.type === 'AccountOpened') sums.opened += BigInt(p.initialBalance);
    if (p.type === 'MoneyDeposited') sums.deposited += BigInt(p.amount);
    // A captured hold leaves the ledger like a withdrawal (DESIGN §10).
    if (p.type === 'MoneyWithdrawn' || p.type === 'HoldCaptured') sums.withdrawn += BigInt(p.amount);
  }
  // A reversed deposit left the ledger again, a reversed withdrawal or capture came back.
  const reversed = checkReversals(fold.verified, violations);
  sums.deposited -= reversed.debited;
  sums.withdrawn -= reversed.credited;
  for (const state of fold.folded.values()) sums.balances += BigInt(state.balance);
  Object.assign(totals, { openedInitial: Number(sums.opened), deposited: Number(sums.deposited), withdrawn: Number(sums.withdrawn), balances: Number(sums.balances) });
  const held = sums.balances + BigInt(transfers.inFlight);
  const expected = sums.opened + sums.deposited - sums.withdrawn;
  if (held !== expected) {
    violations.add('money', `money is not conserved: balances ${sums.balances} + in flight ${transfers.inFlight} = ${held}, but opened ${sums.opened} + deposits ${sums.deposited} − withdrawals ${sums.withdrawn} = ${expected}`);
  }
  return {
    ok: violations.count === 0,
    violations: violations.listed,
    violationDetails: violations.details,
    violationKinds: violations.byKind,
    violationCount: violations.count,
    totals,
    pendingExamples: commands.pendingExamples,
    balances: fold.folded,
  };
}
