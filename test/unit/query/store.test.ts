// The partition store against real LevelDB in a temp dir: the checkpoint travels with the rows,
// and a store that cannot be trusted is wiped when opened.
import { mkdtempSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionStore, parkedEventsMax } from '../../../processors/query/store.ts';
import { applyEvents, type ParkedEvent } from '../../../processors/query/views/index.ts';
import { A, ev, history } from './given.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'query-store-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function seeded(): Promise<PartitionStore> {
  const { store, problem } = await PartitionStore.open(dir, 'bank.events', 3);
  expect(problem).toBe('the view store is missing');
  await store.write(applyEvents(new Map(), history(A, [ev.opened(5), ev.deposited(5, 10)])), 42n);
  await store.write(applyEvents(await store.readAccounts([A]), history(A, [ev.opened(5), ev.deposited(5, 10), ev.deposited(1, 11)])), 57n);
  return store;
}

describe('partition store', () => {
  it('keeps rows and checkpoint (with the previous one) across a reopen', async () => {
    await (await seeded()).close();
    const { store, problem } = await PartitionStore.open(dir, 'bank.events', 3);
    expect(problem).toBeNull();
    expect(store.checkpoint()).toEqual({ nextOffset: 57n, previousNextOffset: 42n });
    expect(store.account(A)).toMatchObject({ balance: 11, version: 3 });
    expect((await store.history(A, 3, 10))?.map((e) => e.sequence)).toEqual([3, 2, 1]);
    expect((await store.history(A, 2, 1))?.map((e) => e.sequence)).toEqual([2]);
    expect(await store.history(A, 4, 1)).toBeUndefined();
    await store.close();
  });

  it('a store of another topic or partition is wiped on open', async () => {
    await (await seeded()).close();
    const { store, problem } = await PartitionStore.open(dir, 'other.events', 3);
    expect(problem).toMatch(/belongs to bank\.events\/3/);
    expect(store.checkpoint()).toBeNull();
    expect(store.account(A)).toBeUndefined();
    await store.close();
  });

  it('an unreadable store is wiped on open', async () => {
    await (await seeded()).close();
    for (const file of readdirSync(join(dir, 'p3'))) writeFileSync(join(dir, 'p3', file), 'not leveldb');
    const { store, problem } = await PartitionStore.open(dir, 'bank.events', 3);
    expect(problem).toMatch(/cannot be read/);
    expect(store.checkpoint()).toBeNull();
    expect(store.account(A)).toBeUndefined();
    await store.close();
  });

  it('wipe empties rows, cache and checkpoint', async () => {
    const store = await seeded();
    await store.wipe();
    expect(store.checkpoint()).toBeNull();
    expect(store.account(A)).toBeUndefined();
    expect(await store.accountsAfter(null, 10)).toEqual([]);
    await store.close();
  });

  it('keeps parked events with the checkpoint, at most parkedEventsMax (the newest), across a reopen and not past a wipe', async () => {
    const store = await seeded();
    const parkedAt = (offset: number): ParkedEvent => ({ partition: 3, offset: String(offset), key: `k${offset}`, reason: 'SEQUENCE_GAP', detail: 'gap', accountId: A, sequence: 9 });
    const none = applyEvents(new Map(), []);
    await store.write(none, 60n, [parkedAt(58), parkedAt(59)]);
    // A replayed chunk parks the same offsets again: nothing doubles.
    await store.write(none, 60n, [parkedAt(59)]);
    expect(store.parkedCount()).toBe(2);
    const many = Array.from({ length: parkedEventsMax }, (_, i) => parkedAt(100 + i));
    await store.write(none, BigInt(100 + parkedEventsMax), many);
    expect(store.parkedCount()).toBe(parkedEventsMax);
    await store.close();

    const { store: reopened } = await PartitionStore.open(dir, 'bank.events', 3);
    expect(reopened.parkedCount()).toBe(parkedEventsMax);
    const kept = await reopened.parked();
    expect(kept).toHaveLength(parkedEventsMax);
    expect(kept[0]).toEqual(parkedAt(100 + parkedEventsMax - 1));
    expect(kept.at(-1)).toEqual(parkedAt(100));
    expect(reopened.checkpoint()?.nextOffset).toBe(BigInt(100 + parkedEventsMax));
    await reopened.wipe();
    expect([reopened.parkedCount(), await reopened.parked()]).toEqual([0, []]);
    await reopened.close();
  });
});
