// Money is integer minor units in a JS number; every result must stay a safe integer.
import { limits } from './limits.ts';

/** True when balance + amount would leave the safe-integer range (tested without computing the sum). */
export function exceedsSafeRange(balance: number, amount: number): boolean {
  return amount > limits.amountMax - balance;
}

export function isPositiveAmount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0 && (value as number) <= limits.amountMax;
}

export function isNonNegativeAmount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) <= limits.amountMax;
}
