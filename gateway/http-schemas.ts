// JSON schemas of every route (what it accepts and what it answers), as data: fastify validates
// requests with them and openapi.ts documents the same objects, so the docs cannot drift.
// Nothing reaches Kafka before these checks pass (DESIGN §5).

import { moneyMax } from '../schemas/types.ts';

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

const uuid = { type: 'string', pattern: uuidPattern, description: 'a UUID' } as const;
const amount = {
  type: 'integer',
  minimum: 1,
  maximum: fieldBounds.amountMax,
  description: 'minor units (cents), a positive safe integer',
} as const;
const balance = { type: 'integer', minimum: 0, maximum: fieldBounds.amountMax } as const;
const reference = { type: 'string', maxLength: fieldBounds.referenceLengthMax } as const;
const version = { type: 'integer', minimum: 1, description: "the account's last event sequence" } as const;

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
    // At least one non-blank character: a name of spaces names nobody.
    ownerName: { type: 'string', minLength: fieldBounds.ownerNameLengthMin, maxLength: fieldBounds.ownerNameLengthMax, pattern: '\\S' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' },
    initialBalance: { ...balance, default: 0 },
  },
} as const;

export const moneyBody = {
  type: 'object',
  required: ['amount'],
  additionalProperties: false,
  properties: { amount, reference },
} as const;

export const transferBody = {
  type: 'object',
  required: ['fromAccountId', 'toAccountId', 'amount'],
  additionalProperties: false,
  properties: { fromAccountId: uuid, toAccountId: uuid, amount, reference },
} as const;

/** POST close takes no body; an empty body or `{}` is accepted (see the route's preValidation). */
export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

export const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    code: { type: 'string' },
    detail: { type: 'string' },
    commandId: { type: 'string' },
  },
} as const;

export const transferFailedSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'code', 'detail', 'transferId'],
  description: 'a transfer the destination refused (and the source refunded); `status` is "failed", the HTTP status is the code\'s',
  properties: { ...problemSchema.properties, status: { const: 'failed' }, transferId: uuid },
} as const;

export const accountOpenedSchema = {
  type: 'object',
  properties: { accountId: uuid, ownerName: { type: 'string' }, currency: { type: 'string' }, balance, version, commandId: uuid },
} as const;

export const balanceChangedSchema = {
  type: 'object',
  properties: { accountId: uuid, balance, version, commandId: uuid },
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
  properties: { commandId: uuid, status: { const: 'pending' }, transferId: uuid },
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
