// Maps the TypeScript records of types.ts to and from their Avro form. Avro unions of records are
// "wrapped" by avsc ({ 'bank.v1.Deposit': {...} }); our tagged unions carry `type` instead.
import type { AccountEvent, AccountState, Command, CommandOutcome, CommandPayload, EventPayload } from './types.ts';

export const avroNamespace = 'bank.v1';

type Tagged = { type: string };

function wrapUnion<T extends Tagged>(payload: T): Record<string, unknown> {
  const { type, ...fields } = payload;
  return { [`${avroNamespace}.${type}`]: fields };
}

function unwrapUnion<T extends Tagged>(wrapped: unknown): T {
  const entries = Object.entries(wrapped as Record<string, Record<string, unknown>>);
  const entry = entries[0];
  if (entries.length !== 1 || entry === undefined) throw new Error('a wrapped Avro union must have exactly one branch');
  const [fullName, fields] = entry;
  return { type: fullName.slice(fullName.lastIndexOf('.') + 1), ...fields } as unknown as T;
}

export interface RecordMapping<T> {
  /** File in schemas/ holding the Avro schema. */
  schemaFile: string;
  toAvro(value: T): unknown;
  fromAvro(avro: unknown): T;
}

export const commandMapping: RecordMapping<Command> = {
  schemaFile: 'command.avsc',
  toAvro: (c) => ({ ...c, payload: wrapUnion(c.payload) }),
  fromAvro: (a) => {
    const c = a as Command & { payload: unknown };
    return { ...c, payload: unwrapUnion<CommandPayload>(c.payload) };
  },
};

export const eventMapping: RecordMapping<AccountEvent> = {
  schemaFile: 'account-event.avsc',
  toAvro: (e) => ({ ...e, payload: wrapUnion(e.payload) }),
  fromAvro: (a) => {
    const e = a as AccountEvent & { payload: unknown };
    return { ...e, payload: unwrapUnion<EventPayload>(e.payload) };
  },
};

export const stateMapping: RecordMapping<AccountState> = {
  schemaFile: 'account-state.avsc',
  toAvro: (s) => s,
  fromAvro: (a) => ({ ...(a as AccountState) }),
};

export const outcomeMapping: RecordMapping<CommandOutcome> = {
  schemaFile: 'command-outcome.avsc',
  toAvro: (o) => o,
  fromAvro: (a) => ({ ...(a as CommandOutcome) }),
};
