// Structural validation of a decoded command. The Avro schema fixes field types but not ranges,
// formats or lengths; a command that breaks them was never produced by a correct gateway or
// processor, so it goes to the dead-letter topic instead of decide(): a business rejection would
// dress a malformed message up as a meaningful refusal. Values are treated as untrusted at
// runtime, whatever their static types say.
import type { Command, CommandPayload } from '../../../schemas/types.ts';
import { metadataProblem } from '../../../schemas/metadata.ts';
import { limits } from './limits.ts';
import { isNonNegativeAmount, isPositiveAmount } from './money.ts';

const currencyPattern = /^[A-Z]{3}$/;

/**
 * Structural validation of a decoded command: returns null when valid, else a human-readable
 * reason. A structurally invalid command goes to the dead-letter topic, not to decide().
 */
export function validateCommand(command: Command): string | null {
  if (typeof command !== 'object' || command === null) return 'command must be an object';
  return (
    checkText('commandId', command.commandId, 1, limits.idLengthMax) ??
    checkText('accountId', command.accountId, 1, limits.idLengthMax) ??
    checkText('fingerprint', command.fingerprint, 1, limits.fingerprintLengthMax) ??
    checkIssuedAt(command.issuedAt) ??
    // The sender's key id (or null): copied onto every event and follow-up the command causes.
    (command.actor === undefined || command.actor === null ? null : checkText('actor', command.actor, 1, limits.idLengthMax)) ??
    checkPayload(command.payload) ??
    // DESIGN §10's bounds, on every command type: a map past them would be copied onto every event it causes.
    metadataProblem(command.metadata)
  );
}

function checkPayload(payload: CommandPayload): string | null {
  if (typeof payload !== 'object' || payload === null) return 'payload must be an object';
  switch (payload.type) {
    case 'OpenAccount':
      return (
        checkText('ownerName', payload.ownerName, limits.ownerNameLengthMin, limits.ownerNameLengthMax) ??
        checkCurrency(payload.currency) ??
        (isNonNegativeAmount(payload.initialBalance)
          ? null
          : `initialBalance must be a non-negative integer up to ${limits.amountMax}, got ${describe(payload.initialBalance)}`) ??
        checkLimit(payload.overdraftLimit)
      );
    case 'Deposit':
    case 'Withdraw':
      return checkAmount(payload.amount) ?? checkReference(payload.reference);
    case 'InitiateTransfer':
      return (
        checkText('transferId', payload.transferId, 1, limits.idLengthMax) ??
        checkText('toAccountId', payload.toAccountId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount) ??
        checkReference(payload.reference)
      );
    case 'CreditTransfer':
      return (
        checkText('transferId', payload.transferId, 1, limits.idLengthMax) ??
        checkText('fromAccountId', payload.fromAccountId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount) ??
        checkCurrency(payload.currency)
      );
    case 'RefundTransfer':
      return (
        checkText('transferId', payload.transferId, 1, limits.idLengthMax) ??
        checkText('toAccountId', payload.toAccountId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount) ??
        checkText('reason', payload.reason, 1, limits.reasonLengthMax)
      );
    case 'PlaceHold':
      return (
        checkText('holdId', payload.holdId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount) ??
        (Number.isSafeInteger(payload.expiresInSeconds) && payload.expiresInSeconds >= limits.holdSecondsMin && payload.expiresInSeconds <= limits.holdSecondsMax
          ? null
          : `expiresInSeconds must be an integer from ${limits.holdSecondsMin} to ${limits.holdSecondsMax}, got ${describe(payload.expiresInSeconds)}`) ??
        checkReference(payload.reference)
      );
    case 'CaptureHold':
      return checkText('holdId', payload.holdId, 1, limits.idLengthMax) ?? (payload.amount === null ? null : checkAmount(payload.amount));
    case 'VoidHold':
    case 'ExpireHold':
      return checkText('holdId', payload.holdId, 1, limits.idLengthMax);
    case 'SetOverdraftLimit':
      return checkLimit(payload.limit);
    case 'SettleTransfer':
      return (
        checkText('transferId', payload.transferId, 1, limits.idLengthMax) ??
        checkText('toAccountId', payload.toAccountId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount)
      );
    case 'CloseAccount':
      return null;
    case 'ReverseTransaction':
      return (
        checkText('reversalId', payload.reversalId, 1, limits.idLengthMax) ??
        checkText('reversedCommandId', payload.reversedCommandId, 1, limits.idLengthMax) ??
        (payload.reason === null ? null : checkText('reason', payload.reason, 0, limits.referenceLengthMax))
      );
    case 'DebitTransferReversal':
    case 'CreditTransferReversal':
    case 'FailTransferReversal':
      return (
        checkText('reversalId', payload.reversalId, 1, limits.idLengthMax) ??
        checkText('transferId', payload.transferId, 1, limits.idLengthMax) ??
        checkText('account', payload.type === 'DebitTransferReversal' ? payload.toAccountId : payload.fromAccountId, 1, limits.idLengthMax) ??
        checkAmount(payload.amount) ??
        checkReversalReason(payload)
      );
    default: {
      const unknownPayload: never = payload;
      return `unknown command type ${describe((unknownPayload as { type: unknown }).type)}`;
    }
  }
}

/** A client's reason on the way to the destination (as long as a reference); a failure's reason is a code. */
function checkReversalReason(payload: { type: string; reason?: string | null }): string | null {
  if (payload.type === 'FailTransferReversal') return checkText('reason', payload.reason, 1, limits.reasonLengthMax);
  if (payload.reason === undefined || payload.reason === null) return null;
  return checkText('reason', payload.reason, 0, limits.referenceLengthMax);
}

function checkIssuedAt(value: unknown): string | null {
  return Number.isSafeInteger(value) && (value as number) >= limits.issuedAtMin && (value as number) <= limits.issuedAtMax
    ? null
    : `issuedAt must be an integer from ${limits.issuedAtMin} to ${limits.issuedAtMax} (epoch ms), got ${describe(value)}`;
}

function checkLimit(value: unknown): string | null {
  return isNonNegativeAmount(value) ? null : `overdraft limit must be an integer from 0 to ${limits.amountMax}, got ${describe(value)}`;
}

function checkAmount(value: unknown): string | null {
  return isPositiveAmount(value) ? null : `amount must be a positive integer up to ${limits.amountMax}, got ${describe(value)}`;
}

function checkCurrency(value: unknown): string | null {
  if (typeof value === 'string' && currencyPattern.test(value)) return null;
  return `currency must be three upper-case letters (ISO 4217), got ${describe(value)}`;
}

function checkReference(value: unknown): string | null {
  if (value === null) return null;
  return checkText('reference', value, 0, limits.referenceLengthMax);
}

function checkText(field: string, value: unknown, lengthMin: number, lengthMax: number): string | null {
  if (typeof value !== 'string') return `${field} must be a string, got ${describe(value)}`;
  const length = codePointCount(value, lengthMax);
  if (length < lengthMin) return lengthMin === 1 ? `${field} must not be empty` : `${field} is too short`;
  if (length > lengthMax) return `${field} must be at most ${lengthMax} characters`;
  return null;
}

/**
 * Counts Unicode code points, as JSON Schema does. A string of more than 2 × lengthMax UTF-16
 * units surely has more than lengthMax code points, so the loop is bounded whatever the input.
 */
function codePointCount(value: string, lengthMax: number): number {
  if (value.length > 2 * lengthMax) return value.length;
  let count = 0;
  for (const _codePoint of value) count++;
  return count;
}

/** Describes a bad value in a message without echoing an arbitrarily long string. */
function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return value.length <= 16 ? JSON.stringify(value) : `a ${value.length}-unit string`;
  if (value === null) return 'null';
  return typeof value;
}
