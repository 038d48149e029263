// The processing loop's decisions without a broker: what one transaction carries and what the
// store keeps, for duplicates, key reuse, poison, saga follow-ups and in-batch dependencies.
import { describe, expect, it } from 'vitest';
import { processBatch, type BatchLookups, type DecodedRecord } from '../../../processors/account/batch.ts';
import { creditCommandId, refundCommandId, settleCommandId } from '../../../schemas/ids.ts';
import type { AccountState, Command, CommandOutcome, CommandPayload } from '../../../schemas/types.ts';

const now = 1_700_000_000_000;
const A = 'account-a';
const B = 'account-b';

function command(commandId: string, accountId: string, payload: CommandPayload, fingerprint = `fp-${commandId}`): Command {
  return { commandId, accountId, issuedAt: now, fingerprint, payload };
}

function records(...commands: Command[]): DecodedRecord[] {
  return commands.map((c, i) => ({ kind: 'command', offset: String(i), key: Buffer.from(c.accountId), value: Buffer.from('x'), command: c }));
}

function lookups(states: AccountState[] = [], outcomes: CommandOutcome[] = []): BatchLookups {
  return {
    state: (id) => states.find((s) => s.accountId === id),
    outcome: (id) => outcomes.find((o) => o.commandId === id),
    initiation: (transferId) => outcomes.find((o) => o.transferId === transferId && o.transferStatus !== null),
    hold: (holdId) => outcomes.find((o) => o.holdId === holdId && o.holdStatus !== null),
  };
}

const open = (balance = 0): CommandPayload => ({ type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: balance, overdraftLimit: 0 });
const deposit = (amount: number): CommandPayload => ({ type: 'Deposit', amount, reference: null });
const withdraw = (amount: number): CommandPayload => ({ type: 'Withdraw', amount, reference: null });

const stateOf = (accountId: string, balance: number, version = 1): AccountState => ({
  accountId,
  ownerName: 'Ada',
  currency: 'EUR',
  balance,
  status: 'OPEN',
  version,
  openedAt: now - 1000,
  updatedAt: now - 1000,
  outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0,
});

describe('processBatch', () => {
  it('applies commands of one batch on top of each other and keeps the latest state per account', () => {
    const result = processBatch(records(command('c1', A, open(100)), command('c2', A, deposit(50)), command('c3', A, withdraw(120))), lookups(), now);
    expect(result.events.map((e) => [e.sequence, e.payload.type])).toEqual([
      [1, 'AccountOpened'],
      [2, 'MoneyDeposited'],
      [3, 'MoneyWithdrawn'],
    ]);
    expect(result.states.get(A)).toMatchObject({ balance: 30, version: 3 });
    expect(result.outcomes.map((o) => [o.key, o.outcome.status, o.outcome.version, o.outcome.balance, o.outcome.eventSequences])).toEqual([
      ['c1', 'ACCEPTED', 1, 100, [1]],
      ['c2', 'ACCEPTED', 2, 150, [2]],
      ['c3', 'ACCEPTED', 3, 30, [3]],
    ]);
    expect(result.newOutcomes).toHaveLength(3);
  });

  it('a rejection keeps the account unchanged and reports its current version and balance', () => {
    const result = processBatch(records(command('c1', A, withdraw(500))), lookups([stateOf(A, 100, 4)]), now);
    expect(result.events).toEqual([]);
    expect(result.states.size).toBe(0);
    expect(result.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'INSUFFICIENT_FUNDS', version: 4, balance: 100, eventSequences: [] });
    expect(result.newOutcomes).toHaveLength(1);
  });

  it('a duplicate command gets its original outcome again and nothing else happens', () => {
    const original: CommandOutcome = {
      commandId: 'c1', accountId: A, status: 'ACCEPTED', code: null, message: null, fingerprint: 'fp-c1',
      version: 2, balance: 150, transferId: null, eventSequences: [2], processedAt: now - 5000, transferStatus: null, transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null,
    };
    const result = processBatch(records(command('c1', A, deposit(50))), lookups([stateOf(A, 150, 2)], [original]), now);
    expect(result.events).toEqual([]);
    expect(result.newOutcomes).toEqual([]);
    expect(result.outcomes).toEqual([{ key: 'c1', outcome: original, replayed: true }]);
  });

  it('a duplicate within the same batch is applied once', () => {
    const result = processBatch(records(command('c1', A, open(0)), command('c2', A, deposit(50)), command('c2', A, deposit(50))), lookups(), now);
    expect(result.events).toHaveLength(2);
    expect(result.states.get(A)?.balance).toBe(50);
    expect(result.outcomes.map((o) => o.replayed)).toEqual([false, false, true]);
  });

  it('the same command id with another fingerprint is refused under a key that cannot replace the original', () => {
    const result = processBatch(records(command('c1', A, open(0)), command('c1', A, open(999), 'fp-other')), lookups(), now);
    expect(result.events).toHaveLength(1);
    expect(result.newOutcomes).toHaveLength(1);
    const refusal = result.outcomes[1];
    expect(refusal?.key).toBe('c1#fp-other');
    expect(refusal?.outcome).toMatchObject({ commandId: 'c1', status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED', fingerprint: 'fp-other' });
  });

  it('poison and structurally invalid commands become dead letters with their original bytes and a reason', () => {
    const poison: DecodedRecord = { kind: 'poison', offset: '7', key: Buffer.from('k'), value: Buffer.from('not avro'), reason: 'bad bytes' };
    const invalid = records(command('c9', A, deposit(-5)))[0] as DecodedRecord;
    const result = processBatch([poison, invalid, ...records(command('c1', A, open(10)))], lookups(), now);
    expect(result.deadLetters.map((d) => [d.offset, d.key?.toString(), d.value?.toString()])).toEqual([
      ['7', 'k', 'not avro'],
      ['0', A, 'x'],
    ]);
    expect(result.deadLetters[1]?.reason).toMatch(/^invalid command: /);
    expect(result.events).toHaveLength(1);
    expect(result.outcomes).toHaveLength(1);
  });

  it('a transfer debits the source and sends the credit to the destination with a derived command id', () => {
    const payload: CommandPayload = { type: 'InitiateTransfer', transferId: 't1', toAccountId: B, amount: 40, reference: 'rent' };
    const result = processBatch(records(command('c1', A, payload)), lookups([stateOf(A, 100)]), now);
    expect(result.events[0]?.payload).toMatchObject({ type: 'TransferDebited', amount: 40, balanceAfter: 60 });
    expect(result.outcomes[0]?.outcome).toMatchObject({ transferId: 't1', transferStatus: 'pending' });
    expect(result.followUps).toEqual([
      expect.objectContaining({
        commandId: creditCommandId(`${A}:2`),
        accountId: B,
        payload: { type: 'CreditTransfer', transferId: 't1', fromAccountId: A, amount: 40, currency: 'EUR' },
      }),
    ]);
  });

  it('a credit the destination refuses sends a refund back to the source', () => {
    const payload: CommandPayload = { type: 'CreditTransfer', transferId: 't1', fromAccountId: A, amount: 40, currency: 'EUR' };
    const creditId = creditCommandId(`${A}:2`);
    const result = processBatch(records(command(creditId, B, payload)), lookups(), now);
    expect(result.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_NOT_FOUND', transferId: 't1' });
    expect(result.followUps).toEqual([
      expect.objectContaining({ commandId: refundCommandId(creditId), accountId: A, payload: expect.objectContaining({ type: 'RefundTransfer', amount: 40, reason: 'ACCOUNT_NOT_FOUND' }) }),
    ]);
  });

  it('follow-ups are deterministic, so a replayed batch produces the same internal commands', () => {
    const payload: CommandPayload = { type: 'InitiateTransfer', transferId: 't1', toAccountId: B, amount: 40, reference: null };
    const first = processBatch(records(command('c1', A, payload)), lookups([stateOf(A, 100)]), now);
    const second = processBatch(records(command('c1', A, payload)), lookups([stateOf(A, 100)]), now + 1);
    expect(second.followUps.map((c) => [c.commandId, c.fingerprint])).toEqual(first.followUps.map((c) => [c.commandId, c.fingerprint]));
  });

  describe('ids that move money are unique forever (DESIGN §8)', () => {
    const transfer: CommandPayload = { type: 'InitiateTransfer', transferId: 't1', toAccountId: B, amount: 40, reference: null };
    const accepted = () => processBatch(records(command('c1', A, transfer)), lookups([stateOf(A, 100)]), now);

    it('an accepted transfer initiation is kept forever (a movement), not as a record that expires with the window', () => {
      const result = accepted();
      expect(result.newOutcomes).toEqual([]);
      expect([...result.movements.values()]).toEqual([expect.objectContaining({ commandId: 'c1', transferId: 't1', transferStatus: 'pending' })]);
    });

    it('another command that would create a transfer whose id exists is refused IDEMPOTENCY_KEY_REUSED and debits nothing', () => {
      const initiation = accepted().outcomes[0]!.outcome;
      const result = processBatch(records(command('c2', A, transfer)), lookups([stateOf(A, 60, 2)], [initiation]), now);
      expect(result.events).toEqual([]);
      expect(result.followUps).toEqual([]);
      expect(result.outcomes).toEqual([{ key: 'c2#fp-c2', outcome: expect.objectContaining({ commandId: 'c2', status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED' }), replayed: false }]);
    });

    it('a settlement marks the initiation completed on the outcomes topic and in the forever record', () => {
      const initiation = accepted().outcomes[0]!.outcome;
      const settle: CommandPayload = { type: 'SettleTransfer', transferId: 't1', toAccountId: B, amount: 40 };
      const after = { ...stateOf(A, 60, 2), outgoingInFlight: 40 };
      const result = processBatch(records(command('s1', A, settle)), lookups([after], [initiation]), now);
      expect(result.events.map((e) => e.payload)).toEqual([{ type: 'TransferSettled', transferId: 't1', toAccountId: B, amount: 40, inFlightReleased: 40 }]);
      expect(result.states.get(A)).toMatchObject({ balance: 60, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
      const updated = { ...initiation, transferStatus: 'completed', transferCode: null };
      expect(result.movements.get('c1')).toEqual(updated);
      expect(result.outcomes).toContainEqual({ key: 'c1', outcome: updated, replayed: false });
    });

    it('a refund marks the initiation failed with the destination code', () => {
      const initiation = accepted().outcomes[0]!.outcome;
      const refund: CommandPayload = { type: 'RefundTransfer', transferId: 't1', toAccountId: B, amount: 40, reason: 'ACCOUNT_CLOSED' };
      const after = { ...stateOf(A, 60, 2), outgoingInFlight: 40 };
      const result = processBatch(records(command('r1', A, refund)), lookups([after], [initiation]), now);
      expect(result.states.get(A)).toMatchObject({ balance: 100, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
      expect(result.movements.get('c1')).toMatchObject({ transferStatus: 'failed', transferCode: 'ACCOUNT_CLOSED' });
    });

    it('an internal command seen before is replayed whatever its fingerprint, never refused for idempotency', () => {
      const creditPayload: CommandPayload = { type: 'CreditTransfer', transferId: 't1', fromAccountId: A, amount: 40, currency: 'EUR' };
      const first = processBatch(records(command('credit-1', B, creditPayload)), lookups([stateOf(B, 0)]), now);
      const original = first.outcomes[0]!.outcome;
      const again = processBatch(records(command('credit-1', B, creditPayload, 'another-fingerprint')), lookups([stateOf(B, 40, 2)], [original]), now);
      expect(again.events).toEqual([]);
      expect(again.outcomes).toEqual([{ key: 'credit-1', outcome: original, replayed: true }]);
      expect(again.rejected).toBe(0);
    });

    it('a credit accepted at the destination sends a settlement to the source, identified by the credit event', () => {
      const creditPayload: CommandPayload = { type: 'CreditTransfer', transferId: 't1', fromAccountId: A, amount: 40, currency: 'EUR' };
      const result = processBatch(records(command('credit-1', B, creditPayload)), lookups([stateOf(B, 0)]), now);
      expect(result.followUps).toEqual([
        expect.objectContaining({ commandId: settleCommandId(`${B}:2`), accountId: A, payload: { type: 'SettleTransfer', transferId: 't1', toAccountId: B, amount: 40 } }),
      ]);
    });
  });
});

describe('actor (DESIGN §9)', () => {
  it('events carry the actor of their command, and the saga follow-ups carry the actor of the command that started it', () => {
    const initiate: CommandPayload = { type: 'InitiateTransfer', transferId: 't1', toAccountId: B, amount: 40, reference: null };
    const debited = processBatch(records({ ...command('c1', A, initiate), actor: 'alice0000001' }), lookups([stateOf(A, 100)]), now);
    expect(debited.events.map((e) => e.actor)).toEqual(['alice0000001']);
    const credit = debited.followUps[0]!;
    expect(credit.actor).toBe('alice0000001');
    // The destination refuses the credit (no account B): the refund still carries alice.
    const refused = processBatch(records(credit), lookups(), now);
    expect(refused.followUps.map((c) => [c.payload.type, c.actor])).toEqual([['RefundTransfer', 'alice0000001']]);
    // Accepted: its credit event and the settlement sent back carry alice too.
    const credited = processBatch(records(credit), lookups([stateOf(B, 0)]), now);
    expect(credited.events.map((e) => [e.payload.type, e.actor])).toEqual([['TransferCredited', 'alice0000001']]);
    expect(credited.followUps.map((c) => [c.payload.type, c.actor])).toEqual([['SettleTransfer', 'alice0000001']]);
  });
});
