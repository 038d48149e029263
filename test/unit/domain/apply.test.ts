import { describe, expect, it } from 'vitest';
import type { EventPayload } from '../../../schemas/types.ts';
import { applyDecision, decide, evolve, InvariantViolation } from '../../../processors/account/domain/index.ts';
import { A, B, cmd, commandFor, ev, given, histories as h, t0 } from './given.ts';

const now = t0 + 60_000;

describe('applyDecision', () => {
  it('numbers the first event of a new account 1', () => {
    const command = commandFor(A, cmd.open(100), 'cmd-open');
    const result = applyDecision(undefined, command, [ev.opened(100)], now);
    expect(result.events).toEqual([
      { eventId: `${A}:1`, accountId: A, sequence: 1, commandId: 'cmd-open', occurredAt: now, payload: ev.opened(100), metadata: {} },
    ]);
    expect(result.state).toMatchObject({ accountId: A, balance: 100, version: 1, openedAt: now, updatedAt: now });
  });

  it('numbers events right after the state version and folds them with evolve', () => {
    const history: EventPayload[] = [ev.opened(500), ev.deposited(100, 600), ev.withdrawn(50, 550)];
    const state = given(history);
    const command = commandFor(A, cmd.transfer(B, 50), 'cmd-4');
    const decision = decide(state, command);
    expect(decision.kind).toBe('accepted');
    if (decision.kind !== 'accepted') return;
    const result = applyDecision(state, command, decision.events, now);
    expect(result.events.map((e) => [e.eventId, e.sequence, e.commandId, e.occurredAt])).toEqual([
      [`${A}:4`, 4, 'cmd-4', now],
    ]);
    expect(result.state).toEqual(evolve(state, result.events[0]!));
    expect(result.state).toMatchObject({ balance: 500, version: 4, openedAt: t0, updatedAt: now });
  });

  it('leaves the given state untouched', () => {
    const state = given(h.open500)!;
    const copy = structuredClone(state);
    applyDecision(state, commandFor(A, cmd.deposit(1)), [ev.deposited(1, 501)], now);
    expect(state).toEqual(copy);
  });

  const misuse: { name: string; run: () => unknown }[] = [
    { name: 'no events', run: () => applyDecision(given(h.open500), commandFor(A, cmd.deposit(1)), [], now) },
    {
      name: 'more events than one command may produce',
      run: () => applyDecision(given(h.open500), commandFor(A, cmd.deposit(1)), [ev.deposited(1, 501), ev.deposited(1, 502)], now),
    },
    { name: 'the state of another account', run: () => applyDecision(given(h.open500, B), commandFor(A, cmd.deposit(1)), [ev.deposited(1, 501)], now) },
    { name: 'a fractional clock', run: () => applyDecision(given(h.open500), commandFor(A, cmd.deposit(1)), [ev.deposited(1, 501)], 0.5) },
    { name: 'an event that breaks an invariant', run: () => applyDecision(given(h.open500), commandFor(A, cmd.deposit(1)), [ev.deposited(1, 1)], now) },
  ];

  it.each(misuse)('throws InvariantViolation when given $name', ({ run }) => {
    expect(run).toThrow(InvariantViolation);
  });
});
