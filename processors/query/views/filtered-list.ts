// A page of the filtered account list from every partition's index scan. Each partition scanned
// its index in sort-key order up to a budget; a partition that stopped early has seen nothing
// past its `scannedThrough`, so no row beyond the smallest such point may be shown (another
// partition could hold an unseen match before it). The page is what every partition has seen,
// and the next page continues after it: no match is skipped or repeated, though a page of a very
// selective filter may be short, or even empty with a next cursor.
import type { AccountSummary } from './types.ts';
import { compareCodePoints } from './list.ts';

export interface FilteredScan {
  /** Rows the filter kept, in sort-key order. */
  matches: Array<{ sortKey: string; row: AccountSummary }>;
  /** The last sort key read when the scan stopped early (limit + 1 kept, or its budget spent); null at the end of the index. */
  scannedThrough: string | null;
}

export interface FilteredPage {
  items: AccountSummary[];
  /** The sort key to continue after, or null when the page reaches the end of every partition's index. */
  lastKey: string | null;
}

export function mergeFilteredScans(scans: readonly FilteredScan[], limit: number): FilteredPage {
  let horizon: string | null = null;
  for (const { scannedThrough } of scans) {
    if (scannedThrough !== null && (horizon === null || compareCodePoints(scannedThrough, horizon) < 0)) horizon = scannedThrough;
  }
  const seen = scans
    .flatMap((s) => s.matches)
    .filter((m) => horizon === null || compareCodePoints(m.sortKey, horizon) <= 0)
    .sort((a, b) => compareCodePoints(a.sortKey, b.sortKey));
  const page = seen.slice(0, limit);
  const last = page[page.length - 1];
  if (seen.length > limit && last !== undefined) return { items: page.map((m) => m.row), lastKey: last.sortKey };
  return { items: page.map((m) => m.row), lastKey: horizon };
}
