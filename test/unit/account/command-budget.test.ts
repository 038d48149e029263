import { describe, expect, it } from 'vitest';
import { CommandBudget } from '../../../processors/account/command-budget.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CommandBudget: commands in flight across an instance’s partitions', () => {
  it('admits chunks while they fit and holds the next until room is given back', async () => {
    const budget = new CommandBudget(100);
    const a = await budget.acquire(60);
    const b = await budget.acquire(40);
    expect(budget.inFlight).toBe(100);
    let admitted = false;
    const c = budget.acquire(10).then((release) => ((admitted = true), release));
    await tick();
    expect(admitted).toBe(false);
    a();
    expect((await c, admitted)).toBe(true);
    expect(budget.inFlight).toBe(50);
    b();
    (await c)();
    expect(budget.inFlight).toBe(0);
  });

  it('serves waiters first come, first served: a small chunk does not overtake a large one waiting', async () => {
    const budget = new CommandBudget(100);
    const first = await budget.acquire(90);
    const order: string[] = [];
    const large = budget.acquire(80).then((release) => (order.push('large'), release));
    const small = budget.acquire(5).then((release) => (order.push('small'), release));
    await tick();
    // 5 would fit now (90 + 5 ≤ 100), but the large chunk asked first.
    expect(order).toEqual([]);
    first();
    await Promise.all([large, small]);
    expect(order).toEqual(['large', 'small']);
    expect(budget.inFlight).toBe(85);
  });

  it('a chunk larger than the whole budget runs alone instead of waiting forever', async () => {
    const budget = new CommandBudget(100);
    const small = await budget.acquire(10);
    let admitted = false;
    const huge = budget.acquire(500).then((release) => ((admitted = true), release));
    await tick();
    expect(admitted).toBe(false);
    small();
    (await huge)();
    expect(admitted).toBe(true);
    expect(budget.inFlight).toBe(0);
  });

  it('giving back twice gives back once', async () => {
    const budget = new CommandBudget(100);
    const release = await budget.acquire(30);
    await budget.acquire(20);
    release();
    release();
    expect(budget.inFlight).toBe(20);
  });
});
