// Every event against the command that caused it: the record with its commandId on the commands
// topic. This is what makes the audit independent of the fold it checks: a processor that applies
// a Deposit of 1 as 1,000,000 writes events, outcome and changelog that agree with each other;
// only the command says otherwise.
//
// Retention trims the commands topic per partition. A partition's commands are processed in offset
// order and their events and outcomes are written to the same partition number in that order, so
// on a trimmed partition only the records BEFORE the first one that belongs to a command still on
// the topic can belong to a trimmed command; those alone are exempt. Untrimmed partitions, and the
// rest of a trimmed one, are checked in full.
import type { AccountEvent, Command, CommandPayload, CommandType, EventPayload, EventType } from '../../schemas/types.ts';
import { canonicalMetadata, metadataOf } from '../../schemas/metadata.ts';
import type { AccountFold } from './check-accounts.ts';
import type { OutcomeIndex } from './check-commands.ts';
import type { Located } from './read.ts';
import type { Violations } from './violations.ts';

type PayloadOf<U, T> = Extract<U, { type: T }>;
/** The fields a command and its event both carry (the compiler rejects a name only one has). */
type Shared<C extends CommandType, E extends EventType> = Exclude<keyof PayloadOf<CommandPayload, C> & keyof PayloadOf<EventPayload, E>, 'type'>;
type Effect<C extends CommandType> = { [E in EventType]: { event: E; same: readonly Shared<C, E>[] } }[EventType];

/**
 * What an accepted command does: exactly one event of this type, on the command's own account,
 * carrying these fields of the command unchanged. A new command type is one row here (the type
 * makes a missing row a compile error).
 */
export const effects: { [C in CommandType]: Effect<C> } = {
  OpenAccount: { event: 'AccountOpened', same: ['ownerName', 'currency', 'initialBalance', 'overdraftLimit'] },
  Deposit: { event: 'MoneyDeposited', same: ['amount', 'reference'] },
  Withdraw: { event: 'MoneyWithdrawn', same: ['amount', 'reference'] },
  InitiateTransfer: { event: 'TransferDebited', same: ['transferId', 'toAccountId', 'amount'] },
  CreditTransfer: { event: 'TransferCredited', same: ['transferId', 'fromAccountId', 'amount'] },
  RefundTransfer: { event: 'TransferRefunded', same: ['transferId', 'toAccountId', 'amount', 'reason'] },
  CloseAccount: { event: 'AccountClosed', same: [] },
  SettleTransfer: { event: 'TransferSettled', same: ['transferId', 'toAccountId', 'amount'] },
  SetOverdraftLimit: { event: 'OverdraftLimitSet', same: ['limit'] },
  PlaceHold: { event: 'HoldPlaced', same: ['holdId', 'amount', 'reference'] },
  // A capture without an amount takes the whole hold: the amount is checked against the hold in the fold.
  CaptureHold: { event: 'HoldCaptured', same: ['holdId'] },
  VoidHold: { event: 'HoldVoided', same: ['holdId'] },
  ExpireHold: { event: 'HoldExpired', same: ['holdId'] },
  // The amount and direction come from the reversed posting: checked against it in the fold (check.ts).
  ReverseTransaction: { event: 'TransactionReversed', same: ['reversedCommandId', 'reason'] },
  DebitTransferReversal: { event: 'TransferReversed', same: ['transferId', 'toAccountId', 'amount', 'reason'] },
  CreditTransferReversal: { event: 'TransferReversalCredited', same: ['transferId', 'fromAccountId', 'amount'] },
  FailTransferReversal: { event: 'TransferReversalFailed', same: ['transferId', 'amount', 'reason'] },
};

/** Commands with a second possible effect: a reversal of a transfer asks its destination first. */
export const alternativeEffects: { [C in CommandType]?: Effect<C> } = {
  ReverseTransaction: { event: 'TransferReversalRequested', same: ['reason'] },
};

/** How the event differs from what the command asked, or undefined when it is exactly that. */
export function differenceOf(event: AccountEvent, command: Command): string | undefined {
  const alternative = alternativeEffects[command.payload.type] as Effect<CommandType> | undefined;
  const primary = effects[command.payload.type] as Effect<CommandType> | undefined;
  const effect = alternative !== undefined && event.payload.type === alternative.event ? alternative : primary;
  if (effect === undefined) return `no event is known for a ${command.payload.type}`;
  if (event.payload.type !== effect.event) return `a ${command.payload.type} is applied as ${effect.event}`;
  if (event.accountId !== command.accountId) return `account ${event.accountId}, the command says ${command.accountId}`;
  for (const field of effect.same as readonly string[]) {
    const applied = (event.payload as Record<string, unknown>)[field];
    const asked = (command.payload as Record<string, unknown>)[field];
    if (applied !== asked) return `${field} ${String(applied)}, the command says ${String(asked)}`;
  }
  // What the client said about the money travels with it unchanged (DESIGN §10).
  const [applied, asked] = [canonicalMetadata(metadataOf(event)), canonicalMetadata(metadataOf(command))];
  if (applied !== asked) return `metadata ${applied.slice(0, 200)}, the command says ${asked.slice(0, 200)}`;
  return undefined;
}

/**
 * Which records of a topic may belong to a command that retention trimmed: on a trimmed
 * partition, those before the first record that `kept` says belongs to a command still there.
 */
export function mayOutliveCommand<T>(records: Located<T>[], trimmed: ReadonlySet<number>, kept: (record: Located<T>) => boolean): (record: Located<T>) => boolean {
  const firstKept = new Map<number, bigint>();
  for (const record of records) {
    if (!trimmed.has(record.partition) || !kept(record)) continue;
    const offset = BigInt(record.offset);
    const first = firstKept.get(record.partition);
    if (first === undefined || offset < first) firstKept.set(record.partition, offset);
  }
  return (record) => {
    if (!trimmed.has(record.partition)) return false;
    const first = firstKept.get(record.partition);
    return first === undefined || BigInt(record.offset) < first;
  };
}

function commandsById(commands: Located<Command>[]): Map<string, Command[]> {
  const byId = new Map<string, Command[]>();
  for (const { value } of commands) {
    const list = byId.get(value.commandId) ?? [];
    list.push(value);
    byId.set(value.commandId, list);
  }
  return byId;
}

export function checkEventsAgainstCommands(fold: AccountFold, commands: Located<Command>[], outcomes: OutcomeIndex, commandsTrimmed: ReadonlySet<number>, violations: Violations): void {
  const byId = commandsById(commands);
  // A reused id is several commands: the event must be what one of them asked.
  const matches = (event: AccountEvent) => (byId.get(event.commandId) ?? []).some((command) => differenceOf(event, command) === undefined);
  // The boundary is the first event whose command is there, matching or not: a processor that
  // misapplies every command of a trimmed partition must not exempt the whole partition.
  const exempt = mayOutliveCommand(fold.unique, commandsTrimmed, (l) => byId.has(l.value.commandId));
  const caused = new Map<string, AccountEvent[]>();
  for (const located of fold.unique) {
    const event = located.value;
    if (exempt(located)) continue;
    const candidates = byId.get(event.commandId);
    if (candidates === undefined) {
      violations.add('event-without-command', `event ${event.eventId} (${event.payload.type}) was caused by command ${event.commandId}, which is not on the commands topic`);
      continue;
    }
    caused.set(event.commandId, [...(caused.get(event.commandId) ?? []), event]);
    if (matches(event)) continue;
    // Compare with the command the processor answered (same fingerprint as its outcome), else the first.
    const fingerprint = outcomes.byCommand.get(event.commandId)?.fingerprint;
    const command = candidates.find((c) => c.fingerprint === fingerprint) ?? (candidates[0] as Command);
    violations.add('event-command-mismatch', `event ${event.eventId} (${event.payload.type}) is not what command ${command.commandId} (${command.payload.type}) asked: ${differenceOf(event, command)}`);
  }
  for (const [commandId, events] of caused) {
    if (events.length <= 1) continue;
    const command = byId.get(commandId)?.[0] as Command;
    const listed = [...events].sort((a, b) => a.sequence - b.sequence).map((e) => e.eventId);
    violations.add('event-command-mismatch', `command ${commandId} (${command.payload.type}) caused ${events.length} events (${listed.join(', ')}); it causes one ${effects[command.payload.type]?.event ?? 'event'}`);
  }
}
