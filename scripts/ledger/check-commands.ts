// Commands against outcomes and events: every command that caused events has exactly one outcome,
// ACCEPTED, listing exactly those events with the version and balance they left; every ACCEPTED
// outcome caused events; every valid command the processor consumed has an outcome (a reused id
// with another meaning: an IDEMPOTENCY_KEY_REUSED refusal), and every invalid or undecodable one
// went to the dead-letter topic.
import { eventIdOf, validateCommand } from '../../processors/account/domain/index.ts';
import type { AccountEvent, CommandOutcome } from '../../schemas/types.ts';
import type { AccountFold } from './check-accounts.ts';
import type { LedgerSnapshot, Located } from './read.ts';
import type { Violations } from './violations.ts';

export interface CommandCheckOptions {
  /** The processor group's committed offset per commands partition, read before the snapshot. */
  processedOffsets?: ReadonlyMap<number, bigint>;
  /** The caller knows the ledger is quiet: a command still waiting for the processor is a violation. */
  settled?: boolean;
  /** Retention removed the start of the commands topic: outcomes may outlive their commands. */
  commandsTrimmed?: boolean;
  /** Retention removed the start of the outcomes topic: old events may have lost their outcome. */
  outcomesTrimmed?: boolean;
}

export interface OutcomeIndex {
  /** The outcome of each command, by commandId (every record under that key must agree). */
  byCommand: Map<string, CommandOutcome>;
  /** Refusals of a reused id, by their key `<commandId>#<fingerprint>`. */
  keyReuseRefusals: Map<string, CommandOutcome>;
}

export function indexOutcomes(outcomes: Located<CommandOutcome>[], violations: Violations): OutcomeIndex {
  const index: OutcomeIndex = { byCommand: new Map(), keyReuseRefusals: new Map() };
  for (const { key, value, partition, offset } of outcomes) {
    if (key.includes('#')) {
      if (key !== `${value.commandId}#${value.fingerprint}` || value.code !== 'IDEMPOTENCY_KEY_REUSED') violations.add(`outcome at partition ${partition} offset ${offset}: key ${key} is not a key-reuse refusal of ${value.commandId}`);
      index.keyReuseRefusals.set(key, value);
      continue;
    }
    if (key !== value.commandId) violations.add(`outcome at partition ${partition} offset ${offset}: key ${key} holds the outcome of ${value.commandId}`);
    const previous = index.byCommand.get(key);
    // A duplicate command re-emits its original outcome: one command, one outcome, however often sent.
    if (previous !== undefined && JSON.stringify(previous) !== JSON.stringify(value)) {
      violations.add(`command ${key}: two different outcomes (${previous.status}${previous.code ? ` ${previous.code}` : ''} v${previous.version} and ${value.status}${value.code ? ` ${value.code}` : ''} v${value.version})`);
    }
    if (previous === undefined) index.byCommand.set(key, value);
  }
  return index;
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
  if (accounts.length !== 1 || accounts[0] !== outcome.accountId) violations.add(`command ${commandId}: outcome is for account ${outcome.accountId}, its events are on ${accounts.join(', ')}`);
  if (listed.join(',') !== sequences.join(',')) violations.add(`command ${commandId}: outcome lists events [${listed.join(', ')}], the log has [${sequences.join(', ')}]`);
  const last = sequences[sequences.length - 1];
  if (outcome.version !== last) violations.add(`command ${commandId}: outcome says version ${outcome.version}, its last event is sequence ${last}`);
  const balance = fold.balanceAfter.get(eventIdOf(outcome.accountId, outcome.version));
  if (balance !== undefined && outcome.balance !== balance) violations.add(`command ${commandId}: outcome says balance ${outcome.balance}, the fold gives ${balance} at version ${outcome.version}`);
}

export function checkEventsAgainstOutcomes(fold: AccountFold, outcomes: Located<CommandOutcome>[], index: OutcomeIndex, options: CommandCheckOptions, violations: Violations): void {
  const byCommand = new Map<string, Located<AccountEvent>[]>();
  for (const located of fold.unique) {
    const list = byCommand.get(located.value.commandId) ?? [];
    list.push(located);
    byCommand.set(located.value.commandId, list);
  }
  const keptSince = options.outcomesTrimmed ? outcomesKeptSince(outcomes) : undefined;
  for (const [commandId, located] of byCommand) {
    const events = located.map((l) => l.value);
    const outcome = index.byCommand.get(commandId);
    if (outcome === undefined) {
      // Retention may have removed the outcome of an event older than every outcome left in its partition.
      const outlived = keptSince !== undefined && located.some((l) => l.value.occurredAt < (keptSince.get(l.partition) ?? Infinity));
      if (!outlived) violations.add(`command ${commandId} caused ${events.length} event(s) (${events.map((e) => `${e.payload.type} ${e.accountId}:${e.sequence}`).join(', ')}) but has no outcome`);
    } else if (outcome.status !== 'ACCEPTED') violations.add(`command ${commandId} caused ${events.length} event(s) but its outcome is ${outcome.status} ${outcome.code ?? ''}`.trimEnd());
    else checkAccepted(commandId, outcome, events, fold, violations);
  }
  for (const [commandId, outcome] of index.byCommand) {
    if (outcome.status === 'ACCEPTED' && !byCommand.has(commandId)) violations.add(`command ${commandId} is ACCEPTED (v${outcome.version}) but caused no event`);
  }
}

export interface CommandTotals {
  /** Records on the commands topic the processor has not answered yet (not a violation unless settled). */
  pending: number;
  /** The first few of them, to say which. */
  pendingExamples: string[];
}

const pendingExamplesMax = 5;

export function checkCommands(snapshot: LedgerSnapshot, index: OutcomeIndex, options: CommandCheckOptions, violations: Violations): CommandTotals {
  const totals: CommandTotals = { pending: 0, pendingExamples: [] };
  const deadLettered = new Set(snapshot.deadLetters.map((d) => `${d.headers['dlq.source.partition']}:${d.headers['dlq.source.offset']}`));
  const processed = (l: Located<unknown>) => options.processedOffsets !== undefined && BigInt(l.offset) < (options.processedOffsets.get(l.partition) ?? 0n);
  // Unanswered: a violation once the processor committed past it (or the ledger is settled), else pending.
  const unanswered = (l: Located<unknown>, message: string) => {
    if (processed(l)) violations.add(`${message}, though the processor committed past it`);
    else if (options.settled) violations.add(`${message} in a settled ledger`);
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
      violations.add(`valid command ${command.commandId} (${command.payload.type}) at ${where} was dead-lettered`);
      continue;
    }
    const outcome = index.byCommand.get(command.commandId);
    if (outcome === undefined) unanswered(located, `command ${command.commandId} (${command.payload.type}) at ${where} has no outcome`);
    else if (outcome.fingerprint !== command.fingerprint && !index.keyReuseRefusals.has(`${command.commandId}#${command.fingerprint}`)) {
      unanswered(located, `command ${command.commandId} at ${where} reuses its id with another fingerprint and has no IDEMPOTENCY_KEY_REUSED refusal`);
    }
  }
  for (const located of snapshot.undecodableCommands) {
    if (!deadLettered.has(`${located.partition}:${located.offset}`)) unanswered(located, `undecodable command at partition ${located.partition} offset ${located.offset} is not in the dead-letter topic`);
  }
  if (!options.commandsTrimmed) {
    const sent = new Set(snapshot.commands.map((c) => c.value.commandId));
    for (const outcome of [...index.byCommand.values(), ...index.keyReuseRefusals.values()]) {
      if (!sent.has(outcome.commandId)) violations.add(`outcome for command ${outcome.commandId}, which is not on the commands topic`);
    }
  }
  return totals;
}
