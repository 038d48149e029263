// A micro-batcher in front of the producer (kafkajs has no linger.ms): concurrent requests share
// one produce request. One batch is in flight at a time, which is what an idempotent producer
// needs for ordered sequence numbers anyway; requests behind a slow batch wait in a bounded queue.
// Every add() settles within `produceTimeoutMs`: acknowledged, or an UnavailableError.
import { UnavailableError, kafkaUnavailable } from '../processors/http/errors.ts';

export interface BatcherBounds {
  /**
   * How long the first item of an idle batcher waits for company before the batch goes. 0: it goes
   * on the next turn of the event loop (setImmediate), with whatever arrived in the same turn; under
   * load batches form anyway behind the one in flight, so waiting only adds latency to a lone request.
   */
  lingerMs: number;
  /** Items per batch at most. */
  batchRecordsMax: number;
  /** Items waiting behind the in-flight batch at most; beyond it add() fails at once. */
  queuedRecordsMax: number;
  /** How long an item may wait for its acknowledgement before add() rejects. */
  produceTimeoutMs: number;
}

interface Entry<T> {
  item: T;
  settled: boolean;
  settle(error?: Error): void;
}

export type SendBatch<T> = (items: T[]) => Promise<void>;

export class MicroBatcher<T> {
  private queue: Entry<T>[] = [];
  /** Cancels the pending linger, while one is pending. */
  private lingering: (() => void) | undefined;
  private inFlightSinceMs: number | undefined;
  private closed = false;
  private drained: (() => void)[] = [];

  constructor(
    private readonly bounds: BatcherBounds,
    private readonly sendBatch: SendBatch<T>,
  ) {
    if (!(bounds.batchRecordsMax >= 1)) throw new Error('batchRecordsMax must be at least 1');
    if (!(bounds.queuedRecordsMax >= bounds.batchRecordsMax)) throw new Error('queuedRecordsMax must hold at least one batch');
  }

  add(item: T): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('the gateway is shutting down'));
    if (this.queue.length >= this.bounds.queuedRecordsMax) this.queue = this.queue.filter((e) => !e.settled);
    if (this.queue.length >= this.bounds.queuedRecordsMax) {
      return Promise.reject(
        new UnavailableError(`${this.queue.length} commands are already queued for Kafka (queuedRecordsMax); Kafka is slow or unreachable`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        entry.settle(new UnavailableError(`Kafka did not acknowledge the command within ${this.bounds.produceTimeoutMs} ms`));
      }, this.bounds.produceTimeoutMs);
      const entry: Entry<T> = {
        item,
        settled: false,
        settle(error) {
          if (entry.settled) return;
          entry.settled = true;
          clearTimeout(timer);
          if (error === undefined) resolve();
          else reject(error);
        },
      };
      this.queue.push(entry);
      this.schedule();
    });
  }

  /** Items queued behind the in-flight batch (some may have timed out already). */
  get queued(): number {
    return this.queue.length;
  }

  /** A batch has waited longer than the produce bound for its acknowledgement. */
  stalled(nowMs: number = Date.now()): boolean {
    return this.inFlightSinceMs !== undefined && nowMs - this.inFlightSinceMs > this.bounds.produceTimeoutMs;
  }

  /** Stops accepting and resolves when every queued item has been sent or has timed out. */
  close(): Promise<void> {
    this.closed = true;
    this.flush();
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private idle(): boolean {
    return this.inFlightSinceMs === undefined && this.queue.every((e) => e.settled);
  }

  private schedule(): void {
    if (this.inFlightSinceMs !== undefined) return; // the in-flight batch's completion flushes
    if (this.queue.length >= this.bounds.batchRecordsMax) {
      this.flush();
      return;
    }
    if (this.lingering !== undefined) return;
    if (this.bounds.lingerMs === 0) {
      const immediate = setImmediate(() => this.flush());
      this.lingering = () => clearImmediate(immediate);
    } else {
      const timer = setTimeout(() => this.flush(), this.bounds.lingerMs);
      this.lingering = () => clearTimeout(timer);
    }
  }

  private flush(): void {
    this.lingering?.();
    this.lingering = undefined;
    if (this.inFlightSinceMs !== undefined) return;
    // Items that timed out were answered 503 already; sending them now would only add load.
    this.queue = this.queue.filter((e) => !e.settled);
    const batch = this.queue.splice(0, this.bounds.batchRecordsMax);
    if (batch.length === 0) {
      this.notifyDrained();
      return;
    }
    this.inFlightSinceMs = Date.now();
    this.send(batch.map((e) => e.item)).then(
      () => batch.forEach((e) => e.settle()),
      (error: unknown) => {
        const failure = error instanceof UnavailableError ? error : kafkaUnavailable(error);
        batch.forEach((e) => e.settle(failure));
      },
    ).finally(() => {
      this.inFlightSinceMs = undefined;
      // Whatever queued meanwhile has waited long enough: send it without lingering again.
      this.flush();
    });
  }

  /** sendBatch as a promise, even when it throws synchronously. */
  private send(items: T[]): Promise<void> {
    try {
      return this.sendBatch(items);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private notifyDrained(): void {
    if (!this.idle()) return;
    for (const resolve of this.drained.splice(0)) resolve();
  }
}
