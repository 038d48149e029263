// evolve(state, event): folds one event into the account's state. Events are facts already
// decided, so evolve never refuses; it asserts instead. A history that breaks an invariant (a gap
// in sequences, a balance that does not add up, money on a closed account) is corruption or a
// bug, and the processor must stop rather than build on it.
import { limits } from './limits.ts';
import type { AccountEvent, AccountOpened, AccountState } from '../../../schemas/types.ts';
import { assert, InvariantViolation } from './invariant.ts';
import { eventIdOf } from './event-id.ts';
import { isNonNegativeAmount, isPositiveAmount } from './money.ts';

type Direction = 'in' | 'out';
/** How an event moves outgoingInFlight: by what it says it puts in flight (+) or releases (−). */
type Flight = number;
/** Whether an event may land on a CLOSED account: only a refund, a settlement or a reversal's end at the source may (see decideRefundTransfer). */
type ClosedPolicy = 'open-only' | 'closed-allowed';

export function evolve(state: AccountState | undefined, event: AccountEvent): AccountState {
  assert(Number.isSafeInteger(event.sequence), () => `event ${event.eventId}: sequence must be a safe integer`);
  assert(Number.isSafeInteger(event.occurredAt), () => `event ${event.eventId}: occurredAt must be a safe integer`);
  // The eventId is the event's Kafka key on the compacted events topic: a wrong one would let
  // compaction drop a different event.
  assert(
    event.eventId === eventIdOf(event.accountId, event.sequence),
    () => `event ${event.eventId}: eventId must be ${eventIdOf(event.accountId, event.sequence)}`,
  );
  const payload = event.payload;
  switch (payload.type) {
    case 'AccountOpened':
      return opened(state, event, payload);
    case 'MoneyDeposited':
      return moved(existing(state, event, 'open-only'), event, 'in', payload.amount, payload.balanceAfter);
    case 'MoneyWithdrawn':
      return moved(existing(state, event, 'open-only'), event, 'out', payload.amount, payload.balanceAfter);
    case 'TransferDebited':
      assert(payload.inFlight === 0 || payload.inFlight === payload.amount, () => `event ${event.eventId}: puts ${payload.inFlight} in flight for a debit of ${payload.amount}`);
      return moved(existing(state, event, 'open-only'), event, 'out', payload.amount, payload.balanceAfter, payload.inFlight);
    case 'TransferCredited':
      return moved(existing(state, event, 'open-only'), event, 'in', payload.amount, payload.balanceAfter);
    case 'TransferRefunded':
      return moved(existing(state, event, 'closed-allowed'), event, 'in', payload.amount, payload.balanceAfter, -payload.inFlightReleased);
    case 'TransferSettled':
      return settled(existing(state, event, 'closed-allowed'), event, payload.amount, payload.inFlightReleased);
    case 'OverdraftLimitSet':
      return limitSet(existing(state, event, 'open-only'), event, payload.limit);
    case 'HoldPlaced':
      return held(existing(state, event, 'open-only'), event, payload.amount);
    case 'HoldCaptured': {
      const captured = moved(existing(state, event, 'open-only'), event, 'out', payload.amount, payload.balanceAfter);
      assert(payload.amount <= payload.released, () => `event ${event.eventId} (HoldCaptured): captured ${payload.amount} exceeds the hold's ${payload.released}`);
      return held(captured, event, -payload.released);
    }
    case 'HoldVoided':
    case 'HoldExpired':
      return held(existing(state, event, 'open-only'), event, -payload.amount);
    case 'AccountClosed':
      return closed(existing(state, event, 'open-only'), event);
    case 'TransactionReversed':
      return moved(existing(state, event, 'open-only'), event, payload.direction === 'DEBIT' ? 'out' : 'in', payload.amount, payload.balanceAfter);
    // The source keeps room for the amount coming back, and cannot close, until it lands.
    case 'TransferReversalRequested':
      return reserved(existing(state, event, 'open-only'), event, payload.amount);
    case 'TransferReversed':
      return moved(existing(state, event, 'open-only'), event, 'out', payload.amount, payload.balanceAfter);
    case 'TransferReversalCredited':
      return moved(existing(state, event, 'closed-allowed'), event, 'in', payload.amount, payload.balanceAfter, -payload.amount);
    case 'TransferReversalFailed':
      return reserved(existing(state, event, 'closed-allowed'), event, -payload.amount);
    default: {
      const unreachable: never = payload;
      throw new InvariantViolation(`unknown event type ${String((unreachable as { type: unknown }).type)}`);
    }
  }
}

function opened(state: AccountState | undefined, event: AccountEvent, payload: AccountOpened): AccountState {
  const where = (): string => `event ${event.eventId}`;
  assert(state === undefined, () => `${where()}: AccountOpened for an account that already has state`);
  assert(event.sequence === 1, () => `${where()}: AccountOpened must have sequence 1, got ${event.sequence}`);
  assert(isNonNegativeAmount(payload.initialBalance), () => `${where()}: initialBalance must be a non-negative safe integer`);
  assert(isNonNegativeAmount(payload.overdraftLimit), () => `${where()}: overdraftLimit must be a non-negative safe integer`);
  return {
    accountId: event.accountId,
    ownerName: payload.ownerName,
    currency: payload.currency,
    balance: payload.initialBalance,
    status: 'OPEN',
    version: event.sequence,
    openedAt: event.occurredAt,
    updatedAt: event.occurredAt,
    outgoingInFlight: 0,
    heldBalance: 0,
    overdraftLimit: payload.overdraftLimit,
  };
}

/** The preconditions every event after AccountOpened shares; returns the state it applies to. */
function existing(state: AccountState | undefined, event: AccountEvent, policy: ClosedPolicy): AccountState {
  const where = (): string => `event ${event.eventId} (${event.payload.type})`;
  assert(state !== undefined, () => `${where()}: account ${event.accountId} has no state`);
  assert(event.accountId === state.accountId, () => `${where()}: belongs to ${event.accountId}, not ${state.accountId}`);
  assert(
    event.sequence === state.version + 1,
    () => `${where()}: sequence ${event.sequence} does not follow version ${state.version}`,
  );
  if (policy === 'open-only') {
    assert(state.status === 'OPEN', () => `${where()}: account ${state.accountId} is closed`);
  }
  return state;
}

function moved(
  state: AccountState,
  event: AccountEvent,
  direction: Direction,
  amount: number,
  balanceAfter: number,
  flight: Flight = 0,
): AccountState {
  const where = (): string => `event ${event.eventId} (${event.payload.type})`;
  assert(isPositiveAmount(amount), () => `${where()}: amount must be a positive safe integer`);
  assert(Number.isSafeInteger(balanceAfter) && balanceAfter <= limits.amountMax, () => `${where()}: balanceAfter ${balanceAfter} must be an integer no larger than ${limits.amountMax}`);
  // A debit never takes the balance below −overdraftLimit (DESIGN §10); money coming in may leave
  // it below, where a limit lowered under the debt put it.
  if (direction === 'out') assert(balanceAfter >= -state.overdraftLimit, () => `${where()}: balanceAfter ${balanceAfter} is below −${state.overdraftLimit}, the overdraft limit`);
  // Both operands are safe integers, so a sum beyond the safe range rounds to at least 2**53 and
  // can never equal the (safe) balanceAfter: the comparison is exact.
  const expected = direction === 'in' ? state.balance + amount : state.balance - amount;
  assert(
    balanceAfter === expected,
    () => `${where()}: balanceAfter ${balanceAfter} is not ${state.balance} ${direction === 'in' ? '+' : '-'} ${amount}`,
  );
  const outgoingInFlight = inFlightAfter(state, event, flight);
  const after = { ...state, balance: balanceAfter, outgoingInFlight, version: event.sequence, updatedAt: event.occurredAt };
  // Money coming in must leave room for whatever is in flight to come home (DESIGN §8).
  if (direction === 'in') assertRoom(after, event);
  return after;
}

function inFlightAfter(state: AccountState, event: AccountEvent, flight: Flight): number {
  const outgoingInFlight = state.outgoingInFlight + flight;
  assert(outgoingInFlight >= 0, () => `event ${event.eventId} (${event.payload.type}): releases ${-flight}, only ${state.outgoingInFlight} is in flight`);
  return outgoingInFlight;
}

/** balance + outgoingInFlight + overdraftLimit stays within the money maximum (exact, as BigInt). */
function assertRoom(state: AccountState, event: AccountEvent): void {
  const sum = BigInt(state.balance) + BigInt(state.outgoingInFlight) + BigInt(state.overdraftLimit);
  assert(sum <= BigInt(limits.amountMax), () => `event ${event.eventId} (${event.payload.type}): balance ${state.balance} + in flight ${state.outgoingInFlight} + overdraft limit ${state.overdraftLimit} exceeds ${limits.amountMax}`);
}

function settled(state: AccountState, event: AccountEvent, amount: number, released: number): AccountState {
  assert(isPositiveAmount(amount), () => `event ${event.eventId} (TransferSettled): amount must be a positive safe integer`);
  assert(released === 0 || released === amount, () => `event ${event.eventId} (TransferSettled): releases ${released} of ${amount}`);
  return { ...state, outgoingInFlight: inFlightAfter(state, event, -released), version: event.sequence, updatedAt: event.occurredAt };
}

/** A transfer reversal's room at its source: outgoingInFlight moves by `delta`; the balance does not. */
function reserved(state: AccountState, event: AccountEvent, delta: number): AccountState {
  assert(isPositiveAmount(Math.abs(delta)), () => `event ${event.eventId} (${event.payload.type}): amount must be a positive safe integer`);
  const after = { ...state, outgoingInFlight: inFlightAfter(state, event, delta), version: event.sequence, updatedAt: event.occurredAt };
  if (delta > 0) assertRoom(after, event);
  return after;
}

/** Holds reserve part of the available balance: heldBalance moves by `delta`, never below 0. */
function held(state: AccountState, event: AccountEvent, delta: number): AccountState {
  const where = (): string => `event ${event.eventId} (${event.payload.type})`;
  assert(isPositiveAmount(Math.abs(delta)), () => `${where()}: amount must be a positive safe integer`);
  const heldBalance = state.heldBalance + delta;
  assert(heldBalance >= 0, () => `${where()}: releases ${-delta}, only ${state.heldBalance} is held`);
  assert(heldBalance <= limits.amountMax, () => `${where()}: held ${heldBalance} exceeds ${limits.amountMax}`);
  if (delta > 0) assert(delta - state.overdraftLimit <= state.balance - state.heldBalance, () => `${where()}: holds ${delta}, more than the available balance`);
  return { ...state, heldBalance, version: event.sequence, updatedAt: event.occurredAt };
}

function limitSet(state: AccountState, event: AccountEvent, limit: number): AccountState {
  assert(isNonNegativeAmount(limit), () => `event ${event.eventId} (OverdraftLimitSet): limit must be a non-negative safe integer`);
  const after = { ...state, overdraftLimit: limit, version: event.sequence, updatedAt: event.occurredAt };
  if (limit > state.overdraftLimit) assertRoom(after, event);
  return after;
}

function closed(state: AccountState, event: AccountEvent): AccountState {
  const where = (): string => `event ${event.eventId} (AccountClosed)`;
  assert(state.balance === 0, () => `${where()}: balance ${state.balance} must be 0 when the account closes`);
  assert(state.outgoingInFlight === 0, () => `${where()}: ${state.outgoingInFlight} still in flight when the account closes`);
  assert(state.heldBalance === 0, () => `${where()}: ${state.heldBalance} still held when the account closes`);
  return { ...state, status: 'CLOSED', version: event.sequence, updatedAt: event.occurredAt };
}
