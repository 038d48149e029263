// The gateway's memory of outcomes and of the requests waiting for them. One implementation for
// every feed: the Kafka consumer (outcomes.ts) and unit tests both call `accept()`; routes call
// `get`/`expect`. Everything is bounded: an LRU of remembered outcomes and a capped waiter table.
import type { CommandOutcome } from '../schemas/types.ts';
import { UnavailableError } from '../processors/http/errors.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Expectation, OutcomeSource, ReceivedOutcome } from './ports.ts';
import type { OutcomeTiming } from './server-timing.ts';

export interface OutcomeTableBounds {
  outcomesRememberedMax: number;
  pendingRequestsMax: number;
}

/**
 * One request waiting for one command's outcome. Settles once: by an outcome, by the timeout or
 * by cancel(), whichever comes first. A class, not closures: one of these is made per request.
 */
class Waiter implements Expectation {
  readonly result: Promise<ReceivedOutcome | undefined>;
  private resolve!: (received: ReceivedOutcome | undefined) => void;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly commandId: string,
    readonly fingerprint: string | undefined,
    timeoutMs: number,
    /** Unregisters the waiter; false when it was not registered (settled already). */
    private readonly release: (waiter: Waiter) => boolean,
  ) {
    this.result = new Promise((resolve) => {
      this.resolve = resolve;
    });
    this.timer = setTimeout(settleUnanswered, Math.max(0, timeoutMs), this);
  }

  settle(received: ReceivedOutcome | undefined): void {
    clearTimeout(this.timer);
    if (this.release(this)) this.resolve(received);
  }

  cancel(): void {
    this.settle(undefined);
  }
}

const settleUnanswered = (waiter: Waiter): void => waiter.settle(undefined);

const keyReused = 'IDEMPOTENCY_KEY_REUSED';

export class OutcomeTable implements OutcomeSource {
  /** commandId → original outcome, in least-recently-used-first order (Map keeps insertion order). */
  private readonly remembered = new Map<string, CommandOutcome>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private waiting = 0;
  /** Set by the feed: true while outcomes flow in. */
  feedRunning = false;
  private readonly release = (waiter: Waiter): boolean => this.remove(waiter);

  constructor(
    readonly bounds: OutcomeTableBounds,
    private readonly metrics?: GatewayMetrics,
  ) {
    if (!(bounds.outcomesRememberedMax >= 1)) throw new Error('outcomesRememberedMax must be at least 1');
    if (!(bounds.pendingRequestsMax >= 1)) throw new Error('pendingRequestsMax must be at least 1');
    metrics?.gauge('gateway_pending_waiters', 'Requests waiting for an outcome (bounded by pendingRequestsMax)', () => this.waiting);
    metrics?.gauge('gateway_outcomes_remembered', 'Outcomes remembered for replays and GET /commands (bounded by outcomesRememberedMax)', () => this.remembered.size);
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
  accept(outcome: CommandOutcome, options: { replayed?: boolean; timing?: OutcomeTiming } = {}): void {
    if (this.metrics !== undefined) {
      this.metrics.outcomes.inc([outcome.status, outcome.code ?? 'none']);
      // History reread at start would only say how old it is.
      if (this.feedRunning) this.metrics.outcomeReadDelaySeconds.observe([], Math.max(0, Date.now() - outcome.processedAt) / 1000);
    }
    // A key-reuse refusal answers one later request; it is not the command's outcome and must
    // never replace the original (the processor keys it `<commandId>#<fingerprint>` for the same reason).
    if (outcome.code !== keyReused) this.touch(outcome.commandId, outcome);
    const waiters = this.waiters.get(outcome.commandId);
    if (waiters === undefined) return;
    const received: ReceivedOutcome = { outcome, replayed: options.replayed ?? false, ...(options.timing === undefined ? {} : { timing: options.timing }) };
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
    const waiter = new Waiter(commandId, fingerprint, timeoutMs, this.release);
    this.add(waiter);
    return waiter;
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
