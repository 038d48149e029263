import { describe, expect, it } from 'vitest';
import type { CommandPayload, CommandType, EventPayload, RejectionCode } from '../../../schemas/types.ts';
import { decide, InvariantViolation, type FollowUp, type HoldView, type PostingView } from '../../../processors/account/domain/index.ts';
import { A, B, C, H, MAX, P, R, T, cmd, commandFor, ev, given, histories as h, postingOf, t0, transferPosting, when } from './given.ts';

type Then = { events: EventPayload[] } | { code: RejectionCode };
type Case = { name: string; given: EventPayload[]; when: CommandPayload; then: Then; followUps?: FollowUp[]; hold?: HoldView; now?: number; posting?: PostingView };

/** The hold the cases act on: 300 of account A, placed with the default expiry (t0 + 1 hour). */
const activeHold = (fields: Partial<HoldView> = {}): HoldView => ({ holdId: H, accountId: A, amount: 300, status: 'ACTIVE', expiresAt: t0 + 3_600_000, ...fields });
const heldOf500 = [ev.opened(500), ev.holdPlaced(300)];

const refundTo = (source: string, amount: number, reason: RejectionCode): FollowUp[] => [
  { accountId: source, payload: { type: 'RefundTransfer', transferId: T, toAccountId: A, amount, reason } },
];

const settleAt = (source: string, amount: number): FollowUp[] => [
  { accountId: source, payload: { type: 'SettleTransfer', transferId: T, toAccountId: A, amount } },
];

/** A transfer T of 200 from A to B, completed, whose reversal A asked of B. */
const reversalPending = [ev.opened(200), ev.debited(B, 200, 0), ev.settled(B, 200), ev.reversalRequested(B, 200)];
const deposit200 = postingOf('MoneyDeposited', 200);
const debitReversalOf200: FollowUp = { accountId: B, payload: { type: 'DebitTransferReversal', reversalId: R, transferId: T, toAccountId: A, amount: 200, reason: null } };
const creditReversalAt = (source: string, amount: number): FollowUp => ({ accountId: source, payload: { type: 'CreditTransferReversal', reversalId: R, transferId: T, fromAccountId: A, amount } });
const failReversalAt = (source: string, amount: number, reason: RejectionCode): FollowUp => ({ accountId: source, payload: { type: 'FailTransferReversal', reversalId: R, transferId: T, fromAccountId: A, amount, reason } });

const cases: Record<CommandType, Case[]> = {
  OpenAccount: [
    { name: 'opens a new account', given: h.none, when: cmd.open(250, 'EUR'), then: { events: [ev.opened(250, 'EUR')] } },
    { name: 'opens with a zero initial balance', given: h.none, when: cmd.open(0), then: { events: [ev.opened(0)] } },
    { name: 'opens with the largest safe balance', given: h.none, when: cmd.open(MAX), then: { events: [ev.opened(MAX)] } },
    { name: 'refuses an id already open', given: h.open500, when: cmd.open(0), then: { code: 'ACCOUNT_ALREADY_EXISTS' } },
    { name: 'refuses an id already closed', given: h.closedEmpty, when: cmd.open(0), then: { code: 'ACCOUNT_ALREADY_EXISTS' } },
  ],
  Deposit: [
    { name: 'adds to the balance', given: h.open500, when: cmd.deposit(200, 'rent'), then: { events: [ev.deposited(200, 700, 'rent')] } },
    { name: 'fills up to exactly the money maximum', given: h.nearMax, when: cmd.deposit(10), then: { events: [ev.deposited(10, MAX)] } },
    { name: 'takes the money maximum into an empty account', given: h.openEmpty, when: cmd.deposit(MAX), then: { events: [ev.deposited(MAX, MAX)] } },
    { name: 'refuses a missing account', given: h.none, when: cmd.deposit(1), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.deposit(1), then: { code: 'ACCOUNT_CLOSED' } },
    { name: 'refuses one unit past the money maximum', given: h.nearMax, when: cmd.deposit(11), then: { code: 'AMOUNT_TOO_LARGE' } },
    { name: 'refuses any deposit at the money maximum', given: h.atMax, when: cmd.deposit(1), then: { code: 'AMOUNT_TOO_LARGE' } },
    {
      name: 'counts money in flight toward the maximum, so its refund always fits',
      given: [ev.opened(MAX), ev.debited(B, 10, MAX - 10)],
      when: cmd.deposit(1),
      then: { code: 'AMOUNT_TOO_LARGE' },
    },
    {
      name: 'takes deposits again once the transfer settled',
      given: [ev.opened(MAX), ev.debited(B, 10, MAX - 10), ev.settled(B, 10)],
      when: cmd.deposit(10),
      then: { events: [ev.deposited(10, MAX)] },
    },
  ],
  Withdraw: [
    { name: 'takes from the balance', given: h.open500, when: cmd.withdraw(200, 'atm'), then: { events: [ev.withdrawn(200, 300, 'atm')] } },
    { name: 'takes exactly the balance', given: h.open500, when: cmd.withdraw(500), then: { events: [ev.withdrawn(500, 0)] } },
    { name: 'refuses a missing account', given: h.none, when: cmd.withdraw(1), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.withdraw(1), then: { code: 'ACCOUNT_CLOSED' } },
    { name: 'refuses one unit more than the balance', given: h.open500, when: cmd.withdraw(501), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'refuses anything from an empty account', given: h.openEmpty, when: cmd.withdraw(1), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'goes down to exactly minus the overdraft limit', given: [ev.opened(100, 'USD', 50)], when: cmd.withdraw(150), then: { events: [ev.withdrawn(150, -50)] } },
    { name: 'refuses one unit past the overdraft limit', given: [ev.opened(100, 'USD', 50)], when: cmd.withdraw(151), then: { code: 'INSUFFICIENT_FUNDS' } },
    {
      name: 'refuses any debit once the limit was lowered below the debt',
      given: [ev.opened(0, 'USD', 100), ev.withdrawn(80, -80), ev.limitSet(50)],
      when: cmd.withdraw(1),
      then: { code: 'INSUFFICIENT_FUNDS' },
    },
    { name: 'uses the largest overdraft on the largest balance without leaving the safe range', given: [ev.opened(MAX, 'USD', MAX)], when: cmd.withdraw(MAX), then: { events: [ev.withdrawn(MAX, 0)] } },
  ],
  InitiateTransfer: [
    {
      name: 'debits the source and sends a credit in its currency to the destination',
      given: [ev.opened(500, 'EUR')],
      when: cmd.transfer(B, 200),
      then: { events: [ev.debited(B, 200, 300)] },
      followUps: [
        { accountId: B, payload: { type: 'CreditTransfer', transferId: T, fromAccountId: A, amount: 200, currency: 'EUR' } },
      ],
    },
    {
      name: 'transfers exactly the balance',
      given: h.open500,
      when: cmd.transfer(B, 500),
      then: { events: [ev.debited(B, 500, 0)] },
      followUps: [
        { accountId: B, payload: { type: 'CreditTransfer', transferId: T, fromAccountId: A, amount: 500, currency: 'USD' } },
      ],
    },
    { name: 'refuses a transfer to itself', given: h.open500, when: cmd.transfer(A, 1), then: { code: 'SAME_ACCOUNT_TRANSFER' } },
    { name: 'refuses a missing source', given: h.none, when: cmd.transfer(B, 1), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed source', given: h.closedEmpty, when: cmd.transfer(B, 1), then: { code: 'ACCOUNT_CLOSED' } },
    { name: 'refuses one unit more than the balance', given: h.open500, when: cmd.transfer(B, 501), then: { code: 'INSUFFICIENT_FUNDS' } },
    {
      name: 'transfers into the overdraft, down to exactly minus the limit',
      given: [ev.opened(0, 'EUR', 70)],
      when: cmd.transfer(B, 70),
      then: { events: [ev.debited(B, 70, -70)] },
      followUps: [{ accountId: B, payload: { type: 'CreditTransfer', transferId: T, fromAccountId: A, amount: 70, currency: 'EUR' } }],
    },
  ],
  CreditTransfer: [
    { name: 'credits the destination and settles the source', given: h.open500, when: cmd.credit(B, 200), then: { events: [ev.credited(B, 200, 700)] }, followUps: settleAt(B, 200) },
    { name: 'credits up to exactly the money maximum', given: h.nearMax, when: cmd.credit(B, 10), then: { events: [ev.credited(B, 10, MAX)] }, followUps: settleAt(B, 10) },
    {
      name: "refuses a credit that fits the balance but not the destination's own money in flight, and refunds",
      given: [ev.opened(MAX), ev.debited(C, 10, MAX - 10)],
      when: cmd.credit(B, 1),
      then: { code: 'AMOUNT_TOO_LARGE' },
      followUps: refundTo(B, 1, 'AMOUNT_TOO_LARGE'),
    },
    {
      name: 'refuses a missing destination and refunds the source',
      given: h.none,
      when: cmd.credit(B, 200),
      then: { code: 'ACCOUNT_NOT_FOUND' },
      followUps: refundTo(B, 200, 'ACCOUNT_NOT_FOUND'),
    },
    {
      name: 'refuses a closed destination and refunds the source',
      given: h.closedEmpty,
      when: cmd.credit(B, 200),
      then: { code: 'ACCOUNT_CLOSED' },
      followUps: refundTo(B, 200, 'ACCOUNT_CLOSED'),
    },
    {
      name: 'refuses another currency and refunds the source',
      given: h.open500,
      when: cmd.credit(C, 200, 'EUR'),
      then: { code: 'CURRENCY_MISMATCH' },
      followUps: refundTo(C, 200, 'CURRENCY_MISMATCH'),
    },
    {
      name: 'refuses one unit past the money maximum and refunds the source',
      given: h.nearMax,
      when: cmd.credit(B, 11),
      then: { code: 'AMOUNT_TOO_LARGE' },
      followUps: refundTo(B, 11, 'AMOUNT_TOO_LARGE'),
    },
  ],
  RefundTransfer: [
    {
      name: 'returns the money to the source',
      given: [ev.opened(500), ev.debited(B, 200, 300)],
      when: cmd.refund(B, 200, 'CURRENCY_MISMATCH'),
      then: { events: [ev.refunded(B, 200, 500, 'CURRENCY_MISMATCH')] },
    },
    {
      name: 'refunds up to exactly the money maximum: deposits while in flight could not take its room',
      given: [ev.opened(MAX), ev.debited(B, 10, MAX - 10)],
      when: cmd.refund(B, 10),
      then: { events: [ev.refunded(B, 10, MAX)] },
    },
    { name: 'refuses a missing source, with nowhere to send the money', given: h.none, when: cmd.refund(B, 1), then: { code: 'ACCOUNT_NOT_FOUND' } },
  ],
  SetOverdraftLimit: [
    { name: 'sets a limit', given: h.open500, when: cmd.setLimit(1000), then: { events: [ev.limitSet(1000)] } },
    { name: 'sets a limit below the current debt (it blocks further debits)', given: [ev.opened(0, 'USD', 100), ev.withdrawn(80, -80)], when: cmd.setLimit(0), then: { events: [ev.limitSet(0)] } },
    { name: 'refuses a missing account', given: h.none, when: cmd.setLimit(1), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.setLimit(1), then: { code: 'ACCOUNT_CLOSED' } },
  ],
  PlaceHold: [
    { name: 'holds part of the available balance', given: h.open500, when: cmd.hold(300), then: { events: [ev.holdPlaced(300)] } },
    { name: 'holds exactly the available balance, overdraft included', given: [ev.opened(500, 'USD', 100)], when: cmd.hold(600), then: { events: [ev.holdPlaced(600)] } },
    { name: 'refuses one unit more than the available balance', given: [ev.opened(500, 'USD', 100)], when: cmd.hold(601), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'counts earlier holds as unavailable', given: heldOf500, when: cmd.hold(201), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'refuses a missing account', given: h.none, when: cmd.hold(1), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.hold(1), then: { code: 'ACCOUNT_CLOSED' } },
  ],
  CaptureHold: [
    { name: 'captures the whole hold by default', given: heldOf500, when: cmd.capture(), hold: activeHold(), then: { events: [ev.holdCaptured(300, 200, 300)] } },
    { name: 'captures exactly the hold', given: heldOf500, when: cmd.capture(300), hold: activeHold(), then: { events: [ev.holdCaptured(300, 200, 300)] } },
    { name: 'captures part and releases the rest', given: heldOf500, when: cmd.capture(120), hold: activeHold(), then: { events: [ev.holdCaptured(120, 380, 300)] } },
    { name: 'refuses one unit more than the hold', given: heldOf500, when: cmd.capture(301), hold: activeHold(), then: { code: 'AMOUNT_EXCEEDS_HOLD' } },
    { name: 'refuses an unknown hold', given: heldOf500, when: cmd.capture(), then: { code: 'HOLD_NOT_FOUND' } },
    { name: "refuses another account's hold", given: heldOf500, when: cmd.capture(), hold: activeHold({ accountId: B }), then: { code: 'HOLD_NOT_FOUND' } },
    { name: 'refuses a voided hold', given: heldOf500, when: cmd.capture(), hold: activeHold({ status: 'VOIDED' }), then: { code: 'HOLD_NOT_ACTIVE' } },
    { name: 'refuses a hold past its expiry, even before the processor expired it', given: heldOf500, when: cmd.capture(), hold: activeHold(), now: t0 + 3_600_000, then: { code: 'HOLD_NOT_ACTIVE' } },
    {
      name: 'refuses a capture that would pass an overdraft limit lowered since the hold',
      given: [ev.opened(0, 'USD', 300), ev.holdPlaced(300), ev.limitSet(100)],
      when: cmd.capture(),
      hold: activeHold(),
      then: { code: 'INSUFFICIENT_FUNDS' },
    },
    { name: 'refuses a missing account', given: h.none, when: cmd.capture(), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.capture(), then: { code: 'ACCOUNT_CLOSED' } },
  ],
  VoidHold: [
    { name: 'releases the whole hold', given: heldOf500, when: cmd.voidHold(), hold: activeHold(), then: { events: [ev.holdVoided(300)] } },
    { name: 'refuses an unknown hold', given: heldOf500, when: cmd.voidHold(), then: { code: 'HOLD_NOT_FOUND' } },
    { name: 'refuses a captured hold', given: heldOf500, when: cmd.voidHold(), hold: activeHold({ status: 'CAPTURED' }), then: { code: 'HOLD_NOT_ACTIVE' } },
    { name: 'refuses a missing account', given: h.none, when: cmd.voidHold(), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.voidHold(), then: { code: 'ACCOUNT_CLOSED' } },
  ],
  ExpireHold: [
    { name: 'expires a hold at exactly its expiresAt', given: heldOf500, when: cmd.expire(), hold: activeHold(), now: t0 + 3_600_000, then: { events: [ev.holdExpired(300)] } },
    { name: 'does nothing one millisecond early', given: heldOf500, when: cmd.expire(), hold: activeHold(), now: t0 + 3_599_999, then: { code: 'HOLD_NOT_ACTIVE' } },
    { name: 'does nothing for a hold captured meanwhile', given: heldOf500, when: cmd.expire(), hold: activeHold({ status: 'CAPTURED' }), now: t0 + 4_000_000, then: { code: 'HOLD_NOT_ACTIVE' } },
    { name: 'refuses an unknown hold (forged input)', given: heldOf500, when: cmd.expire(), now: t0 + 4_000_000, then: { code: 'HOLD_NOT_FOUND' } },
    { name: 'refuses a missing account', given: h.none, when: cmd.expire(), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, when: cmd.expire(), then: { code: 'ACCOUNT_CLOSED' } },
  ],
  SettleTransfer: [
    { name: 'ends the flight of a credited transfer', given: [ev.opened(500), ev.debited(B, 200, 300)], when: cmd.settle(B, 200), then: { events: [ev.settled(B, 200)] } },
    { name: 'is refused only for a missing account (forged input)', given: h.none, when: cmd.settle(B, 1), then: { code: 'ACCOUNT_NOT_FOUND' } },
  ],
  CloseAccount: [
    { name: 'closes an empty account', given: h.openEmpty, when: cmd.close(), then: { events: [ev.closed()] } },
    { name: 'closes an account emptied by a withdrawal', given: [ev.opened(500), ev.withdrawn(500, 0)], when: cmd.close(), then: { events: [ev.closed()] } },
    { name: 'refuses a missing account', given: h.none, when: cmd.close(), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses an account already closed', given: h.closedEmpty, when: cmd.close(), then: { code: 'ACCOUNT_CLOSED' } },
    { name: 'refuses an account holding money', given: h.open500, when: cmd.close(), then: { code: 'ACCOUNT_NOT_EMPTY' } },
    { name: 'refuses an account holding one unit', given: [ev.opened(1)], when: cmd.close(), then: { code: 'ACCOUNT_NOT_EMPTY' } },
    { name: 'refuses an account with an active hold', given: [ev.opened(0, 'USD', 50), ev.holdPlaced(50)], when: cmd.close(), then: { code: 'ACCOUNT_NOT_EMPTY' } },
    { name: 'closes once the hold is voided', given: [ev.opened(0, 'USD', 50), ev.holdPlaced(50), ev.holdVoided(50)], when: cmd.close(), then: { events: [ev.closed()] } },
    { name: 'refuses an account in debt', given: [ev.opened(0, 'USD', 10), ev.withdrawn(1, -1)], when: cmd.close(), then: { code: 'ACCOUNT_NOT_EMPTY' } },
    {
      name: 'refuses an empty account whose transfer is in flight (its refund must find it open)',
      given: [ev.opened(500), ev.debited(B, 500, 0)],
      when: cmd.close(),
      then: { code: 'ACCOUNT_NOT_EMPTY' },
    },
    { name: 'closes once the transfer settled', given: [ev.opened(500), ev.debited(B, 500, 0), ev.settled(B, 500)], when: cmd.close(), then: { events: [ev.closed()] } },
    { name: 'refuses an empty account whose transfer reversal is pending (its credit must find it open)', given: reversalPending, when: cmd.close(), then: { code: 'ACCOUNT_NOT_EMPTY' } },
    { name: 'closes once the transfer reversal failed', given: [...reversalPending, ev.reversalFailed(B, 200, 'INSUFFICIENT_FUNDS')], when: cmd.close(), then: { events: [ev.closed()] } },
  ],
  ReverseTransaction: [
    { name: 'takes a deposit back (DEBIT)', given: [ev.opened(500), ev.deposited(200, 700)], posting: deposit200, when: cmd.reverse(P, 'duplicate'), then: { events: [ev.reversed(P, 200, 'DEBIT', 500, 'duplicate')] } },
    { name: 'takes a deposit back down to exactly 0 available', given: [ev.opened(0), ev.deposited(200, 200)], posting: deposit200, when: cmd.reverse(P), then: { events: [ev.reversed(P, 200, 'DEBIT', 0)] } },
    { name: 'refuses a deposit reversal one unit past the available balance', given: [ev.opened(0), ev.deposited(200, 200), ev.withdrawn(1, 199)], posting: deposit200, when: cmd.reverse(P), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'refuses a deposit reversal that would take held money', given: [ev.opened(0), ev.deposited(200, 200), ev.holdPlaced(1)], posting: deposit200, when: cmd.reverse(P), then: { code: 'INSUFFICIENT_FUNDS' } },
    { name: 'takes a deposit back into the overdraft, down to exactly −limit', given: [ev.opened(0, 'USD', 50), ev.deposited(200, 200), ev.withdrawn(50, 150)], posting: deposit200, when: cmd.reverse(P), then: { events: [ev.reversed(P, 200, 'DEBIT', -50)] } },
    { name: 'gives a withdrawal back (CREDIT)', given: [ev.opened(500), ev.withdrawn(200, 300)], posting: postingOf('MoneyWithdrawn', 200), when: cmd.reverse(P), then: { events: [ev.reversed(P, 200, 'CREDIT', 500)] } },
    { name: 'gives a capture back (CREDIT)', given: [ev.opened(500), ev.holdPlaced(300), ev.holdCaptured(300, 200, 300)], posting: postingOf('HoldCaptured', 300), when: cmd.reverse(P), then: { events: [ev.reversed(P, 300, 'CREDIT', 500)] } },
    { name: 'refuses a credit one unit past the money maximum', given: [ev.opened(MAX), ev.withdrawn(10, MAX - 10), ev.deposited(9, MAX - 1)], posting: postingOf('MoneyWithdrawn', 10), when: cmd.reverse(P), then: { code: 'AMOUNT_TOO_LARGE' } },
    {
      name: 'asks the destination to pay a completed transfer back, keeping room for it',
      given: [ev.opened(500), ev.debited(B, 200, 300), ev.settled(B, 200)], posting: transferPosting(200), when: cmd.reverse(P, 'fraud'),
      then: { events: [ev.reversalRequested(B, 200, 'fraud')] },
      followUps: [{ accountId: B, payload: { type: 'DebitTransferReversal', reversalId: R, transferId: T, toAccountId: A, amount: 200, reason: 'fraud' } }],
    },
    { name: 'retries a transfer reversal that failed', given: [...reversalPending, ev.reversalFailed(B, 200, 'INSUFFICIENT_FUNDS')], posting: transferPosting(200, { reversalStatus: 'failed' }), when: cmd.reverse(P), then: { events: [ev.reversalRequested(B, 200)] }, followUps: [debitReversalOf200] },
    { name: 'refuses a transfer reversal with no room for the money coming back', given: [ev.opened(MAX), ev.debited(B, 10, MAX - 10), ev.settled(B, 10), ev.deposited(10, MAX)], posting: transferPosting(10), when: cmd.reverse(P), then: { code: 'AMOUNT_TOO_LARGE' } },
    { name: 'refuses a missing account', given: h.none, posting: deposit200, when: cmd.reverse(P), then: { code: 'ACCOUNT_NOT_FOUND' } },
    { name: 'refuses a closed account', given: h.closedEmpty, posting: deposit200, when: cmd.reverse(P), then: { code: 'ACCOUNT_CLOSED' } },
    { name: 'refuses a command that posted nothing here', given: h.open500, when: cmd.reverse(P), then: { code: 'TRANSACTION_NOT_FOUND' } },
    { name: "refuses another account's deposit", given: h.open500, posting: postingOf('MoneyDeposited', 200, { accountId: B }), when: cmd.reverse(P), then: { code: 'TRANSACTION_NOT_FOUND' } },
    { name: 'refuses an opening', given: h.open500, posting: postingOf('AccountOpened', 500), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: 'refuses a refund', given: [ev.opened(500), ev.debited(B, 200, 300), ev.refunded(B, 200, 500)], posting: postingOf('TransferRefunded', 200, { transferId: T }), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: "refuses a transfer's credit leg", given: [ev.opened(0), ev.credited(B, 200, 200)], posting: postingOf('TransferCredited', 200, { transferId: T }), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: 'refuses a reversal of a reversal', given: [ev.opened(500), ev.deposited(200, 700), ev.reversed('d', 200, 'DEBIT', 500)], posting: postingOf(null, 200), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: 'refuses a failed (refunded) transfer', given: [ev.opened(500), ev.debited(B, 200, 300), ev.refunded(B, 200, 500)], posting: transferPosting(200, { transferStatus: 'failed' }), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: 'refuses a transfer still in flight', given: [ev.opened(500), ev.debited(B, 200, 300)], posting: transferPosting(200, { transferStatus: 'pending' }), when: cmd.reverse(P), then: { code: 'NOT_REVERSIBLE' } },
    { name: 'refuses a deposit reversed already', given: [ev.opened(500), ev.deposited(200, 700), ev.reversed(P, 200, 'DEBIT', 500)], posting: postingOf('MoneyDeposited', 200, { reversalStatus: 'completed' }), when: cmd.reverse(P), then: { code: 'ALREADY_REVERSED' } },
    { name: 'refuses a transfer whose reversal is under way', given: reversalPending, posting: transferPosting(200, { reversalStatus: 'pending' }), when: cmd.reverse(P), then: { code: 'ALREADY_REVERSED' } },
  ],
  DebitTransferReversal: [
    { name: 'takes the transfer back from the destination and credits the source', given: [ev.opened(0), ev.credited(C, 200, 200)], when: cmd.debitReversal(C, 200, 'fraud'), then: { events: [ev.transferReversed(C, 200, 0, 'fraud')] }, followUps: [creditReversalAt(C, 200)] },
    { name: 'refuses one unit past the available balance, telling the source', given: [ev.opened(0), ev.credited(C, 200, 200), ev.withdrawn(1, 199)], when: cmd.debitReversal(C, 200), then: { code: 'INSUFFICIENT_FUNDS' }, followUps: [failReversalAt(C, 200, 'INSUFFICIENT_FUNDS')] },
    { name: 'refuses a closed destination, telling the source', given: h.closedEmpty, when: cmd.debitReversal(C, 200), then: { code: 'ACCOUNT_CLOSED' }, followUps: [failReversalAt(C, 200, 'ACCOUNT_CLOSED')] },
    { name: 'refuses a missing destination (forged), telling the source', given: h.none, when: cmd.debitReversal(C, 200), then: { code: 'ACCOUNT_NOT_FOUND' }, followUps: [failReversalAt(C, 200, 'ACCOUNT_NOT_FOUND')] },
  ],
  CreditTransferReversal: [
    { name: 'brings the money back and ends its reservation', given: reversalPending, when: cmd.creditReversal(B, 200), then: { events: [ev.reversalCredited(B, 200, 200)] } },
    { name: 'is refused only for a missing account (forged input)', given: h.none, when: cmd.creditReversal(B, 200), then: { code: 'ACCOUNT_NOT_FOUND' } },
  ],
  FailTransferReversal: [
    { name: 'ends the reservation; nothing moves', given: reversalPending, when: cmd.failReversal(B, 200, 'INSUFFICIENT_FUNDS'), then: { events: [ev.reversalFailed(B, 200, 'INSUFFICIENT_FUNDS')] } },
    { name: 'is refused only for a missing account (forged input)', given: h.none, when: cmd.failReversal(B, 200, 'ACCOUNT_CLOSED'), then: { code: 'ACCOUNT_NOT_FOUND' } },
  ],
};

/** The rejections each command can meet, in precedence order: mirrors the comment block in decide.ts. */
const codesByCommand: Record<CommandType, RejectionCode[]> = {
  OpenAccount: ['ACCOUNT_ALREADY_EXISTS'],
  Deposit: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'AMOUNT_TOO_LARGE'],
  Withdraw: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'INSUFFICIENT_FUNDS'],
  InitiateTransfer: ['SAME_ACCOUNT_TRANSFER', 'ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'INSUFFICIENT_FUNDS'],
  CreditTransfer: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'CURRENCY_MISMATCH', 'AMOUNT_TOO_LARGE'],
  RefundTransfer: ['ACCOUNT_NOT_FOUND'],
  SettleTransfer: ['ACCOUNT_NOT_FOUND'],
  PlaceHold: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'INSUFFICIENT_FUNDS'],
  CaptureHold: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'HOLD_NOT_FOUND', 'HOLD_NOT_ACTIVE', 'AMOUNT_EXCEEDS_HOLD', 'INSUFFICIENT_FUNDS'],
  VoidHold: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'HOLD_NOT_FOUND', 'HOLD_NOT_ACTIVE'],
  ExpireHold: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'HOLD_NOT_FOUND', 'HOLD_NOT_ACTIVE'],
  SetOverdraftLimit: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED'],
  CloseAccount: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'ACCOUNT_NOT_EMPTY'],
  ReverseTransaction: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'TRANSACTION_NOT_FOUND', 'NOT_REVERSIBLE', 'ALREADY_REVERSED', 'INSUFFICIENT_FUNDS', 'AMOUNT_TOO_LARGE'],
  DebitTransferReversal: ['ACCOUNT_NOT_FOUND', 'ACCOUNT_CLOSED', 'INSUFFICIENT_FUNDS'],
  CreditTransferReversal: ['ACCOUNT_NOT_FOUND'],
  FailTransferReversal: ['ACCOUNT_NOT_FOUND'],
};

for (const [commandType, table] of Object.entries(cases) as [CommandType, Case[]][]) {
  describe(`decide ${commandType}`, () => {
    it.each(table)('$name', (c) => {
      // An expiry is decided by the clock of the instance that asked it: its issuedAt is `now`.
      const command = c.when.type === 'ExpireHold' ? { ...commandFor(A, c.when), issuedAt: c.now ?? t0 } : commandFor(A, c.when);
      const withContext = c.hold !== undefined || c.now !== undefined || c.posting !== undefined;
      const decision = withContext ? decide(given(c.given), command, { hold: c.hold, now: c.now ?? t0, posting: c.posting }) : when(c.given, c.when);
      if ('events' in c.then) {
        expect(decision).toEqual({ kind: 'accepted', events: c.then.events, followUps: c.followUps ?? [] });
      } else {
        expect(decision).toMatchObject({ kind: 'rejected', code: c.then.code, followUps: c.followUps ?? [] });
      }
    });

    it('has a case for every rejection it can meet, and meets no other', () => {
      const seen = new Set(table.flatMap((c) => ('code' in c.then ? [c.then.code] : [])));
      expect([...seen].sort()).toEqual([...codesByCommand[commandType]].sort());
    });
  });
}

describe('decide rejection messages', () => {
  it('says how short the balance is', () => {
    expect(when(h.open500, cmd.withdraw(700))).toMatchObject({ message: 'available balance 500 is less than the requested 700' });
  });

  it('names the currencies that differ', () => {
    expect(when(h.open500, cmd.credit(B, 1, 'EUR'))).toMatchObject({ message: `account ${A} holds USD, not EUR` });
  });

  const allRejections = Object.values(cases)
    .flat()
    .filter((c) => 'code' in c.then);
  it.each(allRejections)('gives a short message when it $name', (c) => {
    const decision = when(c.given, c.when);
    expect(decision.kind).toBe('rejected');
    if (decision.kind !== 'rejected') return;
    expect(decision.message.length).toBeGreaterThan(0);
    expect(decision.message.length).toBeLessThanOrEqual(120);
  });
});

describe('decide never refuses a refund', () => {
  it('a refund that would not fit is a broken invariant (the bound keeps room for money in flight), not a refusal', () => {
    // Only a state no event history can produce: balance at the maximum while the refund's amount is not counted in flight.
    const impossible = { ...given(h.atMax)!, outgoingInFlight: 1, heldBalance: 0, overdraftLimit: 0 };
    expect(() => decide(impossible, commandFor(A, cmd.refund(B, 1)))).toThrow(InvariantViolation);
  });
});

describe('decide preconditions', () => {
  it('throws InvariantViolation when handed the state of another account', () => {
    const stateOfA = given(h.open500, A);
    expect(() => decide(stateOfA, commandFor(B, cmd.deposit(1)))).toThrow(InvariantViolation);
  });
});
