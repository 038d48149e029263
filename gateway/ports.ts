// What the HTTP routes need from Kafka, as two small interfaces: the Kafka adapters implement them
// in production, in-memory ones in unit tests (buildApp(deps).inject(), no broker).
import type { OutcomeTiming } from './server-timing.ts';
import type { Command, CommandOutcome } from '../schemas/types.ts';

export interface CommandSink {
  /**
   * Resolves once Kafka acknowledged the command (acks=all). Rejects with an UnavailableError
   * (retriable) when Kafka cannot take it within the produce bound; the command may still land.
   */
  send(command: Command): Promise<void>;
  /** The producer is connected and not stuck behind an unacknowledged produce. */
  ready(): boolean;
}

export interface ReceivedOutcome {
  outcome: CommandOutcome;
  /** The command had been processed before: a re-emitted outcome or one answered from memory. */
  replayed: boolean;
  /** When it was taken up, sent and read (outcomes read from the topic only). */
  timing?: OutcomeTiming;
}

/** A registered wait for one command's outcome. Register before sending, so no outcome is missed. */
export interface Expectation {
  /** The outcome, or undefined when the timeout passed (or the wait was cancelled). */
  readonly result: Promise<ReceivedOutcome | undefined>;
  /** Frees the wait's slot at once (the send failed); `result` resolves undefined. */
  cancel(): void;
}

export interface OutcomeSource {
  /** The remembered outcome of a command (the original, never a key-reuse refusal). */
  get(commandId: string): CommandOutcome | undefined;
  /**
   * Waits for the outcome of `commandId`. With a fingerprint, accepts an outcome carrying the same
   * fingerprint, or the original outcome of a different request (the caller answers 409); it
   * ignores key-reuse refusals addressed to other requests. Without one, accepts any outcome.
   * Throws an UnavailableError at once when too many requests are waiting.
   */
  expect(commandId: string, fingerprint: string | undefined, timeoutMs: number): Expectation;
  /** `expect(...).result`, for callers that never need to cancel. */
  wait(commandId: string, fingerprint: string | undefined, timeoutMs: number): Promise<ReceivedOutcome | undefined>;
  /** The feed of outcomes is running, so `get` misses mean "unknown", not "not loaded yet". */
  ready(): boolean;
}

/** The slice of a pino logger the adapters use (fastify's `app.log` fits). */
export interface Log {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };
