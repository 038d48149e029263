import { describe, expect, it } from 'vitest';
import { compareCodePoints, mergeAccountPages, type AccountSummary } from '../../../processors/query/views/index.ts';

const row = (accountId: string): AccountSummary => ({
  accountId, ownerName: 'x', currency: 'EUR', balance: 0, status: 'OPEN', version: 1, openedAt: 0, updatedAt: 0, heldBalance: 0, overdraftLimit: 0, metadata: {},
});

describe('account list pages', () => {
  it('merges partitions in accountId order and says where to continue', () => {
    const page = mergeAccountPages([[row('a'), row('d'), row('e')], [row('b'), row('c')], []], 3);
    expect(page.items.map((r) => r.accountId)).toEqual(['a', 'b', 'c']);
    expect(page.lastKey).toBe('c');
  });

  it('the last page has no continuation', () => {
    expect(mergeAccountPages([[row('a')], [row('b')]], 2)).toEqual({ items: [row('a'), row('b')], lastKey: null });
    expect(mergeAccountPages([[], []], 5)).toEqual({ items: [], lastKey: null });
  });

  it('orders by code point, as LevelDB orders UTF-8 keys', () => {
    // U+FFFD sorts before U+1F600 by code point, but after its UTF-16 surrogate by `<`.
    expect(compareCodePoints('\uFFFD', '\u{1F600}')).toBeLessThan(0);
    expect('\uFFFD' < '\u{1F600}').toBe(false);
    expect(compareCodePoints('ab', 'abc')).toBeLessThan(0);
    expect(compareCodePoints('b', 'abc')).toBeGreaterThan(0);
    expect(compareCodePoints('same', 'same')).toBe(0);
  });
});
