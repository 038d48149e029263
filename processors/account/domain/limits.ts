// Named bounds of the account domain (TIGER_STYLE: a limit on everything, with its reason).
// Lengths count Unicode code points, as JSON Schema's minLength/maxLength do at the gateway, so a
// name the gateway accepts is never refused here.

import { moneyMax } from '../../../schemas/types.ts';

export const limits = {
  /** Ids are UUIDs at the gateway (36); 255 leaves room for other producers while keeping Kafka keys small. */
  idLengthMax: 255,
  /** A fingerprint is a hash of the request's meaning (hex or base64), far shorter than this. */
  fingerprintLengthMax: 255,
  /** DESIGN §5: ownerName is 1–200 characters. */
  ownerNameLengthMin: 1,
  ownerNameLengthMax: 200,
  /** A free-text payment reference; bounded so a command stays far below the gateway's 16 KiB body limit. */
  referenceLengthMax: 500,
  /** A refund's reason is a rejection code today; the bound leaves room for a short explanation. */
  reasonLengthMax: 255,
  /** Largest balance or amount in minor units: a JS number holds it exactly and Avro (avsc) can encode it. */
  amountMax: moneyMax,
  /** Every accepted command yields exactly one event; a decide() that emits more is a bug. */
  eventsPerCommandMax: 1,
  /** DESIGN §10: a hold lives from a minute to 30 days (default 7 days at the gateway). */
  holdSecondsMin: 60,
  holdSecondsMax: 2_592_000,
  /**
   * A command's issuedAt (epoch ms) is within 1970-01-01 and 9999-12-31T23:59:59.999Z, the last
   * instant an ISO-8601 date with a four-digit year names. A hold's expiry (issuedAt plus at most
   * holdSecondsMax) then stays a safe integer that Avro carries and the 15-digit expiry index sorts.
   */
  issuedAtMin: 0,
  issuedAtMax: 253_402_300_799_999,
  /** At most one saga step (a CreditTransfer or a RefundTransfer) follows a command. */
  followUpsPerCommandMax: 1,
} as const;
