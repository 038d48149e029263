// The account rows a partition's store keeps in memory (the hot GET path and the fold read them),
// least recently written or read evicted first, bounded by count AND by size: a row with metadata
// at DESIGN §10's bounds is ~17 KB where a plain one is ~300 bytes, so a count alone would let the
// cache grow to gigabytes. A cache only: every row is in LevelDB, an evicted one is read back.
import type { AccountSummary } from './views/types.ts';

/** Rows per partition (about 300 bytes each, so ~60 MB for 8 partitions). */
export const accountsCachedMax = 25_000;
/** Characters of encoded rows per partition; rows without metadata reach accountsCachedMax first. */
export const accountsCachedCharsMax = 8_000_000;

export class AccountCache {
  /** In eviction order: a row set or read again moves last. `chars` is its encoded length. */
  private readonly rows = new Map<string, { row: AccountSummary; chars: number }>();
  private chars = 0;

  constructor(
    readonly rowsMax: number = accountsCachedMax,
    readonly charsMax: number = accountsCachedCharsMax,
  ) {}

  get(accountId: string): AccountSummary | undefined {
    return this.rows.get(accountId)?.row;
  }

  /** Keeps the row (its encoded form `chars` long) and evicts the oldest past either bound; the newest row always stays. */
  set(accountId: string, row: AccountSummary, chars: number): void {
    this.chars -= this.rows.get(accountId)?.chars ?? 0;
    this.rows.delete(accountId);
    this.rows.set(accountId, { row, chars });
    this.chars += chars;
    while (this.rows.size > this.rowsMax || (this.chars > this.charsMax && this.rows.size > 1)) {
      const oldest = this.rows.entries().next();
      if (oldest.done === true) break;
      this.rows.delete(oldest.value[0]);
      this.chars -= oldest.value[1].chars;
    }
  }

  clear(): void {
    this.rows.clear();
    this.chars = 0;
  }

  usage(): { rows: number; chars: number } {
    return { rows: this.rows.size, chars: this.chars };
  }
}
