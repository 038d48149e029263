// JSON schemas of every route (what it accepts and what it answers), as data: fastify validates
// requests with them and openapi.ts documents the same objects, so the docs cannot drift.
// Nothing reaches Kafka before these checks pass (DESIGN §5).

import { moneyMax } from '../schemas/types.ts';
import { metadataBounds, metadataKeyCharacters } from '../schemas/metadata.ts';
import { problemSchema } from '../processors/http/errors.ts';

const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Named bounds of request fields (DESIGN §5). */
export const fieldBounds = {
  ownerNameLengthMin: 1,
  ownerNameLengthMax: 200,
  referenceLengthMax: 500,
  idempotencyKeyLengthMin: 1,
  idempotencyKeyLengthMax: 255,
  amountMax: moneyMax,
} as const;

/**
 * Characters refused in text people read (ownerName, reference): C0 and C1 controls (NUL, ESC,
 * newlines, DEL, NEL, CSI...), which corrupt logs, terminals and CSV exports; the Unicode bidi
 * controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), which reorder what is shown
 * ("Trojan Source": a name that displays as another); the line and paragraph separators; and lone
 * surrogates, which UTF-8 cannot carry (Avro would store U+FFFD). Letters of every script, marks,
 * punctuation and emoji pass. ajv compiles patterns with the `u` flag, so \p{...} is a Unicode
 * property (Cc: control characters, Cs: surrogates).
 */
const forbiddenInText = '\\p{Cc}\\p{Cs}\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u2028\\u2029';
/** Displayable text with at least one non-blank character (a name of spaces names nobody). */
const namePattern = `^(?!\\s*$)[^${forbiddenInText}]+$`;
const textPattern = `^[^${forbiddenInText}]*$`;

/**
 * ISO 4217 codes as Node's ICU knows them (the currencies in use; not the testing, "no currency"
 * or precious-metal codes XTS, XXX, XAU...). Three upper-case letters alone let "ABC" through.
 */
export const currencyCodes: readonly string[] = Object.freeze(Intl.supportedValuesOf('currency'));

const uuid = { type: 'string', pattern: uuidPattern, description: 'a UUID' } as const;
const amount = {
  type: 'integer',
  minimum: 1,
  maximum: fieldBounds.amountMax,
  description: 'minor units (cents), a positive safe integer',
} as const;
const balance = { type: 'integer', minimum: 0, maximum: fieldBounds.amountMax } as const;
/** A balance after debits: down to −overdraftLimit (DESIGN §10). */
const signedBalance = { type: 'integer', minimum: -fieldBounds.amountMax, maximum: fieldBounds.amountMax } as const;
/** Null only on outcomes written before available balances were recorded. */
const availableBalance = { type: ['integer', 'null'], minimum: -fieldBounds.amountMax, maximum: 2 * fieldBounds.amountMax, description: 'balance − heldBalance + overdraftLimit' } as const;
const overdraftLimit = { type: 'integer', minimum: 0, maximum: fieldBounds.amountMax, description: 'how far below 0 debits may take the balance, minor units' } as const;
const reference = { type: 'string', maxLength: fieldBounds.referenceLengthMax, pattern: textPattern, description: 'free text, no control or bidi characters' } as const;
const version = { type: 'integer', minimum: 1, description: "the account's last event sequence" } as const;
/**
 * DESIGN §10, with the bounds of schemas/metadata.ts (the processor checks the same). Values may
 * hold any text but lone surrogates, which UTF-8 (so Avro) cannot carry: it would store U+FFFD,
 * not what was sent.
 */
export const metadata = {
  type: 'object',
  maxProperties: metadataBounds.keysMax,
  propertyNames: { minLength: metadataBounds.keyLengthMin, maxLength: metadataBounds.keyLengthMax, pattern: `^[${metadataKeyCharacters}]+$` },
  additionalProperties: { type: 'string', maxLength: metadataBounds.valueLengthMax, pattern: '^[^\\p{Cs}]*$' },
  description: `string → string: at most ${metadataBounds.keysMax} keys of ${metadataBounds.keyLengthMin}–${metadataBounds.keyLengthMax} characters [${metadataKeyCharacters}], values of at most ${metadataBounds.valueLengthMax} characters; carried by the events the command causes and shown on account views and history entries`,
} as const;

export const idempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      minLength: fieldBounds.idempotencyKeyLengthMin,
      maxLength: fieldBounds.idempotencyKeyLengthMax,
      pattern: '^[\\x20-\\x7E]+$',
      description: 'makes retries safe: the same key on the same account is the same command',
    },
  },
} as const;

export const accountParams = {
  type: 'object',
  required: ['id'],
  additionalProperties: false,
  properties: { id: uuid },
} as const;

export const commandParams = {
  type: 'object',
  required: ['commandId'],
  additionalProperties: false,
  properties: { commandId: uuid },
} as const;

export const openAccountBody = {
  type: 'object',
  required: ['ownerName', 'currency'],
  additionalProperties: false,
  properties: {
    ownerName: {
      type: 'string', minLength: fieldBounds.ownerNameLengthMin, maxLength: fieldBounds.ownerNameLengthMax, pattern: namePattern,
      description: 'at least one non-blank character; no control or bidi characters',
    },
    currency: { type: 'string', enum: currencyCodes, description: 'an ISO 4217 code in use (the list of Node\'s ICU)' },
    initialBalance: { ...balance, default: 0 },
    overdraftLimit: { ...overdraftLimit, default: 0 },
    metadata,
  },
} as const;

export const overdraftLimitBody = {
  type: 'object',
  required: ['limit'],
  additionalProperties: false,
  properties: { limit: overdraftLimit },
} as const;

export const overdraftLimitSetSchema = {
  type: 'object',
  properties: { accountId: uuid, overdraftLimit, balance: signedBalance, availableBalance, version, commandId: uuid },
} as const;

export const moneyBody = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: { amount, reference, metadata },
} as const;

export const transferBody = {
  type: 'object',
  required: ['fromAccountId', 'toAccountId', 'amount'],
  additionalProperties: false,
  properties: { fromAccountId: uuid, toAccountId: uuid, amount, reference, metadata },
} as const;

/** POST close takes no body; an empty body or `{}` is accepted (see the route's preValidation). */
export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

export { problemSchema };

export const transferFailedSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail', 'transferId'],
  description: 'a transfer the destination refused (and the source refunded); `status` is "failed", the HTTP status is the code\'s',
  properties: { ...problemSchema.properties, status: { const: 'failed' }, transferId: uuid },
} as const;

export const accountOpenedSchema = {
  type: 'object',
  properties: { accountId: uuid, ownerName: { type: 'string' }, currency: { type: 'string' }, balance, overdraftLimit, availableBalance, version, commandId: uuid },
} as const;

export const balanceChangedSchema = {
  type: 'object',
  properties: { accountId: uuid, balance: signedBalance, version, commandId: uuid },
} as const;

export const accountClosedSchema = {
  type: 'object',
  properties: { accountId: uuid, status: { const: 'CLOSED' }, version, commandId: uuid },
} as const;

export const transferCompletedSchema = {
  type: 'object',
  properties: { transferId: uuid, status: { const: 'completed' }, commandId: uuid },
} as const;

export const pendingSchema = {
  type: 'object',
  description: 'no outcome within COMMAND_TIMEOUT_MS; poll the Location header',
  properties: { commandId: uuid, status: { const: 'pending' }, transferId: uuid, holdId: uuid },
} as const;

export const outcomeSchema = {
  type: 'object',
  properties: {
    commandId: uuid,
    accountId: uuid,
    status: { enum: ['ACCEPTED', 'REJECTED'] },
    code: { type: ['string', 'null'] },
    message: { type: ['string', 'null'] },
    fingerprint: { type: 'string' },
    version: { type: 'integer' },
    balance: { type: ['integer', 'null'] },
    transferId: { type: ['string', 'null'] },
    eventSequences: { type: 'array', items: { type: 'integer' } },
    processedAt: { type: 'integer', description: 'epoch milliseconds' },
    transfer: {
      type: 'object',
      description: 'for a transfer: its progress as far as this gateway has seen it',
      properties: { transferId: uuid, status: { enum: ['pending', 'completed', 'failed'] }, code: { type: 'string' } },
    },
  },
} as const;

/** DESIGN §10: a hold lives 60 s to 30 days; 7 days when not said. */
export const holdBounds = { expiresInSecondsMin: 60, expiresInSecondsMax: 2_592_000, expiresInSecondsDefault: 604_800 } as const;

export const holdParams = {
  type: 'object',
  required: ['id', 'holdId'],
  additionalProperties: false,
  properties: { id: uuid, holdId: uuid },
} as const;

export const placeHoldBody = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: {
    amount,
    reference,
    expiresInSeconds: { type: 'integer', minimum: holdBounds.expiresInSecondsMin, maximum: holdBounds.expiresInSecondsMax, default: holdBounds.expiresInSecondsDefault },
    metadata,
  },
} as const;

export const captureHoldBody = {
  type: 'object',
  additionalProperties: false,
  properties: { amount: { ...amount, description: 'at most the hold; all of it when left out (the rest is released)' } },
} as const;

const holdAnswer = { holdId: uuid, accountId: uuid, balance: signedBalance, availableBalance, version, commandId: uuid } as const;

export const holdPlacedSchema = {
  type: 'object',
  properties: { ...holdAnswer, amount, status: { const: 'ACTIVE' }, expiresAt: { type: 'string', format: 'date-time' } },
} as const;

export const holdCapturedSchema = {
  type: 'object',
  properties: { ...holdAnswer, status: { const: 'CAPTURED' }, capturedAmount: amount },
} as const;

export const holdVoidedSchema = {
  type: 'object',
  properties: { ...holdAnswer, status: { const: 'VOIDED' } },
} as const;

