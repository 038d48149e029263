// Whether the money a command moves fits the account (DESIGN §8, §10): the available balance a
// debit may take, and the room the upper bound keeps for every amount that may come home. Shared
// by decide() and the reversals' rules.
import type { AccountState } from '../../../schemas/types.ts';
import { reject, type Decision, type FollowUp } from './decision.ts';
import { limits } from './limits.ts';

/** Whether a debit of `amount` exceeds balance − heldBalance + overdraftLimit (compared without leaving the safe range). */
export function exceedsAvailable(state: AccountState, amount: number): boolean {
  return amount - state.overdraftLimit > state.balance - state.heldBalance;
}

export function insufficientFunds(state: AccountState, amount: number): Decision {
  const available = BigInt(state.balance) - BigInt(state.heldBalance) + BigInt(state.overdraftLimit);
  return reject('INSUFFICIENT_FUNDS', `available balance ${available} is less than the requested ${amount}`);
}

/**
 * Whether `amount` more would push balance + outgoingInFlight + overdraftLimit past the largest
 * safe amount. Keeping that sum bounded keeps room for every amount in flight to come home (a
 * refund always fits, DESIGN §8) and keeps the available balance and the money in flight within
 * what an Avro long written from a JS number can hold. Exact: summed as BigInt.
 */
export function exceedsRoom(state: AccountState, amount: number): boolean {
  return BigInt(state.balance) + BigInt(state.outgoingInFlight) + BigInt(state.overdraftLimit) + BigInt(amount) > BigInt(limits.amountMax);
}

export function tooLarge(state: AccountState, amount: number, followUps: FollowUp[] = []): Decision {
  const inFlight = state.outgoingInFlight === 0 ? '' : ` (and ${state.outgoingInFlight} in flight)`;
  const message = `balance ${state.balance}${inFlight} plus ${amount} would exceed the largest safe amount ${limits.amountMax}`;
  return reject('AMOUNT_TOO_LARGE', message, followUps);
}
