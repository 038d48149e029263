// A broken invariant of the event log (a gap in an account's sequences, a balance that does not
// add up) is corruption or a bug upstream. The query processor stops on it rather than serve
// views built on it; it restarts from its committed offsets (STYLE: crash rather than limp on).

export class ViewInvariantViolation extends Error {
  override readonly name = 'ViewInvariantViolation';
  readonly retriable = false;
}

/** One condition per assertion, so the message names exactly what broke. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ViewInvariantViolation(message);
}
