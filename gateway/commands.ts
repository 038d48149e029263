// From a validated request to the Command it means. Identities are deterministic when the client
// sends an Idempotency-Key (a retry is the same command), fresh otherwise. The fingerprint hashes
// what the request asks for, so the same key with another meaning is IDEMPOTENCY_KEY_REUSED.
import { accountIdForKey, commandIdForKey, fingerprintOf, holdIdForCommand, newId, reversalIdForCommand, transferIdForCommand } from '../schemas/ids.ts';
import type { Command, CommandPayload, InitiateTransfer, Metadata, ReverseTransaction } from '../schemas/types.ts';
import { canonicalMetadata } from '../schemas/metadata.ts';

export interface OpenAccountRequest {
  ownerName: string;
  currency: string;
  initialBalance: number;
  overdraftLimit?: number;
  metadata?: Metadata;
}

export interface MoneyRequest {
  amount: number;
  reference?: string;
  metadata?: Metadata;
}

export interface TransferRequest {
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  reference?: string;
  metadata?: Metadata;
}

export interface PlaceHoldRequest {
  amount: number;
  reference?: string;
  expiresInSeconds: number;
  metadata?: Metadata;
}

import { canonicalId } from '../processors/http/edge.ts';

export { canonicalId };

/** Who sent a request (the API key's id: the command's actor) and its Idempotency-Key, if any. */
export interface RequestOrigin {
  actor: string;
  key: string | undefined;
}

type Meaning = Record<string, string | number | null>;

/** Scoped to the API key (DESIGN §9): the same Idempotency-Key from two keys is two commands. */
const commandIdFor = (accountId: string, origin: RequestOrigin): string =>
  origin.key === undefined ? newId() : commandIdForKey(origin.actor, accountId, origin.key);

/**
 * Metadata is part of a request's meaning (a retry with other metadata is IDEMPOTENCY_KEY_REUSED),
 * in key order so {a, b} and {b, a} agree. It joins the meaning only when given, so a request from
 * before metadata existed keeps its fingerprint.
 */
function build<P extends CommandPayload>(commandId: string, accountId: string, payload: P, meaning: Meaning, origin: RequestOrigin, nowMs: number, metadata: Metadata = {}): Command & { payload: P } {
  const described: Meaning = Object.keys(metadata).length === 0 ? {} : { metadata: canonicalMetadata(metadata) };
  const fingerprint = fingerprintOf({ op: payload.type, accountId, ...meaning, ...described });
  return { commandId, accountId, issuedAt: nowMs, fingerprint, payload, actor: origin.actor, metadata };
}

export function openAccountCommand(body: OpenAccountRequest, origin: RequestOrigin, nowMs: number): Command {
  const accountId = origin.key === undefined ? newId() : accountIdForKey(origin.actor, origin.key);
  const { ownerName, currency, initialBalance } = body;
  const overdraftLimit = body.overdraftLimit ?? 0;
  const payload = { type: 'OpenAccount', ownerName, currency, initialBalance, overdraftLimit } as const;
  // The limit joins the meaning only when asked for, so a retry of a request from before limits existed keeps its fingerprint.
  const meaning = { ownerName, currency, initialBalance, ...(overdraftLimit === 0 ? {} : { overdraftLimit }) };
  return build(commandIdFor(accountId, origin), accountId, payload, meaning, origin, nowMs, body.metadata);
}

export function moneyCommand(type: 'Deposit' | 'Withdraw', accountId: string, body: MoneyRequest, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  const reference = body.reference ?? null;
  return build(commandIdFor(id, origin), id, { type, amount: body.amount, reference }, { amount: body.amount, reference }, origin, nowMs, body.metadata);
}

export function overdraftLimitCommand(accountId: string, body: { limit: number }, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  return build(commandIdFor(id, origin), id, { type: 'SetOverdraftLimit', limit: body.limit } as const, { limit: body.limit }, origin, nowMs);
}

export function closeAccountCommand(accountId: string, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  return build(commandIdFor(id, origin), id, { type: 'CloseAccount' } as const, {}, origin, nowMs);
}

/** The transfer's id derives from its command's id, so a retried transfer is the same transfer. */
export function transferCommand(body: TransferRequest, origin: RequestOrigin, nowMs: number): Command & { payload: InitiateTransfer } {
  const accountId = canonicalId(body.fromAccountId);
  const toAccountId = canonicalId(body.toAccountId);
  const reference = body.reference ?? null;
  const commandId = commandIdFor(accountId, origin);
  const payload: InitiateTransfer = { type: 'InitiateTransfer', transferId: transferIdForCommand(commandId), toAccountId, amount: body.amount, reference };
  // transferId is left out of the meaning: it follows from the key.
  return build(commandId, accountId, payload, { toAccountId, amount: body.amount, reference }, origin, nowMs, body.metadata);
}

/** A hold's id derives from its command's id, so a retried authorization is the same hold. */
export function placeHoldCommand(accountId: string, body: PlaceHoldRequest, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  const commandId = commandIdFor(id, origin);
  const reference = body.reference ?? null;
  const payload = { type: 'PlaceHold', holdId: holdIdForCommand(commandId), amount: body.amount, expiresInSeconds: body.expiresInSeconds, reference } as const;
  // holdId is left out of the meaning: it follows from the key.
  return build(commandId, id, payload, { amount: body.amount, expiresInSeconds: body.expiresInSeconds, reference }, origin, nowMs, body.metadata);
}

export function captureHoldCommand(accountId: string, holdId: string, body: { amount?: number } | undefined, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  const hold = canonicalId(holdId);
  const amount = body?.amount ?? null;
  return build(commandIdFor(id, origin), id, { type: 'CaptureHold', holdId: hold, amount } as const, { holdId: hold, amount }, origin, nowMs);
}

export function voidHoldCommand(accountId: string, holdId: string, origin: RequestOrigin, nowMs: number): Command {
  const id = canonicalId(accountId);
  const hold = canonicalId(holdId);
  return build(commandIdFor(id, origin), id, { type: 'VoidHold', holdId: hold } as const, { holdId: hold }, origin, nowMs);
}

/** A reversal's id derives from its command's id, so a retried reversal is the same reversal. */
export function reversalCommand(accountId: string, body: { commandId: string; reason?: string }, origin: RequestOrigin, nowMs: number): Command & { payload: ReverseTransaction } {
  const id = canonicalId(accountId);
  const commandId = commandIdFor(id, origin);
  const reversedCommandId = canonicalId(body.commandId);
  const reason = body.reason ?? null;
  const payload: ReverseTransaction = { type: 'ReverseTransaction', reversalId: reversalIdForCommand(commandId), reversedCommandId, reason };
  // reversalId is left out of the meaning: it follows from the key.
  return build(commandId, id, payload, { reversedCommandId, reason }, origin, nowMs);
}
