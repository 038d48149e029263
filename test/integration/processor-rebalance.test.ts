// Two processor processes share the partitions, each with its own data directory (a taken-over
// partition restores from its changelog, or from a stale checkpoint when it comes back). One is
// killed (SIGKILL) or frozen (SIGSTOP) with a transaction open: a zombie that wakes up later. The
// test shows the zombie's transaction open while it is frozen, its commit refused once its
// partition moved, and nothing it wrote visible to read_committed readers.
import { it } from 'vitest';
import { freezeWithTransactionOpen, RebalanceHarness } from '../support/rebalance.ts';

// Pinned, so the file tests per-partition fencing whatever ACCOUNT_TRANSACTIONS the run has.
const h = new RebalanceHarness('processor-rebalance', { ACCOUNT_TRANSACTIONS: 'partition' });

it('a killed instance hands its partitions over and nothing is applied twice', async () => {
  await h.killOneOfTwo(11);
}, 300_000);

it('a frozen instance that wakes up after its partitions moved is fenced, and nothing it wrote is visible', async () => {
  const { ledger } = h;
  const { survivor, zombie, feeder } = await h.survivorAndZombie(12);
  // Slices fed one after another, so the zombie runs many small transactions, one of which we freeze.
  // Its session expires; the survivor takes its partitions, fencing its transactional id.
  await h.fencedByTransactionalId(survivor, zombie, feeder, await freezeWithTransactionOpen({ zombie, survivor, feeder, admin: ledger.admin, topics: ledger.topics }));
}, 400_000);

it('an instance dropped from the group while frozen and given partitions back does not decide on what it kept of them', async () => {
  // Per partition its producers were fenced by the other owner, so its first transaction fails and the partition restores.
  await h.killAll();
  await h.frozenIdleAndReturned(13);
}, 400_000);
