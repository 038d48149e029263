// Read-your-writes: a request with ?minVersion=N parks here until the consumer has written the
// account's row at version N or later, or until its deadline. The table is bounded: past
// `waitersMax` parked requests a new one is refused at once (the route answers 503), so a flood
// of requests for versions that never come cannot exhaust memory.

export const defaultWaitersMax = 10_000;

interface Waiter {
  minVersion: number;
  resolve: (reached: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class VersionWaiters {
  private readonly byAccount = new Map<string, Set<Waiter>>();
  private parked = 0;

  constructor(readonly waitersMax: number = defaultWaitersMax) {}

  get size(): number {
    return this.parked;
  }

  /**
   * Resolves true once `currentVersion()` (checked after parking, so a write that lands between
   * the caller's read and this call is not missed) or a notification reaches `minVersion`;
   * false at the deadline, or at once when the table is full.
   */
  wait(accountId: string, minVersion: number, timeoutMs: number, currentVersion: () => number): Promise<boolean> {
    if (this.parked >= this.waitersMax) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        minVersion,
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
    clearTimeout(waiter.timer);
    waiter.resolve(reached);
  }
}
