// ACCOUNT_TRANSACTIONS=instance: one transactional producer per processor instance, fenced by
// consumer group generation (KIP-447) instead of by a per-partition transactional id. The same
// rebalances as processor-rebalance.test.ts: a killed instance hands its partitions over with
// nothing applied twice; a frozen instance (SIGSTOP) whose partitions moved meanwhile, woken,
// writes its transaction's records into them, is refused its offsets for its stale generation,
// aborts, and nothing it wrote is visible; an instance dropped from the group and given partitions back restores them. And both
// scopes in one group (a rolling switch): a per-partition owner waits for a per-instance zombie's
// pending commit, a per-instance owner fences a per-partition zombie.
import { describe, expect, it } from 'vitest';
import { baseOffset, freezeWithTransactionOpen, lastStableOffset, RebalanceHarness, visibleRecords, type OpenTransaction } from '../support/rebalance.ts';

const h = new RebalanceHarness('processor-rebalance-instance', { ACCOUNT_TRANSACTIONS: 'instance' });

/**
 * The zombie's transaction must still be open when it wakes, to show the generation refusing it:
 * longer than the freeze (session timeout, rebalance, the checks below) lasts.
 */
const zombieTransactionTimeoutMs = 60_000;

/** Whether a transaction has sent offsets for the partition and not ended (a stable offset read is refused). */
async function offsetsPending(partition: number): Promise<boolean> {
  const { ledger } = h;
  try {
    await ledger.admin.fetchOffsets({ groupId: `${ledger.config.appId}.account`, topics: [{ topic: ledger.topics.commands, partitions: [partition] }], requireStable: true });
    return false;
  } catch (error) {
    if ((error as { type?: string }).type === 'UNSTABLE_OFFSET_COMMIT') return true;
    throw error;
  }
}

it('a killed instance hands its partitions over and nothing is applied twice', async () => {
  // The killed instance's open transaction ends only by the transaction timeout (10 s per instance).
  await h.killOneOfTwo(21);
}, 300_000);

it('a frozen instance is refused its offsets by generation once its partitions moved, and nothing it wrote is visible', async () => {
  const { ledger } = h;
  // Frozen by itself as its fifth transaction begins, decided but nothing of it sent. (Frozen from
  // outside once its records are written, it has nearly always sent its offsets too: a
  // one-request transaction asks for them at the same time, and they follow the records within a
  // millisecond. A transaction whose offsets were taken commits on waking, rightly, since its
  // generation was current then; the next test shows the new owner waiting for it.)
  const { survivor, zombie, feeder } = await h.survivorAndZombie(22, { LEDGER_CRASH_POINT: 'before-send:5:stop' });
  const survivorMark = survivor.mark();
  const { feeding } = await h.feedUntilFrozen(zombie, feeder);

  // The zombie's session expires and the survivor is given every partition; nothing of the
  // zombie's is pending, so it takes the zombie's over at once.
  const partitionsOf = (line: string) => (JSON.parse(line) as { partitions: number[] }).partitions;
  const zombies = partitionsOf(zombie.lines.filter((l) => l.includes('"msg":"partitions assigned"')).at(-1) ?? '{"partitions":[]}');
  expect(zombies.length, 'partitions the zombie owned when it froze').toBeGreaterThan(0);
  const assigned = await survivor.waitForLine(/"msg":"partitions assigned"/, { since: survivorMark, timeoutMs: 90_000 });
  expect(partitionsOf(assigned)).toHaveLength(ledger.config.partitions);
  for (const p of zombies) await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${p},`), { since: survivorMark, timeoutMs: 60_000 });

  // Awake, the zombie writes its transaction's records into partitions the survivor now owns; its
  // offsets are refused for its generation, and it aborts.
  const wokeAt = zombie.mark();
  zombie.child.kill('SIGCONT');
  const refused = await zombie.waitForLine(/"msg":"partition failed/, { since: wokeAt, timeoutMs: 60_000 });
  expect(JSON.parse(refused).errorType, refused).toMatch(/^(ILLEGAL_GENERATION|UNKNOWN_MEMBER_ID)$/);
  const written = zombie.linesSince(wokeAt).filter((l) => l.includes('"msg":"transaction open"')).map((l) => JSON.parse(l) as OpenTransaction);
  expect(written.length, 'the woken transaction wrote its records before it was refused').toBeGreaterThan(0);

  await h.finish(feeder, feeding, ...written);
}, 400_000);

it('a frozen instance with its records written holds its partitions’ new owner until its transaction ends, whichever way it ends', async () => {
  const { ledger } = h;
  await h.killAll();
  const survivor = h.processor();
  await survivor.waitForLine(/partition ready/, { since: 0, timeoutMs: 60_000 });
  // Frozen by itself once its fifth transaction's records are written. Its offsets, asked for at
  // the same time, may or may not have reached the coordinator; either way the new owner must wait:
  // pending offsets hold its stable offset read, open records hold its restore to the high watermark.
  const { zombie, feeder } = await h.survivorAndZombie(24, { LEDGER_CRASH_POINT: 'after-send:5:stop', ACCOUNT_TRANSACTION_TIMEOUT_MS: String(zombieTransactionTimeoutMs) });
  const survivorMark = survivor.mark();
  const { feeding } = await h.feedUntilFrozen(zombie, feeder);
  const opened = zombie.lines.filter((l) => l.includes('"msg":"transaction open"')).map((l) => JSON.parse(l) as OpenTransaction);
  const last = opened.at(-1);
  if (last === undefined) throw new Error('the zombie logged no transaction');
  const open = opened.slice(-last.chunks);
  expect(open.map((o) => o.chunk)).toEqual(open.map((_, i) => i + 1));

  const assigned = await survivor.waitForLine(/"msg":"partitions assigned"/, { since: survivorMark, timeoutMs: 90_000 });
  expect((JSON.parse(assigned) as { partitions: number[] }).partitions).toHaveLength(ledger.config.partitions);
  await new Promise((resolve) => setTimeout(resolve, 3000));
  for (const o of open) {
    expect(survivor.linesSince(survivorMark).filter((l) => l.includes(`"msg":"partition ready","partition":${o.partition},`)), `partition ${o.partition} waits`).toEqual([]);
    if (o.outcomes > 0) expect(await lastStableOffset(ledger.admin, ledger.topics.outcomes, o.partition)).toBeLessThanOrEqual(baseOffset(o, ledger.topics.outcomes));
  }

  // Woken, the zombie either commits (its offsets were taken under a current generation; it then
  // finds itself out of the group at its next heartbeat) or is refused them and aborts; the new
  // owner then takes the partitions over from what was committed.
  zombie.child.kill('SIGCONT');
  for (const o of open) await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${o.partition},`), { since: survivorMark, timeoutMs: 90_000 });
  // Either way the ledger is consistent (every command answered once), and the transaction was
  // all or nothing: every record of every chunk in it visible, or none.
  await h.finish(feeder, feeding);
  const snapshot = await h.readAll();
  const seen = open.map((o) => visibleRecords(snapshot, o, ledger.topics));
  const visible = seen.reduce((n, s) => n + s.visible.length, 0);
  const written = seen.reduce((n, s) => n + s.written, 0);
  expect([0, written], `visible records of the frozen transaction (${written} written): ${JSON.stringify(seen.map((s) => s.visible.length))}`).toContain(visible);
}, 400_000);

it('an instance dropped from the group while frozen and given partitions back does not decide on what it kept of them', async () => {
  // Nothing fences it per instance: a generation it missed means another owner worked its partitions.
  await h.killAll();
  await h.frozenIdleAndReturned(23);
}, 400_000);

describe('both transaction scopes in one group (a rolling switch of ACCOUNT_TRANSACTIONS)', () => {
  it('a per-partition owner waits for a frozen per-instance zombie whose offsets were taken, and restores what it commits on waking', async () => {
    await h.killAll();
    const survivor = h.processor({ ACCOUNT_TRANSACTIONS: 'partition' });
    await survivor.waitForLine(/partition ready/, { since: 0, timeoutMs: 60_000 });
    // Frozen by itself right after its offsets were sent (the third time), its transaction open.
    const { zombie, feeder } = await h.survivorAndZombie(25, { LEDGER_CRASH_POINT: 'after-offsets:3:stop', ACCOUNT_TRANSACTION_TIMEOUT_MS: String(zombieTransactionTimeoutMs) });
    const survivorMark = survivor.mark();
    const { feeding } = await h.feedUntilFrozen(zombie, feeder);
    // The group drops it; the survivor is given its partitions but cannot fence its transaction.
    const assigned = await survivor.waitForLine(/"msg":"partitions assigned"/, { since: survivorMark, timeoutMs: 90_000 });
    expect((JSON.parse(assigned) as { partitions: number[] }).partitions).toHaveLength(h.ledger.config.partitions);
    const pending = [];
    for (let p = 0; p < h.ledger.config.partitions; p += 1) if (await offsetsPending(p)) pending.push(p);
    expect(pending.length, 'partitions whose offsets the frozen transaction holds').toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    for (const p of pending) expect(survivor.linesSince(survivorMark).filter((l) => l.includes(`"msg":"partition ready","partition":${p},`)), `partition ${p} waits`).toEqual([]);
    // Woken, the zombie commits: its generation was current when the coordinator took its offsets.
    zombie.child.kill('SIGCONT');
    for (const p of pending) await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${p},`), { since: survivorMark, timeoutMs: 90_000 });
    await feeding;
    await feeder.rest();
    await h.client.settled(feeder.commands);
    h.expectConsistent(await h.readAll(), feeder.commands);
  }, 400_000);

  it('a per-instance owner fences a frozen per-partition zombie at once, and nothing it wrote is visible', async () => {
    await h.killAll();
    const survivor = h.processor();
    await survivor.waitForLine(/partition ready/, { since: 0, timeoutMs: 60_000 });
    const { zombie, feeder } = await h.survivorAndZombie(26, { ACCOUNT_TRANSACTIONS: 'partition' });
    await h.fencedByTransactionalId(survivor, zombie, feeder, await freezeWithTransactionOpen({ zombie, survivor, feeder, admin: h.ledger.admin, topics: h.ledger.topics }));
  }, 400_000);
});
