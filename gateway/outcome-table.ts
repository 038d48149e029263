// The gateway's memory of outcomes and of the requests waiting for them. One implementation for
// every feed: the Kafka consumer (outcomes.ts) and unit tests both call `accept()`; routes call
// `get`/`expect`. Everything is bounded: an LRU of remembered outcomes and a capped waiter table.
import type { CommandOutcome } from '../schemas/types.ts';
import { UnavailableError } from './errors.ts';
import type { Expectation, OutcomeSource, ReceivedOutcome } from './ports.ts';

export interface OutcomeTableBounds {
  outcomesRememberedMax: number;
  pendingRequestsMax: number;
}

interface Waiter {
  commandId: string;
  fingerprint: string | undefined;
  settle(received: ReceivedOutcome | undefined): void;
}

const keyReused = 'IDEMPOTENCY_KEY_REUSED';

export class OutcomeTable implements OutcomeSource {
  /** commandId → original outcome, in least-recently-used-first order (Map keeps insertion order). */
  private readonly remembered = new Map<string, CommandOutcome>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private waiting = 0;
  /** Set by the feed: true while outcomes flow in. */
  feedRunning = false;

  constructor(readonly bounds: OutcomeTableBounds) {
    if (!(bounds.outcomesRememberedMax >= 1)) throw new Error('outcomesRememberedMax must be at least 1');
    if (!(bounds.pendingRequestsMax >= 1)) throw new Error('pendingRequestsMax must be at least 1');
  }

  ready(): boolean {
    return this.feedRunning;
  }

  get size(): { remembered: number; waiting: number } {
    return { remembered: this.remembered.size, waiting: this.waiting };
  }

  get(commandId: string): CommandOutcome | undefined {
    const outcome = this.remembered.get(commandId);
    if (outcome !== undefined) this.touch(commandId, outcome);
    return outcome;
  }

  /** Feeds one outcome, as read from `<prefix>outcomes` (or as a test scripts it). Idempotent. */
  accept(outcome: CommandOutcome, options: { replayed?: boolean } = {}): void {
    // A key-reuse refusal answers one later request; it is not the command's outcome and must
    // never replace the original (the processor keys it `<commandId>#<fingerprint>` for the same reason).
    if (outcome.code !== keyReused) this.touch(outcome.commandId, outcome);
    const waiters = this.waiters.get(outcome.commandId);
    if (waiters === undefined) return;
    const received: ReceivedOutcome = { outcome, replayed: options.replayed ?? false };
    for (const waiter of [...waiters]) {
      if (answers(outcome, waiter.fingerprint)) waiter.settle(received);
    }
  }

  expect(commandId: string, fingerprint: string | undefined, timeoutMs: number): Expectation {
    const known = this.get(commandId);
    if (known !== undefined && answers(known, fingerprint)) {
      return { result: Promise.resolve({ outcome: known, replayed: true }), cancel: () => {} };
    }
    if (this.waiting >= this.bounds.pendingRequestsMax) {
      throw new UnavailableError(
        `the gateway is waiting for ${this.waiting} outcomes already (pendingRequestsMax=${this.bounds.pendingRequestsMax}); retry shortly`,
      );
    }
    let waiter!: Waiter;
    const result = new Promise<ReceivedOutcome | undefined>((resolve) => {
      // Settles once: by an outcome, by the timeout or by cancel(), whichever comes first.
      const timer = setTimeout(() => waiter.settle(undefined), Math.max(0, timeoutMs));
      waiter = {
        commandId,
        fingerprint,
        settle: (received) => {
          clearTimeout(timer);
          if (this.remove(waiter)) resolve(received);
        },
      };
      this.add(waiter);
    });
    return { result, cancel: () => waiter.settle(undefined) };
  }

  wait(commandId: string, fingerprint: string | undefined, timeoutMs: number): Promise<ReceivedOutcome | undefined> {
    return this.expect(commandId, fingerprint, timeoutMs).result;
  }

  /** Releases every waiter (shutdown): their requests answer 202 pending. */
  releaseAll(): void {
    for (const waiters of [...this.waiters.values()]) for (const waiter of [...waiters]) waiter.settle(undefined);
  }

  private touch(commandId: string, outcome: CommandOutcome): void {
    this.remembered.delete(commandId);
    this.remembered.set(commandId, outcome);
    if (this.remembered.size > this.bounds.outcomesRememberedMax) {
      const oldest = this.remembered.keys().next();
      if (!oldest.done) this.remembered.delete(oldest.value);
    }
  }

  private add(waiter: Waiter): void {
    let waiters = this.waiters.get(waiter.commandId);
    if (waiters === undefined) {
      waiters = new Set();
      this.waiters.set(waiter.commandId, waiters);
    }
    waiters.add(waiter);
    this.waiting += 1;
  }

  /** True when the waiter was still registered (each waiter settles once). */
  private remove(waiter: Waiter): boolean {
    const waiters = this.waiters.get(waiter.commandId);
    if (waiters === undefined || !waiters.delete(waiter)) return false;
    if (waiters.size === 0) this.waiters.delete(waiter.commandId);
    this.waiting -= 1;
    if (this.waiting < 0) throw new Error('invariant: the waiter count went below zero');
    return true;
  }
}

/**
 * Whether `outcome` answers a request with `fingerprint`: its own outcome (same fingerprint), or
 * the original outcome of the command under another meaning (the route answers 409). A key-reuse
 * refusal carrying another request's fingerprint is that request's answer, not ours.
 */
function answers(outcome: CommandOutcome, fingerprint: string | undefined): boolean {
  if (fingerprint === undefined || outcome.fingerprint === fingerprint) return true;
  return outcome.code !== keyReused;
}
