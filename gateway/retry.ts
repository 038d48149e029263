// Reconnecting without end, but politely: exponential backoff with jitter under a named cap, each
// failure logged. Used for startup, for the producer after a fatal error and for the consumer
// after a crash kafkajs will not restart itself.
import type { Log } from './ports.ts';

/** Attempts back off up to this; the gateway keeps trying until Kafka answers or it shuts down. */
export const reconnectBackoffMaxMs = 5000;
const reconnectBackoffInitialMs = 100;

/** Exponential backoff with half jitter, capped at reconnectBackoffMaxMs. */
export function backoffMs(attempt: number): number {
  const ceiling = Math.min(reconnectBackoffMaxMs, reconnectBackoffInitialMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/**
 * Runs `attempt` until it resolves (true) or `stopped()` says to give up (false). An error that
 * `fatal` picks out (a wrong topic layout, say) is not retried: it is thrown.
 */
export async function retryUntilDone(
  what: string,
  attempt: () => Promise<void>,
  options: { log: Log; stopped: () => boolean; fatal?: (error: unknown) => boolean },
): Promise<boolean> {
  for (let failures = 0; !options.stopped(); failures += 1) {
    try {
      await attempt();
      return true;
    } catch (error) {
      if (options.fatal?.(error) === true) throw error;
      const delayMs = backoffMs(failures);
      options.log.warn({ err: error, attempt: failures + 1, delayMs }, `${what} failed; retrying`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
  return false;
}
