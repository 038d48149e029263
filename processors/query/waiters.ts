// Read-your-writes: a request with ?minVersion=N parks here until the consumer has written the
// account's row at version N or later, or until its deadline. The table is bounded twice: past
// `waitersMax` parked requests in all, or `perClientMax` from one client address, a new one is
// refused at once (the route answers 503), so neither a flood of requests for versions that never
// come nor one client holding every slot can exhaust memory or lock the others out.

export const defaultWaitersMax = 10_000;
/**
 * A client that really reads its own writes parks one request per write it waits for; a hundred
 * at once is a busy batch job, not a normal client. Many clients behind one proxy or NAT share an
 * address, hence well above 1.
 */
export const defaultWaitersPerClientMax = 100;

/** Why a new waiter would be refused: the whole table is full, or this client's share is. */
export type WaiterRefusal = 'table' | 'client';

interface Waiter {
  minVersion: number;
  client: string;
  resolve: (reached: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class VersionWaiters {
  private readonly byAccount = new Map<string, Set<Waiter>>();
  private parked = 0;
  /** Parked waiters per client; an entry is removed at 0, so it is bounded by `waitersMax`. */
  private readonly byClient = new Map<string, number>();

  constructor(
    readonly waitersMax: number = defaultWaitersMax,
    readonly perClientMax: number = defaultWaitersPerClientMax,
  ) {}

  get size(): number {
    return this.parked;
  }

  /** Whether a new waiter of `client` would be refused, and why (undefined: it would park). */
  refusal(client: string): WaiterRefusal | undefined {
    if (this.parked >= this.waitersMax) return 'table';
    if ((this.byClient.get(client) ?? 0) >= this.perClientMax) return 'client';
    return undefined;
  }

  /**
   * Resolves true once `currentVersion()` (checked after parking, so a write that lands between
   * the caller's read and this call is not missed) or a notification reaches `minVersion`;
   * false at the deadline, or at once when the table or the client's share is full.
   */
  wait(accountId: string, minVersion: number, timeoutMs: number, currentVersion: () => number, client = ''): Promise<boolean> {
    if (this.refusal(client) !== undefined) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        minVersion,
        client,
        resolve,
        timer: setTimeout(() => this.settle(accountId, waiter, false), timeoutMs),
      };
      let waiters = this.byAccount.get(accountId);
      if (waiters === undefined) {
        waiters = new Set();
        this.byAccount.set(accountId, waiters);
      }
      waiters.add(waiter);
      this.parked += 1;
      this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
      if (currentVersion() >= minVersion) this.settle(accountId, waiter, true);
    });
  }

  /** Called after a store write made `version` of the account readable. */
  notify(accountId: string, version: number): void {
    const waiters = this.byAccount.get(accountId);
    if (waiters === undefined) return;
    for (const waiter of waiters) {
      if (version >= waiter.minVersion) this.settle(accountId, waiter, true);
    }
  }

  /** Releases every parked request (they answer 503) so a shutdown does not wait out deadlines. */
  releaseAll(): void {
    for (const [accountId, waiters] of this.byAccount) {
      for (const waiter of waiters) this.settle(accountId, waiter, false);
    }
  }

  private settle(accountId: string, waiter: Waiter, reached: boolean): void {
    const waiters = this.byAccount.get(accountId);
    if (waiters === undefined || !waiters.delete(waiter)) return;
    if (waiters.size === 0) this.byAccount.delete(accountId);
    this.parked -= 1;
    const ofClient = (this.byClient.get(waiter.client) ?? 1) - 1;
    if (ofClient === 0) this.byClient.delete(waiter.client);
    else this.byClient.set(waiter.client, ofClient);
    clearTimeout(waiter.timer);
    waiter.resolve(reached);
  }
}
