// The account store on a real LevelDB (no broker): it belongs to one ledger, and it stays bounded
// by the idempotency window whatever the throughput, while movements are kept forever (DESIGN §8).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PartitionStore, emptyCheckpoint, type StoreIdentity } from '../../../processors/account/store.ts';
import { outcomeExpiryRecordsMax } from '../../../processors/account/task.ts';
import { transactionCommandsMax } from '../../../processors/account/processor.ts';
import type { AccountState, CommandOutcome } from '../../../schemas/types.ts';

const dirs: string[] = [];
const quiet = () => {};
const identity: StoreIdentity = { clusterId: 'cluster-a', topics: ['bank.commands', 'bank.account-state', 'bank.outcomes', 'bank.movements'], partition: 3 };

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-identity-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const state = (accountId: string, balance: number): AccountState => ({
  accountId, ownerName: 'Ada', currency: 'EUR', balance, status: 'OPEN', version: 1, openedAt: 0, updatedAt: 0, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0,
});

function outcome(commandId: string, processedAt: number, transferId: string | null = null): CommandOutcome {
  return {
    commandId, accountId: 'acc', status: 'ACCEPTED', code: null, message: null, fingerprint: 'fp', version: 1, balance: 0,
    transferId, eventSequences: [1], processedAt, transferStatus: transferId === null ? null : 'pending', transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null,
  };
}

async function storeWithOneAccount(dir: string): Promise<void> {
  const store = await PartitionStore.open(dir, identity, quiet);
  await store.write([state('acc-1', 500)], [], { ...emptyCheckpoint, stateOffset: '1' });
  await store.close();
}

describe('a store belongs to one ledger', () => {
  it('is kept when cluster, topics and partition are the same', async () => {
    const dir = dataDir();
    await storeWithOneAccount(dir);
    const again = await PartitionStore.open(dir, identity, quiet);
    expect((await again.states(['acc-1'])).get('acc-1')?.balance).toBe(500);
    expect(await again.checkpoint()).toMatchObject({ stateOffset: '1' });
    await again.close();
  });

  it.each([
    ['another cluster', { ...identity, clusterId: 'cluster-b' }],
    ['another topic prefix', { ...identity, topics: identity.topics.map((t) => t.replace('bank.', 'other.')) }],
    ['another partition (a store directory copied or renamed)', { ...identity, partition: 4 }],
  ])('is wiped for %s, so no phantom balance comes back', async (_what, other) => {
    const dir = dataDir();
    await storeWithOneAccount(dir);
    if (other.partition !== identity.partition) cpSync(join(dir, 'account', `p${identity.partition}`), join(dir, 'account', `p${other.partition}`), { recursive: true });
    const logged: string[] = [];
    const foreign = await PartitionStore.open(dir, other as StoreIdentity, (message) => logged.push(message));
    expect((await foreign.states(['acc-1'])).get('acc-1')).toBeUndefined();
    expect(await foreign.checkpoint()).toBeUndefined();
    expect(logged).toContain('store belongs to another ledger; wiping it');
    await foreign.close();
  });
});

describe('idempotency records are bounded by the window, movements are kept forever', () => {
  it('each expiry pass forgets more than a transaction can add, so the store shrinks under any load', async () => {
    expect(outcomeExpiryRecordsMax).toBeGreaterThanOrEqual(2 * transactionCommandsMax);
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    const old = Array.from({ length: 3 * transactionCommandsMax }, (_, i) => outcome(`old-${i}`, 1_000 + i));
    await store.write([], old, emptyCheckpoint, [outcome('transfer-cmd', 1_000, 'transfer-1')]);
    let remaining = old.length;
    for (let transaction = 0; remaining > 0; transaction += 1) {
      // A full transaction of fresh records, then its expiry pass (as PartitionTask.process does).
      const fresh = Array.from({ length: transactionCommandsMax }, (_, i) => outcome(`new-${transaction}-${i}`, 10_000_000));
      await store.write([], fresh, emptyCheckpoint);
      remaining -= await store.expireOutcomes(5_000_000, outcomeExpiryRecordsMax);
      expect(transaction).toBeLessThan(3);
    }
    expect((await store.outcomes(['old-0', `old-${old.length - 1}`])).size).toBe(0);
    expect((await store.outcomes(['new-0-0'])).size).toBe(1);
    // The transfer initiation is older than every expired record and is still there.
    expect((await store.initiations(['transfer-1'])).get('transfer-1')).toMatchObject({ commandId: 'transfer-cmd' });
    expect((await store.outcomes(['transfer-cmd'])).size).toBe(1);
    await store.close();
  });

  // The pass runs after every commit: it scans LevelDB only when a record can be due (issue 13).
  const scansOf = (store: PartitionStore) => vi.spyOn((store as unknown as { db: { keys: (...args: unknown[]) => unknown } }).db, 'keys');
  const kept = async (store: PartitionStore, ids: string[]) => [...(await store.outcomes(ids)).keys()].sort();

  it('skips the scan until a record can be due, and still forgets a record written older than the rest', async () => {
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    const scans = scansOf(store);
    await store.write([], [outcome('a', 1_000), outcome('b', 2_000)], emptyCheckpoint);
    expect(await store.expireOutcomes(1_500, outcomeExpiryRecordsMax)).toBe(1);
    expect(scans).toHaveBeenCalledTimes(1);
    // Nothing is due before 2,000: no scan.
    expect(await store.expireOutcomes(1_900, outcomeExpiryRecordsMax)).toBe(0);
    expect(await store.expireOutcomes(2_000, outcomeExpiryRecordsMax)).toBe(0);
    expect(scans).toHaveBeenCalledTimes(1);
    // A record older than every other (a restore writes in any order) is due again at once.
    await store.write([], [outcome('c', 1_200)], emptyCheckpoint);
    expect(await store.expireOutcomes(1_300, outcomeExpiryRecordsMax)).toBe(1);
    expect(scans).toHaveBeenCalledTimes(2);
    expect(await kept(store, ['a', 'b', 'c'])).toEqual(['b']);
    expect(await store.expireOutcomes(2_001, outcomeExpiryRecordsMax)).toBe(1);
    // The store is empty of records: no scan until one is written.
    expect(await store.expireOutcomes(9_000, outcomeExpiryRecordsMax)).toBe(0);
    expect(scans).toHaveBeenCalledTimes(3);
    await store.write([], [outcome('d', 5_000)], emptyCheckpoint);
    expect(await store.expireOutcomes(9_000, outcomeExpiryRecordsMax)).toBe(1);
    expect(await kept(store, ['a', 'b', 'c', 'd'])).toEqual([]);
    await store.close();
  });

  it('a pass that stops at its bound leaves the rest due, and the next pass takes it', async () => {
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    await store.write([], Array.from({ length: 5 }, (_, i) => outcome(`r-${i}`, 1_000 + i)), emptyCheckpoint);
    expect(await store.expireOutcomes(2_000, 3)).toBe(3);
    expect(await store.expireOutcomes(2_000, 3)).toBe(2);
    expect(await store.expireOutcomes(2_000, 3)).toBe(0);
    await store.close();
  });

  it('a write still running when a pass begins is not taken for absent', async () => {
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    // The store is known to be empty of records.
    expect(await store.expireOutcomes(1, outcomeExpiryRecordsMax)).toBe(0);
    const db = (store as unknown as { db: { batch: (ops: unknown) => Promise<void> } }).db;
    const batch = db.batch.bind(db);
    let release = () => {};
    vi.spyOn(db, 'batch').mockImplementationOnce(async (ops) => {
      await new Promise<void>((resolve) => (release = resolve));
      return batch(ops);
    });
    const write = store.write([], [outcome('old', 500)], emptyCheckpoint);
    // The pass's snapshot is taken before the write lands.
    expect(await store.expireOutcomes(1_000, outcomeExpiryRecordsMax)).toBe(0);
    release();
    await write;
    expect(await store.expireOutcomes(1_000, outcomeExpiryRecordsMax)).toBe(1);
    await store.close();
  });

  it("an older record's index entry does not take a newer record of the same command with it", async () => {
    // A retry decided again after its first record expired, then both versions restored by an
    // instance whose clock is behind: the newer record is stored, and the older index entry stays.
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    await store.write([], [outcome('c', 1_000)], emptyCheckpoint);
    await store.write([], [outcome('c', 9_000)], emptyCheckpoint);
    expect(await store.expireOutcomes(5_000, outcomeExpiryRecordsMax)).toBe(0);
    expect((await store.outcomes(['c'])).get('c')?.processedAt).toBe(9_000);
    expect(await store.expireOutcomes(9_001, outcomeExpiryRecordsMax)).toBe(1);
    expect(await kept(store, ['c'])).toEqual([]);
    await store.close();
  });

  it('a cutoff that is not a number forgets nothing, as before', async () => {
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    await store.write([], [outcome('a', 1_000)], emptyCheckpoint);
    expect(await store.expireOutcomes(Number.NaN, outcomeExpiryRecordsMax)).toBe(0);
    expect(await store.expireOutcomes(Number.POSITIVE_INFINITY, outcomeExpiryRecordsMax)).toBe(0);
    expect(await kept(store, ['a'])).toEqual(['a']);
    await store.close();
  });

  it('a record written while a pass scans is not taken for absent', async () => {
    const store = await PartitionStore.open(dataDir(), identity, quiet);
    // The scan's iterator reads a snapshot taken before the write lands.
    const pass = store.expireOutcomes(1_000, outcomeExpiryRecordsMax);
    await store.write([], [outcome('late', 3_000)], emptyCheckpoint);
    expect(await pass).toBe(0);
    expect(await store.expireOutcomes(4_000, outcomeExpiryRecordsMax)).toBe(1);
    expect(await kept(store, ['late'])).toEqual([]);
    await store.close();
  });
});
