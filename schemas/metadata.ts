// Metadata (DESIGN §10): a small map of client strings on open, deposit, withdraw, transfer and
// hold commands, copied onto the events they cause. One home for its bounds and its one check:
// the gateway's JSON schema is built from these bounds, and the processor validates every decoded
// command with `metadataProblem` (a command written straight onto the topic by another tool never
// went through the gateway). Pure: no I/O.
import type { Metadata } from './types.ts';

export const metadataBounds = {
  /** DESIGN §10: enough for a customer's tags and references, small enough to sit on every event. */
  keysMax: 32,
  keyLengthMin: 1,
  keyLengthMax: 40,
  /**
   * Same as a payment reference. The gateway's 16 KiB body bound (DESIGN §5) still holds: 32 values
   * of 500 characters do not all fit in one request, while a command from another producer may carry
   * them (~64 KB in 4-byte characters, far below a Kafka record's 1 MB).
   */
  valueLengthMax: 500,
} as const;

/** Key characters: letters, digits, `_`, `.` and `-` (safe in a query string's `metadata.<key>`). */
export const metadataKeyCharacters = 'A-Za-z0-9_.-';
const keyPattern = new RegExp(`^[${metadataKeyCharacters}]+$`);

export const emptyMetadata: Metadata = Object.freeze({});

/** The metadata a record carries; records written before metadata existed carry none. */
export function metadataOf(record: { metadata?: Metadata | null }): Metadata {
  return record.metadata ?? emptyMetadata;
}

/** Key order does not matter: {a, b} and {b, a} are the same metadata. */
export function canonicalMetadata(metadata: Metadata): string {
  return JSON.stringify(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function sameMetadata(a: Metadata, b: Metadata): boolean {
  return canonicalMetadata(a) === canonicalMetadata(b);
}

/**
 * Why a value is not valid metadata, or null when it is. Values are untrusted at runtime whatever
 * their static type; lengths count code points, as JSON Schema's maxLength does at the gateway.
 */
export function metadataProblem(value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'metadata must be an object of strings';
  const entries = Object.entries(value);
  if (entries.length > metadataBounds.keysMax) return `metadata has ${entries.length} keys; at most ${metadataBounds.keysMax} are allowed (metadata keysMax)`;
  for (const [key, text] of entries) {
    const keyLength = codePointCount(key, metadataBounds.keyLengthMax);
    if (keyLength < metadataBounds.keyLengthMin || keyLength > metadataBounds.keyLengthMax) {
      return `metadata key ${describe(key)} must be ${metadataBounds.keyLengthMin} to ${metadataBounds.keyLengthMax} characters (metadata keyLengthMax)`;
    }
    if (!keyPattern.test(key)) return `metadata key ${describe(key)} may hold only the characters [${metadataKeyCharacters}]`;
    if (typeof text !== 'string') return `metadata value of ${describe(key)} must be a string, got ${text === null ? 'null' : typeof text}`;
    if (codePointCount(text, metadataBounds.valueLengthMax) > metadataBounds.valueLengthMax) {
      return `metadata value of ${describe(key)} must be at most ${metadataBounds.valueLengthMax} characters (metadata valueLengthMax)`;
    }
  }
  return null;
}

/** Code points, bounded: a string of more than 2 × max UTF-16 units surely has more than max. */
function codePointCount(text: string, max: number): number {
  if (text.length > 2 * max) return text.length;
  let count = 0;
  for (const _codePoint of text) count += 1;
  return count;
}

/** A key in a message without echoing an arbitrarily long string. */
function describe(key: string): string {
  return key.length <= 64 ? JSON.stringify(key) : `of ${key.length} UTF-16 units`;
}
