// The pure domain core of the account processor: no I/O, no Kafka, no clock. The processing loop
// validates a decoded command, decides, applies the accepted events and sends the follow-ups.
export { decide } from './decide.ts';
export type { Decision, FollowUp } from './decision.ts';
export { applyDecision } from './apply.ts';
export { evolve } from './evolve.ts';
export { eventIdOf } from './event-id.ts';
export { InvariantViolation } from './invariant.ts';
export { limits } from './limits.ts';
export { validateCommand } from './validate.ts';
export type { HoldContext, HoldView } from './holds.ts';
export type { PostingView } from './reversals.ts';
export type { DecideContext } from './decide.ts';
