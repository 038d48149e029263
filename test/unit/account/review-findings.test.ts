// Findings of an adversarial review of the money-safety change, each reproduced here first (they
// failed before the fix): values an Avro long cannot hold wedged a partition, a second landing of
// a transfer created money, a windowed record could delete a record kept forever, and a
// first-release transfer landing after the upgrade un-counted a newer transfer's money in flight.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { afterEach, describe, expect, it } from 'vitest';
import { processBatch, type BatchLookups, type DecodedRecord } from '../../../processors/account/batch.ts';
import { PartitionStore } from '../../../processors/account/store.ts';
import { moneyMax, type AccountState, type Command, type CommandOutcome, type CommandPayload } from '../../../schemas/types.ts';

const now = 1_700_000_000_000;
const A = 'acc-a';
let n = 0;
const record = (accountId: string, payload: CommandPayload, commandId = `c${++n}`): DecodedRecord => {
  const command: Command = { commandId, accountId, issuedAt: now, fingerprint: `fp-${commandId}`, payload };
  return { kind: 'command', offset: String(n), key: Buffer.from(accountId), value: Buffer.from('x'), command };
};
const lookups = (states: AccountState[] = [], outcomes: CommandOutcome[] = []): BatchLookups => ({
  state: (id) => states.find((s) => s.accountId === id),
  outcome: (id) => outcomes.find((o) => o.commandId === id),
  initiation: (id) => outcomes.find((o) => o.transferId === id && o.transferStatus !== null),
  hold: () => undefined,
});
const avroType = (file: string) => avro.Type.forSchema(JSON.parse(readFileSync(new URL(`../../../schemas/${file}`, import.meta.url), 'utf8')) as avro.Schema);
const stateOf = (fields: Partial<AccountState>): AccountState => ({
  accountId: A, ownerName: 'Ada', currency: 'EUR', balance: 0, status: 'OPEN', version: 3, openedAt: now, updatedAt: now, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0, ...fields,
});
const initiation = (fields: Partial<CommandOutcome>): CommandOutcome => ({
  commandId: 'init', accountId: A, status: 'ACCEPTED', code: null, message: null, fingerprint: 'f', version: 2, balance: 0, transferId: 'T', eventSequences: [2],
  processedAt: now - 1000, transferStatus: 'pending', transferCode: null, availableBalance: 0, overdraftLimit: 0, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null, ...fields,
});

describe('every state and outcome stays encodable (a value an Avro long cannot hold wedged the partition)', () => {
  it('an overdraft limit cannot let money in flight grow past the maximum', () => {
    const result = processBatch([
      record(A, { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 0, overdraftLimit: moneyMax }),
      record(A, { type: 'InitiateTransfer', transferId: 't1', toAccountId: 'b', amount: moneyMax, reference: null }),
      record(A, { type: 'Deposit', amount: moneyMax, reference: null }),
      record(A, { type: 'InitiateTransfer', transferId: 't2', toAccountId: 'b', amount: moneyMax, reference: null }),
    ], lookups(), now);
    const state = result.states.get(A) as AccountState;
    expect(() => avroType('account-state.avsc').toBuffer(state)).not.toThrow();
    expect(state.outgoingInFlight).toBeLessThanOrEqual(moneyMax);
    expect(result.outcomes[2]?.outcome).toMatchObject({ status: 'REJECTED', code: 'AMOUNT_TOO_LARGE' });
    for (const { outcome } of result.outcomes) expect(() => avroType('command-outcome.avsc').toBuffer(outcome)).not.toThrow();
  });

  it('an account opened with a balance and a limit summing past the maximum is refused, and its outcome encodes', () => {
    const result = processBatch([record('acc-big', { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 5e15, overdraftLimit: 5e15 })], lookups(), now);
    expect(result.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'AMOUNT_TOO_LARGE' });
    expect(() => avroType('command-outcome.avsc').toBuffer(result.outcomes[0]?.outcome)).not.toThrow();
  });

  it('a limit raised past the room left is refused', () => {
    const result = processBatch([record(A, { type: 'SetOverdraftLimit', limit: 11 })], lookups([stateOf({ balance: moneyMax - 10 })]), now);
    expect(result.outcomes[0]?.outcome).toMatchObject({ status: 'REJECTED', code: 'AMOUNT_TOO_LARGE' });
  });
});

describe('a transfer lands once', () => {
  it('a second RefundTransfer of an already refunded transfer (another command id) is dead-lettered and creates no money', () => {
    const landed = initiation({ transferStatus: 'failed', transferCode: 'ACCOUNT_NOT_FOUND' });
    const result = processBatch([record(A, { type: 'RefundTransfer', transferId: 'T', toAccountId: 'acc-missing', amount: 50, reason: 'ACCOUNT_NOT_FOUND' })], lookups([stateOf({ balance: 50 })], [landed]), now);
    expect(result.events).toEqual([]);
    expect(result.deadLetters[0]?.reason).toMatch(/^TRANSFER_ALREADY_LANDED/);
  });

  it("a first-release transfer's settlement releases nothing a newer transfer put in flight, so the account still cannot close", () => {
    // 50 in flight from a transfer of this release (t2, pending); t1 was debited by the first release (no record).
    const pending = initiation({ commandId: 'init-2', transferId: 't2' });
    const state = stateOf({ balance: 0, outgoingInFlight: 50 });
    const result = processBatch([
      record(A, { type: 'SettleTransfer', transferId: 't1', toAccountId: 'b', amount: 100 }),
      record(A, { type: 'CloseAccount' }),
    ], lookups([state], [pending]), now);
    expect(result.events[0]?.payload).toMatchObject({ type: 'TransferSettled', inFlightReleased: 0 });
    expect(result.states.get(A)).toMatchObject({ outgoingInFlight: 50 });
    expect(result.outcomes[1]?.outcome).toMatchObject({ status: 'REJECTED', code: 'ACCOUNT_NOT_EMPTY' });
  });
});

describe('a record kept forever survives any windowed record of the same command', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const window = 7 * 86_400_000;
  const rejected = initiation({ commandId: 'c1', status: 'REJECTED', code: 'INSUFFICIENT_FUNDS', processedAt: now, transferStatus: null });
  const accepted = initiation({ commandId: 'c1', processedAt: now + window + 60_000 });

  for (const order of ['windowed first', 'forever first'] as const) {
    it(`expiry never deletes it and a retry is answered with it (restore order: ${order})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'review-store-'));
      dirs.push(dir);
      const store = await PartitionStore.open(dir, { clusterId: 'c', topics: ['t'], partition: 0 }, () => {});
      const checkpoint = { stateOffset: '1', outcomesOffset: '1', movementsOffset: '1' };
      if (order === 'windowed first') {
        await store.write([], [rejected], checkpoint);
        await store.write([], [], checkpoint, [accepted]);
      } else {
        await store.write([], [], checkpoint, [accepted]);
        await store.write([], [rejected], checkpoint);
      }
      expect((await store.outcomes(['c1'])).get('c1')?.status).toBe('ACCEPTED');
      await store.expireOutcomes(now + window + 1, 4000);
      expect((await store.outcomes(['c1'])).get('c1')?.status).toBe('ACCEPTED');
      expect((await store.initiations(['T'])).get('T')?.commandId).toBe('c1');
      await store.close();
    });
  }
});
