// The account store on a real LevelDB (no broker): it belongs to one ledger, and it stays bounded
// by the idempotency window whatever the throughput, while movements are kept forever (DESIGN §8).
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});
