// The outcome feed reports ready only once the history it rereads on start is in the table.
import { describe, expect, it } from 'vitest';
import { CatchUp } from '../../../gateway/outcomes.ts';

const at = (...offsets: number[]) => offsets.map((offset, partition) => ({ partition, offset: String(offset) }));

describe('CatchUp', () => {
  it('is done at once when no partition has history after the lookback point', () => {
    expect(new CatchUp(at(5, 0), at(5, 0)).done).toBe(true);
  });

  it('waits for every partition with history to be read up to its end at start', () => {
    const catchUp = new CatchUp(at(2, 0, 7), at(10, 0, 9));
    catchUp.observe(0, '5');
    expect(catchUp.done).toBe(false);
    catchUp.observe(0, '9');
    catchUp.observe(2, '7');
    expect(catchUp.done).toBe(false);
    // The last offset is often a transaction marker: a batch of only control records ends there.
    catchUp.observe(2, '8');
    expect(catchUp.done).toBe(true);
  });

  it('ignores partitions it does not wait for', () => {
    const catchUp = new CatchUp(at(0), at(3));
    catchUp.observe(7, '100');
    expect(catchUp.done).toBe(false);
  });
});
