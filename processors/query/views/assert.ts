// A broken invariant of the query side's own code (an event type the views do not know after
// the codec decoded it) stops the process (STYLE: crash rather than limp on). A bad event in the
// log is not that: it is parked (parked.ts), since the log keeps it forever.

export class ViewInvariantViolation extends Error {
  override readonly name = 'ViewInvariantViolation';
  readonly retriable = false;
}

/** One condition per assertion, so the message names exactly what broke. */
export function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ViewInvariantViolation(message);
}
