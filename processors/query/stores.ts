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

export const unavailable = Symbol('unavailable');
export type Unavailable = typeof unavailable;

/** The reads the HTTP routes make; tests can serve them from anything. */
export interface ViewReader {
  account(accountId: string): AccountSummary | undefined | Unavailable;
  /** Up to `limit` entries of an account at `version`, newest first, below sequence `before` (all when null). */
  history(accountId: string, version: number, before: number | null, limit: number): Promise<HistoryEntry[] | Unavailable>;
  accounts(after: string | null, limit: number): Promise<MergedPage<AccountSummary>>;
  transfer(transferId: string): Promise<TransferView | undefined>;
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

  async transfer(transferId: string): Promise<TransferView | undefined> {
    const perPartition = await Promise.all(this.readableStores().map((store) => store.transferFacts(transferId)));
    const facts: TransferFacts = Object.assign({}, ...perPartition);
    return transferView(facts);
  }
}
