// A ledger without a broker: commands run one by one through the processor's own pure core
// (processBatch), and everything a transaction would write lands in a LedgerSnapshot at made-up
// partitions and offsets, follow-up commands included. Tests then break it on purpose.
import { processBatch } from '../../../processors/account/batch.ts';
import { fingerprintOf } from '../../../schemas/ids.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome, CommandPayload } from '../../../schemas/types.ts';
import type { LedgerSnapshot, Located } from '../../../scripts/ledger/read.ts';

export const t0 = 1_700_000_000_000;
export const partitions = 2;

let commandCounter = 0;

export function command(accountId: string, payload: CommandPayload, commandId = `cmd-${++commandCounter}`): Command {
  return { commandId, accountId, issuedAt: t0, fingerprint: fingerprintOf({ ...payload, accountId }), payload };
}

export const open = (accountId: string, initialBalance: number, currency = 'EUR'): Command => command(accountId, { type: 'OpenAccount', ownerName: 'Ada', currency, initialBalance, overdraftLimit: 0 });
export const deposit = (accountId: string, amount: number): Command => command(accountId, { type: 'Deposit', amount, reference: null });
export const withdraw = (accountId: string, amount: number): Command => command(accountId, { type: 'Withdraw', amount, reference: null });
export const transfer = (from: string, to: string, amount: number, transferId: string): Command => command(from, { type: 'InitiateTransfer', transferId, toAccountId: to, amount, reference: null });
export const close = (accountId: string): Command => command(accountId, { type: 'CloseAccount' });

export const partitionOf = (accountId: string): number => [...accountId].reduce((sum, c) => sum + c.charCodeAt(0), 0) % partitions;

export function emptySnapshot(): LedgerSnapshot {
  return { commands: [], undecodableCommands: [], events: [], states: [], outcomes: [], deadLetters: [] };
}

/** Appends at the next offset of that topic's partition, with that record timestamp. */
function appender<T>(list: Located<T>[]) {
  return (partition: number, key: string, value: T, timestamp: number, headers: Record<string, string> = {}): Located<T> => {
    const offset = String(list.filter((l) => l.partition === partition).length);
    const located = { partition, offset, key, value, headers, timestamp };
    list.push(located);
    return located;
  };
}

export interface LedgerOptions {
  /** Commands the processor has not taken up yet: on the commands topic, without outcome, effect or follow-up. */
  unreached?: (command: Command) => boolean;
  /** Each saga runs to its end before the next listed command (a client waiting for every answer). */
  followUpsFirst?: boolean;
}

/** Runs the commands (and the follow-ups they cause, until none are left) one transaction each, a second apart. */
export function ledgerOf(commands: Command[], options: LedgerOptions = {}): LedgerSnapshot {
  const snapshot = emptySnapshot();
  const states = new Map<string, AccountState>();
  const outcomes = new Map<string, CommandOutcome>();
  // Records kept forever: movements (M!) and posting records (P!), as the store keeps them.
  const movements = new Map<string, CommandOutcome>();
  const postings = new Map<string, CommandOutcome>();
  const lookups = {
    state: (id: string) => states.get(id),
    outcome: (id: string) => outcomes.get(id),
    initiation: (id: string) => [...outcomes.values()].find((o) => o.transferId === id && o.transferStatus !== null),
    hold: (id: string) => [...outcomes.values()].find((o) => o.holdId === id && o.holdStatus !== null),
    posting: (id: string) => postings.get(id) ?? movements.get(id),
    reversal: (id: string) => [...movements.values()].find((o) => o.reversalId === id && o.transferStatus === null && (o.reversalStatus ?? null) !== null),
  };
  const queue = [...commands];
  let now = t0;
  for (let command = queue.shift(); command !== undefined; command = queue.shift()) {
    const partition = partitionOf(command.accountId);
    const { offset } = appender(snapshot.commands)(partition, command.accountId, command, now);
    if (options.unreached?.(command) === true) continue;
    const result = processBatch([{ kind: 'command', offset, key: Buffer.from(command.accountId), value: Buffer.from('avro'), command }], lookups, (now += 1000));
    for (const event of result.events) appender(snapshot.events)(partition, event.eventId, event, now);
    for (const state of result.states.values()) {
      states.set(state.accountId, state);
      appender(snapshot.states)(partition, state.accountId, state, now);
    }
    for (const o of result.outcomes) appender(snapshot.outcomes)(partition, o.key, o.outcome, now);
    for (const o of result.newOutcomes) outcomes.set(o.commandId, o);
    for (const o of result.movements.values()) outcomes.set(o.commandId, o);
    for (const o of result.movements.values()) movements.set(o.commandId, o);
    for (const o of result.postings.values()) postings.set(o.commandId, o);
    for (const d of result.deadLetters) appender(snapshot.deadLetters)(partition, command.accountId, d.value, now, { 'dlq.reason': d.reason, 'dlq.source.partition': String(partition), 'dlq.source.offset': d.offset });
    if (options.followUpsFirst === true) queue.unshift(...result.followUps);
    else queue.push(...result.followUps);
  }
  return snapshot;
}

/** Appends a forged event to the account's partition, as a rogue producer would. */
export function appendEvent(snapshot: LedgerSnapshot, event: AccountEvent): void {
  appender(snapshot.events)(partitionOf(event.accountId), event.eventId, event, event.occurredAt);
}

export function appendOutcome(snapshot: LedgerSnapshot, outcome: CommandOutcome): void {
  appender(snapshot.outcomes)(partitionOf(outcome.accountId), outcome.commandId, outcome, outcome.processedAt);
}

export function appendState(snapshot: LedgerSnapshot, state: AccountState): void {
  appender(snapshot.states)(partitionOf(state.accountId), state.accountId, state, state.updatedAt);
}

export function appendCommand(snapshot: LedgerSnapshot, command: Command): Located<Command> {
  return appender(snapshot.commands)(partitionOf(command.accountId), command.accountId, command, command.issuedAt);
}

/** The event that debited a transfer at its source: internal command ids derive from it (schemas/ids.ts). */
export function debitOf(snapshot: LedgerSnapshot, transferId: string): AccountEvent {
  const found = snapshot.events.find((l) => l.value.payload.type === 'TransferDebited' && l.value.payload.transferId === transferId);
  if (found === undefined) throw new Error(`no debit of ${transferId}`);
  return found.value;
}

export function lastEvent(snapshot: LedgerSnapshot, accountId: string): AccountEvent {
  const events = snapshot.events.filter((l) => l.value.accountId === accountId).map((l) => l.value);
  const last = events.sort((a, b) => b.sequence - a.sequence)[0];
  if (last === undefined) throw new Error(`no events for ${accountId}`);
  return last;
}
