// Deterministic identities. A retried request must become the same command, so ids derive from
// the Idempotency-Key (UUIDv5, RFC 4122 §4.3) and internal commands from the event that caused them.
import { createHash, randomUUID } from 'node:crypto';

/** The kafka-ledger UUIDv5 namespace (fixed forever: changing it changes every derived id). */
export const ledgerNamespace = '0b5e9f0e-6c1a-4d38-9a57-6b1f1c0d2e7a';

function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** The namespace's bytes, parsed once: every request derives two or three ids from it. */
const ledgerNamespaceBytes = uuidBytes(ledgerNamespace);

export function uuidV5(name: string, namespace: string = ledgerNamespace): string {
  const namespaceBytes = namespace === ledgerNamespace ? ledgerNamespaceBytes : uuidBytes(namespace);
  const hash = createHash('sha1').update(namespaceBytes).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const newId = (): string => randomUUID();

// Idempotency keys are scoped to the API key that sent them (DESIGN §9): two clients using the
// same Idempotency-Key never collide. keyIds are [a-z0-9] and accountIds UUIDs, so the `:`
// separators make every name unambiguous.

/** The account a POST /accounts with this Idempotency-Key, sent with API key `keyId`, creates: UUIDv5(keyId, key). */
export const accountIdForKey = (keyId: string, idempotencyKey: string): string => uuidV5(`account:${keyId}:${idempotencyKey}`);

/** The command a request on `accountId` with this Idempotency-Key, sent with API key `keyId`, becomes: UUIDv5(keyId, accountId, key). */
export const commandIdForKey = (keyId: string, accountId: string, idempotencyKey: string): string =>
  uuidV5(`command:${keyId}:${accountId}:${idempotencyKey}`);

export const transferIdForCommand = (commandId: string): string => uuidV5(`transfer:${commandId}`);

export const holdIdForCommand = (commandId: string): string => uuidV5(`hold:${commandId}`);

/** The internal command that expires a hold: caused by its HoldPlaced event. */
export const expireCommandId = (holdPlacedEventId: string): string => uuidV5(`expire:${holdPlacedEventId}`);

// Internal commands are identified by what caused them, never by a client-chosen id (DESIGN §8):
// an event id (`<accountId>:<sequence>`) is unique forever, so a client retrying a transfer
// after any time can never make a second credit collide with, or replay, the first one.

/** The internal command that credits a transfer's destination: caused by the source's TransferDebited event. */
export const creditCommandId = (debitEventId: string): string => uuidV5(`credit:${debitEventId}`);

/** The internal command that refunds a transfer the destination refused: caused by that credit command. */
export const refundCommandId = (creditCommandIdValue: string): string => uuidV5(`refund:${creditCommandIdValue}`);

/** The internal command that ends a transfer's flight at the source: caused by the destination's TransferCredited event. */
export const settleCommandId = (creditedEventId: string): string => uuidV5(`settle:${creditedEventId}`);

export const reversalIdForCommand = (commandId: string): string => uuidV5(`reversal:${commandId}`);

/** The internal command that debits a transfer reversal at the destination: caused by the source's TransferReversalRequested event. */
export const reversalDebitCommandId = (requestedEventId: string): string => uuidV5(`reversal-debit:${requestedEventId}`);

/** The internal command that credits a transfer reversal back at the source: caused by the destination's debit command. */
export const reversalCreditCommandId = (debitCommandIdValue: string): string => uuidV5(`reversal-credit:${debitCommandIdValue}`);

/** The internal command that tells the source its transfer reversal failed: caused by the refused debit command. */
export const reversalFailCommandId = (debitCommandIdValue: string): string => uuidV5(`reversal-fail:${debitCommandIdValue}`);

/** Hash of a request's meaning: the same key with another meaning is IDEMPOTENCY_KEY_REUSED. */
export function fingerprintOf(meaning: Record<string, string | number | null>): string {
  const canonical = JSON.stringify(Object.keys(meaning).sort().map((k) => [k, meaning[k]]));
  return createHash('sha256').update(canonical).digest('hex');
}
