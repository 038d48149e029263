// How a partition store's values are written to LevelDB (store.ts). Account states and command
// outcomes (idempotency records, records kept forever, posting records) are the bulk of what the
// store writes, and LevelDB rewrites every byte several times as it compacts: they are stored in
// Avro binary with the changelogs' own schemas, a tag byte first (a third of their JSON size:
// 195 against 663 bytes for a deposit's outcome, 76 against 251 for a state). Everything else
// (the checkpoint, the identity, index entries) stays JSON text, as before.
//
// Longs are exact over the whole safe range (schemas/avro-long.ts), negative balances included.
//
// A stored value that starts with neither tag is JSON: the JSON bytes of a value always start
// with `{`, `"`, a digit, `[`, `t`, `f`, `n` or `-`, never with 0x01 or 0x02. So a store written
// in the previous format still opens, its checkpoint reads, and its format number has it wiped
// and rebuilt from the changelogs (store.ts), with no manual step.
import { createHash } from 'node:crypto';
import type avro from 'avsc';
import { ledgerAvroType } from '../../schemas/avro-long.ts';
import { encodeBehindHeader } from '../../schemas/avro-buffer.ts';
import { schemaText } from '../../schemas/registry.ts';
import { outcomeMapping, stateMapping } from '../../schemas/records.ts';
import type { AccountState, CommandOutcome } from '../../schemas/types.ts';

const stateTag = 0x01;
const outcomeTag = 0x02;

const stateSchema = schemaText(stateMapping.schemaFile);
const outcomeSchema = schemaText(outcomeMapping.schemaFile);
const stateType = ledgerAvroType(JSON.parse(stateSchema));
const outcomeType = ledgerAvroType(JSON.parse(outcomeSchema));

/**
 * The stored Avro carries no writer schema: a value reads back only with the schemas it was
 * written with. So they are part of the store's format (store.ts): a release that changes
 * either schema finds every existing store of another format and rebuilds it from the
 * changelogs, instead of failing to decode its values.
 */
export const storeSchemasHash = createHash('sha256').update(stateSchema).update('\0').update(outcomeSchema).digest('hex').slice(0, 16);

function isState(value: object): value is AccountState {
  return 'ownerName' in value && 'currency' in value && 'balance' in value;
}

function isOutcome(value: object): value is CommandOutcome {
  return 'fingerprint' in value && 'eventSequences' in value && 'status' in value;
}

function tagged(tag: number, type: avro.Type, body: unknown): Buffer {
  const out = encodeBehindHeader(type, body, 1);
  out[0] = tag;
  return out;
}

export function encodeStoreValue(value: unknown): Buffer {
  if (typeof value === 'object' && value !== null) {
    if (isState(value)) return tagged(stateTag, stateType, stateMapping.toAvro(value));
    if (isOutcome(value)) return tagged(outcomeTag, outcomeType, outcomeMapping.toAvro(value));
  }
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function decodeStoreValue(buffer: Uint8Array): unknown {
  const bytes = Buffer.isBuffer(buffer) ? buffer : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  // The decoded records are plain objects with every field, as their changelog copies decode.
  if (bytes[0] === stateTag) return stateMapping.fromAvro(stateType.fromBuffer(bytes.subarray(1)));
  if (bytes[0] === outcomeTag) return outcomeMapping.fromAvro(outcomeType.fromBuffer(bytes.subarray(1)));
  return JSON.parse(bytes.toString('utf8')) as unknown;
}

/** The store's value encoding (a level-transcoder custom encoding over buffers), typed by the store's values. */
export function storeValueEncoding<V>(): { name: string; format: 'buffer'; encode(value: V): Buffer; decode(buffer: Uint8Array): V } {
  return { name: 'ledger-store-v3', format: 'buffer', encode: encodeStoreValue, decode: (buffer) => decodeStoreValue(buffer) as V };
}
