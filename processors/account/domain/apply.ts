// Turns an accepted decision into numbered, timestamped events and the state after them. The
// numbering is what makes sequences gapless: it starts right after the state's version, and the
// state is only ever advanced by folding these same events with evolve().
import type { AccountEvent, AccountState, Command, EventPayload } from '../../../schemas/types.ts';
import { metadataOf } from '../../../schemas/metadata.ts';
import { eventIdOf } from './event-id.ts';
import { evolve } from './evolve.ts';
import { assert } from './invariant.ts';
import { limits } from './limits.ts';

/**
 * Turns an accepted decision into numbered events (sequence = state.version+1, +2, ...;
 * eventId = `${accountId}:${sequence}`; occurredAt = now) and the state after them (fold with evolve).
 */
export function applyDecision(
  state: AccountState | undefined,
  command: Command,
  events: EventPayload[],
  now: number,
): { events: AccountEvent[]; state: AccountState | undefined } {
  assert(events.length >= 1, () => `command ${command.commandId}: an accepted decision has at least one event`);
  assert(
    events.length <= limits.eventsPerCommandMax,
    () => `command ${command.commandId}: ${events.length} events exceed eventsPerCommandMax ${limits.eventsPerCommandMax}`,
  );
  assert(Number.isSafeInteger(now), () => `command ${command.commandId}: now must be a safe integer`);
  if (state !== undefined) {
    assert(state.accountId === command.accountId, () => `state of ${state.accountId} given for ${command.accountId}`);
  }
  const versionBefore = state === undefined ? 0 : state.version;
  const numbered: AccountEvent[] = [];
  let current = state;
  for (const [index, payload] of events.entries()) {
    const sequence = versionBefore + index + 1;
    const event: AccountEvent = {
      eventId: eventIdOf(command.accountId, sequence),
      accountId: command.accountId,
      sequence,
      commandId: command.commandId,
      occurredAt: now,
      payload,
      // Who moved this money (DESIGN §9): the API key that sent the command, or started its saga.
      actor: command.actor,
      // What the client said about this money (DESIGN §10), on the event as on its command.
      metadata: metadataOf(command),
    };
    current = evolve(current, event);
    numbered.push(event);
  }
  return { events: numbered, state: current };
}
