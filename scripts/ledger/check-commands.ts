// Commands against outcomes and events: every command that caused events has exactly one outcome,
// ACCEPTED, listing exactly those events with the version and balance they left; every ACCEPTED
// outcome caused events; every valid command the processor consumed has an outcome (a reused id
// with another meaning: an IDEMPOTENCY_KEY_REUSED refusal), and every invalid or undecodable one
// went to the dead-letter topic. A command left unanswered is pending while it is young, and a
// violation once older than --stuck-after.
import { isRefusalKey, refusalKey } from '../../topics/record-keys.ts';
import { mayOutliveCommand } from './check-causes.ts';
import { eventIdOf, validateCommand } from '../../processors/account/domain/index.ts';
import type { AccountEvent, Command, CommandOutcome } from '../../schemas/types.ts';
import type { AccountFold } from './check-accounts.ts';
import type { LedgerSnapshot, Located } from './read.ts';
import { sharedPartitionOf } from '../../topics/partitioner.ts';
import type { Violations } from './violations.ts';

export interface CommandCheckOptions {
  /** The processor group's committed offset per commands partition, read before the snapshot. */
  processedOffsets?: ReadonlyMap<number, bigint>;
  /** The caller knows the ledger is quiet: a command still waiting for the processor is a violation. */
  settled?: boolean;
  /** Partitions of the commands topic whose start retention removed (log start > 0): their oldest records may outlive their commands. */
  commandsTrimmed?: ReadonlySet<number>;
  /** Partitions of the outcomes topic whose start retention removed: their oldest events may have lost their outcome. */
  outcomesTrimmed?: ReadonlySet<number>;
  /** Partitions of the commands topic: with it, a command dead-lettered as misrouted is checked to be misrouted. */
  partitions?: number;
}

/**
 * A valid command the processor must dead-letter (DESIGN §8): its record key is not its
 * accountId, or it is not on murmur2(accountId) mod N. Judged here from the record itself.
 */
function misrouted(located: Located<Command>, partitions: number | undefined): boolean {
  if (located.key !== located.value.accountId) return true;
  return partitions !== undefined && located.partition !== sharedPartitionOf(partitions)(located.value.accountId);
}

/** When the check runs, and how long a command or transfer may wait before it counts as stuck. */
export interface CheckClock {
  now: number;
  stuckAfterMs: number;
}

/** Ages in reports: whole seconds. */
export const seconds = (ms: number): string => `${Math.floor(ms / 1000)} s`;

export interface OutcomeIndex {
  /** The outcome of each command, by commandId (every record under that key must agree). */
  byCommand: Map<string, CommandOutcome>;
  /** Refusals of a reused id, by their key `<commandId>#<fingerprint>`. */
  keyReuseRefusals: Map<string, CommandOutcome>;
  /** The partition each command's outcome is on: the partition of the command itself. */
  partitions: Map<string, number>;
}

export function indexOutcomes(outcomes: Located<CommandOutcome>[], violations: Violations): OutcomeIndex {
  const index: OutcomeIndex = { byCommand: new Map(), keyReuseRefusals: new Map(), partitions: new Map() };
  for (const { key, value, partition, offset } of outcomes) {
    if (isRefusalKey(key)) {
      if (key !== refusalKey(value.commandId, value.fingerprint) || value.code !== 'IDEMPOTENCY_KEY_REUSED') violations.add('outcome', `outcome at partition ${partition} offset ${offset}: key ${key} is not a key-reuse refusal of ${value.commandId}`);
      index.keyReuseRefusals.set(key, value);
      continue;
    }
    if (key !== value.commandId) violations.add('outcome', `outcome at partition ${partition} offset ${offset}: key ${key} holds the outcome of ${value.commandId}`);
    const previous = index.byCommand.get(key);
    // A duplicate command re-emits its original outcome: one command, one outcome, however often
    // sent. A transfer initiation's record may move once from pending to its final status, and a
    // hold's record from ACTIVE to how the hold ended (each then re-emitted as that); nothing else
    // of them may change.
    if (previous !== undefined && sameOutcome(previous, value) === false) {
      violations.add('outcome', `command ${key}: two different outcomes (${previous.status}${previous.code ? ` ${previous.code}` : ''} v${previous.version} and ${value.status}${value.code ? ` ${value.code}` : ''} v${value.version})`);
    }
    if (previous === undefined) index.partitions.set(key, partition);
    if (previous === undefined || previous.transferStatus === 'pending' || previous.holdStatus === 'ACTIVE') index.byCommand.set(key, value);
  }
  return index;
}

/**
 * Whether a later record of a command agrees with an earlier one. What may change: a transfer's
 * status may land; a transfer's record says how its reversals went (DESIGN §10); a transfer
 * reversal's record may land once, with the balance and version after its credit; a hold's
 * record (its PlaceHold outcome) may go from ACTIVE to how the hold ended, with what was captured.
 */
function sameOutcome(earlier: CommandOutcome, later: CommandOutcome): boolean {
  const mayChange = (outcome: CommandOutcome): string => {
    const fields: CommandOutcome = { ...outcome };
    if (earlier.transferStatus === 'pending' && later.transferStatus !== null) Object.assign(fields, { transferStatus: null, transferCode: null });
    if (earlier.transferStatus !== null) Object.assign(fields, { reversalId: null, reversalStatus: null, reversalCode: null });
    // A hold's record (the PlaceHold outcome) carries the hold's status: it may end once, and say what was captured.
    if (earlier.holdStatus === 'ACTIVE' && later.holdStatus !== null && later.holdStatus !== 'ACTIVE') Object.assign(fields, { holdStatus: null, capturedAmount: null });
    if (earlier.reversalStatus === 'pending' && (earlier.reversedCommandId ?? null) !== null) {
      Object.assign(fields, { reversalStatus: null, reversalCode: null, balance: null, version: null, availableBalance: null, overdraftLimit: null });
    }
    return JSON.stringify(fields);
  };
  return mayChange(earlier) === mayChange(later);
}

/** Per partition, the oldest outcome still there: older events may have outlived their outcome. */
function outcomesKeptSince(outcomes: Located<CommandOutcome>[]): Map<number, number> {
  const since = new Map<number, number>();
  for (const { partition, value } of outcomes) since.set(partition, Math.min(since.get(partition) ?? Infinity, value.processedAt));
  return since;
}

function checkAccepted(commandId: string, outcome: CommandOutcome, events: AccountEvent[], fold: AccountFold, violations: Violations): void {
  const sequences = events.map((e) => e.sequence).sort((a, b) => a - b);
  const listed = [...outcome.eventSequences].sort((a, b) => a - b);
  const accounts = [...new Set(events.map((e) => e.accountId))];
  if (accounts.length !== 1 || accounts[0] !== outcome.accountId) violations.add('outcome', `command ${commandId}: outcome is for account ${outcome.accountId}, its events are on ${accounts.join(', ')}`);
  if (listed.join(',') !== sequences.join(',')) violations.add('outcome', `command ${commandId}: outcome lists events [${listed.join(', ')}], the log has [${sequences.join(', ')}]`);
  const last = sequences[sequences.length - 1];
  if (outcome.version !== last) violations.add('outcome', `command ${commandId}: outcome says version ${outcome.version}, its last event is sequence ${last}`);
  const balance = fold.balanceAfter.get(eventIdOf(outcome.accountId, outcome.version));
  if (balance !== undefined && outcome.balance !== balance) violations.add('outcome', `command ${commandId}: outcome says balance ${outcome.balance}, the fold gives ${balance} at version ${outcome.version}`);
}

export function checkEventsAgainstOutcomes(fold: AccountFold, outcomes: Located<CommandOutcome>[], index: OutcomeIndex, options: CommandCheckOptions, violations: Violations): void {
  const byCommand = new Map<string, Located<AccountEvent>[]>();
  for (const located of fold.unique) {
    const list = byCommand.get(located.value.commandId) ?? [];
    list.push(located);
    byCommand.set(located.value.commandId, list);
  }
  const trimmed = options.outcomesTrimmed ?? new Set<number>();
  const keptSince = outcomesKeptSince(outcomes);
  for (const [commandId, located] of byCommand) {
    const events = located.map((l) => l.value);
    const outcome = index.byCommand.get(commandId);
    if (outcome === undefined) {
      // Retention may have removed the outcome of an event older than every outcome left in its partition.
      const outlived = located.some((l) => trimmed.has(l.partition) && l.value.occurredAt < (keptSince.get(l.partition) ?? Infinity));
      if (!outlived) violations.add('outcome', `command ${commandId} caused ${events.length} event(s) (${events.map((e) => `${e.payload.type} ${e.accountId}:${e.sequence}`).join(', ')}) but has no outcome`);
    } else if (outcome.status !== 'ACCEPTED') violations.add('outcome', `command ${commandId} caused ${events.length} event(s) but its outcome is ${outcome.status} ${outcome.code ?? ''}`.trimEnd());
    else checkAccepted(commandId, outcome, events, fold, violations);
  }
  for (const [commandId, outcome] of index.byCommand) {
    if (outcome.status === 'ACCEPTED' && !byCommand.has(commandId)) violations.add('outcome', `command ${commandId} is ACCEPTED (v${outcome.version}) but caused no event`);
  }
}

export interface CommandTotals {
  /** Records on the commands topic the processor has not answered yet (not a violation unless settled). */
  pending: number;
  /** The first few of them, to say which. */
  pendingExamples: string[];
}

const pendingExamplesMax = 5;

export function checkCommands(snapshot: LedgerSnapshot, index: OutcomeIndex, options: CommandCheckOptions, clock: CheckClock, violations: Violations): CommandTotals {
  const totals: CommandTotals = { pending: 0, pendingExamples: [] };
  const deadLettered = new Set(snapshot.deadLetters.map((d) => `${d.headers['dlq.source.partition']}:${d.headers['dlq.source.offset']}`));
  const processed = (l: Located<unknown>) => options.processedOffsets !== undefined && BigInt(l.offset) < (options.processedOffsets.get(l.partition) ?? 0n);
  // Unanswered: a violation once the processor committed past it, the ledger is settled or it waited too long; else pending.
  const unanswered = (l: Located<unknown>, message: string) => {
    const age = clock.now - l.timestamp;
    if (processed(l)) violations.add('unanswered-command', `${message}, though the processor committed past it`);
    else if (options.settled) violations.add('unanswered-command', `${message} in a settled ledger`);
    else if (age > clock.stuckAfterMs) violations.add('unanswered-command', `${message} after ${seconds(age)} (--stuck-after ${seconds(clock.stuckAfterMs)})`);
    else {
      totals.pending += 1;
      if (totals.pendingExamples.length < pendingExamplesMax) totals.pendingExamples.push(message);
    }
  };
  for (const located of snapshot.commands) {
    const { value: command, partition, offset } = located;
    const where = `partition ${partition} offset ${offset}`;
    const invalid = validateCommand(command);
    const dead = deadLettered.has(`${partition}:${offset}`);
    if (invalid !== null) {
      if (!dead) unanswered(located, `invalid command ${command.commandId} at ${where} (${invalid}) is not in the dead-letter topic`);
      continue;
    }
    if (dead) {
      if (!misrouted(located, options.partitions)) violations.add('dead-letter', `valid command ${command.commandId} (${command.payload.type}) at ${where} was dead-lettered`);
      continue;
    }
    if (misrouted(located, options.partitions)) {
      violations.add('dead-letter', `command ${command.commandId} at ${where} is misrouted (record key or partition is not its accountId's) and was not dead-lettered`);
      continue;
    }
    const outcome = index.byCommand.get(command.commandId);
    if (outcome === undefined) unanswered(located, `command ${command.commandId} (${command.payload.type}) at ${where} has no outcome`);
    else if (outcome.fingerprint !== command.fingerprint && !index.keyReuseRefusals.has(refusalKey(command.commandId, command.fingerprint))) {
      unanswered(located, `command ${command.commandId} at ${where} reuses its id with another fingerprint and has no IDEMPOTENCY_KEY_REUSED refusal`);
    }
  }
  for (const located of snapshot.undecodableCommands) {
    if (!deadLettered.has(`${located.partition}:${located.offset}`)) unanswered(located, `undecodable command at partition ${located.partition} offset ${located.offset} is not in the dead-letter topic`);
  }
  const sent = new Set(snapshot.commands.map((c) => c.value.commandId));
  const trimmed = options.commandsTrimmed ?? new Set<number>();
  const outlives = mayOutliveCommand(snapshot.outcomes, trimmed, (l) => sent.has(l.value.commandId));
  // An initiation's record is re-emitted, landed, in the transaction of the SettleTransfer or
  // RefundTransfer that ended its transfer: on a trimmed partition it may follow kept commands
  // though the initiation is gone (and compaction may have dropped its pending record).
  const landings = new Set(snapshot.commands.flatMap(({ value: c }) => (c.payload.type === 'SettleTransfer' || c.payload.type === 'RefundTransfer' ? [`${c.accountId}:${c.payload.transferId}`] : [])));
  const landed = ({ partition, value }: Located<CommandOutcome>) => trimmed.has(partition) && (value.transferStatus === 'completed' || value.transferStatus === 'failed') && landings.has(`${value.accountId}:${value.transferId}`);
  const reported = new Set<string>();
  for (const located of snapshot.outcomes) {
    const { commandId } = located.value;
    if (sent.has(commandId) || reported.has(commandId) || outlives(located) || landed(located)) continue;
    reported.add(commandId);
    violations.add('outcome-without-command', `outcome for command ${commandId}, which is not on the commands topic`);
  }
  return totals;
}
