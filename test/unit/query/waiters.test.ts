import { describe, expect, it } from 'vitest';
import { VersionWaiters } from '../../../processors/query/waiters.ts';

describe('version waiters', () => {
  it('a waiter is released when its version is written', async () => {
    const waiters = new VersionWaiters(10);
    const waiting = waiters.wait('a', 3, 10_000, () => 1);
    waiters.notify('a', 2);
    expect(waiters.size).toBe(1);
    waiters.notify('a', 3);
    await expect(waiting).resolves.toBe(true);
    expect(waiters.size).toBe(0);
  });

  it('a version already reached when parking releases at once (no lost wake-up)', async () => {
    const waiters = new VersionWaiters(10);
    await expect(waiters.wait('a', 3, 10_000, () => 3)).resolves.toBe(true);
    expect(waiters.size).toBe(0);
  });

  it('a waiter gives up at its deadline', async () => {
    const waiters = new VersionWaiters(10);
    await expect(waiters.wait('a', 3, 20, () => 0)).resolves.toBe(false);
    expect(waiters.size).toBe(0);
  });

  it('past the bound a new waiter is refused at once', async () => {
    const waiters = new VersionWaiters(2);
    const parked = [waiters.wait('a', 9, 10_000, () => 0), waiters.wait('b', 9, 10_000, () => 0)];
    await expect(waiters.wait('c', 1, 10_000, () => 0)).resolves.toBe(false);
    waiters.releaseAll();
    await expect(Promise.all(parked)).resolves.toEqual([false, false]);
    expect(waiters.size).toBe(0);
  });

  it('notifying another account releases nobody', () => {
    const waiters = new VersionWaiters(10);
    void waiters.wait('a', 1, 10_000, () => 0);
    waiters.notify('b', 100);
    expect(waiters.size).toBe(1);
    waiters.releaseAll();
  });

  it('past the per-client bound a client is refused at once; other clients and freed slots are not', async () => {
    const waiters = new VersionWaiters(10, 2);
    const first = waiters.wait('a', 9, 10_000, () => 0, 'client-1');
    void waiters.wait('b', 9, 10_000, () => 0, 'client-1');
    expect(waiters.refusal('client-1')).toBe('client');
    expect(waiters.refusal('client-2')).toBeUndefined();
    await expect(waiters.wait('c', 9, 10_000, () => 0, 'client-1')).resolves.toBe(false);
    waiters.notify('a', 9);
    await expect(first).resolves.toBe(true);
    expect(waiters.refusal('client-1')).toBeUndefined();
    waiters.releaseAll();
    expect(waiters.size).toBe(0);
  });

  it('the table as a whole stays bounded too', () => {
    const waiters = new VersionWaiters(2, 2);
    void waiters.wait('a', 9, 10_000, () => 0, 'client-1');
    void waiters.wait('a', 9, 10_000, () => 0, 'client-2');
    expect(waiters.refusal('client-3')).toBe('table');
    waiters.releaseAll();
  });
});
