// Two processor processes share the partitions, each with its own data directory (a taken-over
// partition restores from its changelog, or from a stale checkpoint when it comes back). One is
// killed (SIGKILL) or frozen (SIGSTOP) with a transaction open: a zombie that wakes up later. The
// test shows the zombie's transaction open while it is frozen, its commit refused once its
// partition moved, and nothing it wrote visible to read_committed readers.
import { expect, it } from 'vitest';
import { baseOffset, freezeWithTransactionOpen, lastStableOffset, RebalanceHarness, SliceFeeder } from '../support/rebalance.ts';

const h = new RebalanceHarness('processor-rebalance', {});

it('a killed instance hands its partitions over and nothing is applied twice', async () => {
  await h.killOneOfTwo(11);
}, 300_000);

it('a frozen instance that wakes up after its partitions moved is fenced, and nothing it wrote is visible', async () => {
  const { ledger } = h;
  const { survivor, zombie, feeder } = await h.survivorAndZombie(12);
  // Slices fed one after another, so the zombie runs many small transactions, one of which we freeze.
  const { open, survivorMark, feeding } = await freezeWithTransactionOpen({ zombie, survivor, feeder, admin: ledger.admin, topics: ledger.topics });
  const p = open.partition;
  const outcomesBase = baseOffset(open, ledger.topics.outcomes);

  // The zombie's session expires; the survivor takes its partitions, fencing its transactional id.
  await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${p},`), { since: survivorMark, timeoutMs: 90_000 });
  // The new owner's fence aborted the open transaction: the partition is readable past it again.
  expect(await lastStableOffset(ledger.admin, ledger.topics.outcomes, p)).toBeGreaterThan(outcomesBase);

  // Awake, the zombie's commit is refused as coming from a fenced producer.
  const wokeAt = zombie.mark();
  zombie.child.kill('SIGCONT');
  const refused = await zombie.waitForLine(new RegExp(`"msg":"partition failed[^"]*","partition":${p},`), { since: wokeAt, timeoutMs: 60_000 });
  expect(JSON.parse(refused).errorType, refused).toMatch(/^(INVALID_PRODUCER_EPOCH|PRODUCER_FENCED)$/);

  await h.finish(feeder, feeding, open);
}, 400_000);

it('an instance dropped from the group while frozen and given partitions back does not decide on what it kept of them', async () => {
  // Per partition its producers were fenced by the other owner, so its first transaction fails and the partition restores.
  await h.killAll();
  await h.frozenIdleAndReturned(13);
}, 400_000);
