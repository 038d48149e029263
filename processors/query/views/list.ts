// The account list is ordered by accountId across all partitions. Each partition returns its
// next `limit + 1` rows after the cursor; merging them and keeping `limit` gives the global
// page, and a row beyond it says there is a next page. Every account appears exactly once
// across pages because the cursor is the last accountId returned, which never changes.
import type { AccountSummary } from './types.ts';

export interface MergedPage<T> {
  items: T[];
  /** The accountId to continue after, or null when this page reaches the end. */
  lastKey: string | null;
}

/**
 * Orders strings as LevelDB orders their UTF-8 keys: by code point. JavaScript's `<` compares
 * UTF-16 units, which disagrees for characters above U+FFFF, and pages must agree with the store.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const left = a[Symbol.iterator]();
  const right = b[Symbol.iterator]();
  for (;;) {
    const x = left.next();
    const y = right.next();
    if (x.done === true || y.done === true) return x.done === true ? (y.done === true ? 0 : -1) : 1;
    const difference = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (difference !== 0) return difference;
  }
}

export function mergeAccountPages(pages: readonly (readonly AccountSummary[])[], limit: number): MergedPage<AccountSummary> {
  const merged = pages.flat().sort((a, b) => compareCodePoints(a.accountId, b.accountId));
  const items = merged.slice(0, limit);
  const last = items[items.length - 1];
  return { items, lastKey: merged.length > limit && last !== undefined ? last.accountId : null };
}
