// A broken invariant is a bug or corrupted input, never a business refusal: it throws and stops
// the processor, which restarts from its committed offsets (STYLE: crash rather than limp on).

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

/**
 * One condition per assertion, so the message names exactly what broke. The message is a
 * function, called only when the condition fails: these run for every event and command, and
 * building their text (numbers formatted, an event id hashed again) cost more than the checks.
 */
export function assert(condition: boolean, message: () => string): asserts condition {
  if (!condition) throw new InvariantViolation(message());
}
