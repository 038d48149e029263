// Reads the whole ledger from Kafka, read_committed, up to the end offsets at the start of the
// read: every command, event, account state, outcome and dead letter. The auditor's view: only
// what committed transactions made visible.
import type { Kafka } from 'kafkajs';
import { DecodeError } from '../../schemas/codec.ts';
import type { Codecs } from '../../schemas/registry.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome } from '../../schemas/types.ts';
import type { TopicNames } from '../../topics/topics.ts';
import { readToEnd } from '../../topics/read-to-end.ts';

/** Reading the whole ledger gives up after this long. */
export const ledgerReadTimeoutMs = 10 * 60_000;

export interface Located<T> {
  partition: number;
  offset: string;
  key: string;
  value: T;
  headers: Record<string, string>;
  /** The record's Kafka timestamp (ms): when a command was sent, for its age. */
  timestamp: number;
}

export interface LedgerSnapshot {
  commands: Located<Command>[];
  /** Command records that do not decode (they belong in the DLQ). */
  undecodableCommands: Located<string>[];
  events: Located<AccountEvent>[];
  states: Located<AccountState>[];
  outcomes: Located<CommandOutcome>[];
  deadLetters: Located<Buffer | null>[];
}

function headersOf(headers: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) if (value !== undefined) out[name] = String(value);
  return out;
}

export async function readLedger(kafka: Kafka, codecs: Codecs, topics: TopicNames, groupIdPrefix: string): Promise<LedgerSnapshot> {
  const snapshot: LedgerSnapshot = { commands: [], undecodableCommands: [], events: [], states: [], outcomes: [], deadLetters: [] };
  await readToEnd({
    kafka,
    groupIdPrefix,
    topics: [topics.commands, topics.events, topics.accountState, topics.outcomes, topics.commandsDlq],
    timeoutMs: ledgerReadTimeoutMs,
    onBatch: async (topic, partition, messages) => {
      for (const m of messages) {
        const base = { partition, offset: m.offset, key: m.key?.toString('utf8') ?? '', headers: headersOf(m.headers), timestamp: Number(m.timestamp) };
        if (topic === topics.commands) {
          try {
            snapshot.commands.push({ ...base, value: await codecs.commands.decode(m.value) });
          } catch (error) {
            if (!(error instanceof DecodeError)) throw error;
            snapshot.undecodableCommands.push({ ...base, value: error.message });
          }
        } else if (topic === topics.events) snapshot.events.push({ ...base, value: await codecs.events.decode(m.value) });
        else if (topic === topics.accountState) snapshot.states.push({ ...base, value: await codecs.accountState.decode(m.value) });
        else if (topic === topics.outcomes) snapshot.outcomes.push({ ...base, value: await codecs.outcomes.decode(m.value) });
        else snapshot.deadLetters.push({ ...base, value: m.value });
      }
    },
  });
  return snapshot;
}
