// The query processor's view stores, one per assigned partition, and the reads that span them.
// Account reads go to the one partition that holds the account (Kafka's default partitioner on
// the accountId, DESIGN §2); the account list and transfers combine every open partition at
// read time, so no write ever touches two partitions. A partition whose store is closed (not
// assigned here) or being wiped is "unavailable", never "not found".
import { join } from 'node:path';
import { createPartitionOf } from '../../topics/partitioner.ts';
import { PartitionStore, type OpenedStore } from './store.ts';
import { mergeAccountPages, transferView, type MergedPage } from './views/index.ts';
import type { AccountSummary, HistoryEntry, TransferFacts, TransferView } from './views/types.ts';
import type { ParkedEvent } from './views/parked.ts';
import { mergeFilteredScans, type FilteredPage } from './views/filtered-list.ts';
import type { IndexScan, StoreReads } from './store-reads.ts';
import type { AccountFilter } from './filters.ts';
import { escaped, fieldPrefix, metadataOf, namePrefix } from './keys.ts';

/**
 * Index keys one partition reads for one page of a filtered account list. A filter that matches
 * few of its driving index's keys returns a short page with a cursor rather than read on: a page
 * costs at most this many keys per partition, whatever the filters.
 */
export const accountFilterScanKeysMax = 5000;

export const unavailable = Symbol('unavailable');
export type Unavailable = typeof unavailable;

/** The reads the HTTP routes make; tests can serve them from anything. */
export interface ViewReader {
  account(accountId: string): AccountSummary | undefined | Unavailable;
  /** Up to `limit` entries of an account at `version`, newest first, below sequence `before` (all when null). */
  history(accountId: string, version: number, before: number | null, limit: number): Promise<HistoryEntry[] | Unavailable>;
  accounts(after: string | null, limit: number): Promise<MergedPage<AccountSummary>>;
  transfer(transferId: string): Promise<TransferView | undefined>;
  /** A page of accounts that match every filter, in the order of the index the filter drives (see indexScanFor). */
  filteredAccounts(filter: AccountFilter, after: string | null, limit: number): Promise<FilteredPage>;
  /** The indexed reads of the partition holding the account. */
  reads(accountId: string): StoreReads | Unavailable;
}

/**
 * The index a filtered list scans: the owner-name prefix when given (ordered by name, then id),
 * else the first metadata filter, the currency or the status (ordered by id). The other filters
 * are checked on the rows the scan reads.
 */
export function indexScanFor(filter: AccountFilter): IndexScan {
  if (filter.ownerNamePrefix !== undefined) return { prefix: namePrefix + escaped(filter.ownerNamePrefix), sortBase: namePrefix };
  const [metadata] = filter.metadata;
  const prefix =
    metadata !== undefined ? fieldPrefix(`metadata.${metadata[0]}`, metadata[1])
    : filter.currency !== undefined ? fieldPrefix('currency', filter.currency)
    : fieldPrefix('status', filter.status ?? 'OPEN');
  return { prefix, sortBase: prefix };
}

export function accountMatches(filter: AccountFilter, row: AccountSummary): boolean {
  if (filter.ownerNamePrefix !== undefined && !row.ownerName.toLowerCase().startsWith(filter.ownerNamePrefix)) return false;
  if (filter.status !== undefined && row.status !== filter.status) return false;
  if (filter.currency !== undefined && row.currency !== filter.currency) return false;
  const metadata = metadataOf(row);
  return filter.metadata.every(([key, value]) => metadata[key] === value);
}

// The partitioner lives with the topics; re-exported for the callers that import it from here.
export { createPartitionOf, partitionsRememberedMax } from '../../topics/partitioner.ts';

export class ViewStores implements ViewReader {
  readonly root: string;
  readonly partitionOf: (accountId: string) => number;
  private readonly open = new Map<number, PartitionStore>();
  /** Partitions whose store is open but being wiped: reads must not see them. */
  private readonly wiping = new Set<number>();

  constructor(dataDir: string, readonly topic: string, readonly partitions: number) {
    this.root = join(dataDir, 'query');
    this.partitionOf = createPartitionOf(partitions);
  }

  async openPartition(partition: number): Promise<OpenedStore> {
    const existing = this.open.get(partition);
    if (existing !== undefined) return { store: existing, problem: null };
    const opened = await PartitionStore.open(this.root, this.topic, partition);
    this.open.set(partition, opened.store);
    return opened;
  }

  async wipePartition(partition: number): Promise<void> {
    const store = this.open.get(partition);
    if (store === undefined) return;
    this.wiping.add(partition);
    try {
      await store.wipe();
    } finally {
      this.wiping.delete(partition);
    }
  }

  store(partition: number): PartitionStore | undefined {
    return this.open.get(partition);
  }

  async closePartition(partition: number): Promise<void> {
    const store = this.open.get(partition);
    this.open.delete(partition);
    await store?.close();
  }

  async closeAll(): Promise<void> {
    for (const partition of [...this.open.keys()]) await this.closePartition(partition);
  }

  /** Parked events kept per open partition store, for the metrics. */
  parkedCounts(): Array<[number, number]> {
    return [...this.open.entries()].sort(([a], [b]) => a - b).map(([partition, store]) => [partition, store.parkedCount()]);
  }

  /** The parked events kept by the open stores, newest first within each partition. */
  async parked(): Promise<ParkedEvent[]> {
    return (await Promise.all([...this.open.values()].map((store) => store.parked()))).flat();
  }

  private readable(partition: number): PartitionStore | undefined {
    return this.wiping.has(partition) ? undefined : this.open.get(partition);
  }

  private readableStores(): PartitionStore[] {
    return [...this.open.keys()].flatMap((p) => this.readable(p) ?? []);
  }

  account(accountId: string): AccountSummary | undefined | Unavailable {
    const store = this.readable(this.partitionOf(accountId));
    return store === undefined ? unavailable : store.account(accountId);
  }

  async history(accountId: string, version: number, before: number | null, limit: number): Promise<HistoryEntry[] | Unavailable> {
    const store = this.readable(this.partitionOf(accountId));
    if (store === undefined) return unavailable;
    const newest = before === null ? version : Math.min(before - 1, version);
    if (newest < 1) return [];
    return (await store.history(accountId, newest, limit)) ?? unavailable;
  }

  async accounts(after: string | null, limit: number): Promise<MergedPage<AccountSummary>> {
    const pages = await Promise.all(this.readableStores().map((store) => store.accountsAfter(after, limit + 1)));
    return mergeAccountPages(pages, limit);
  }

  async filteredAccounts(filter: AccountFilter, after: string | null, limit: number): Promise<FilteredPage> {
    const scan = indexScanFor(filter);
    const budget = Math.max(accountFilterScanKeysMax, limit + 1);
    const scans = await Promise.all(this.readableStores().map((store) => store.reads.scanAccounts(scan, after, limit, budget, (row) => accountMatches(filter, row))));
    return mergeFilteredScans(scans, limit);
  }

  reads(accountId: string): StoreReads | Unavailable {
    return this.readable(this.partitionOf(accountId))?.reads ?? unavailable;
  }

  async transfer(transferId: string): Promise<TransferView | undefined> {
    const perPartition = await Promise.all(this.readableStores().map((store) => store.transferFacts(transferId)));
    const facts: TransferFacts = Object.assign({}, ...perPartition);
    return transferView(facts);
  }
}
