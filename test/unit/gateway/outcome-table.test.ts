// The outcome table is bounded both ways (remembered outcomes, waiting requests) and matches
// outcomes to waiters by commandId and fingerprint, whatever feeds it.
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../../processors/http/errors.ts';
import { OutcomeTable } from '../../../gateway/outcome-table.ts';
import type { CommandOutcome } from '../../../schemas/types.ts';

function outcome(commandId: string, fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return {
    commandId,
    accountId: 'acc',
    status: 'ACCEPTED',
    code: null,
    message: null,
    fingerprint: 'fp',
    version: 1,
    balance: 0,
    transferId: null,
    eventSequences: [1],
    processedAt: 0,
    transferStatus: null,
    transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null,
    ...fields,
  };
}

const table = (outcomesRememberedMax = 10, pendingRequestsMax = 10) => new OutcomeTable({ outcomesRememberedMax, pendingRequestsMax });

describe('OutcomeTable', () => {
  it('forgets the least recently used outcome beyond outcomesRememberedMax', () => {
    const t = table(2);
    t.accept(outcome('a'));
    t.accept(outcome('b'));
    t.get('a'); // a is now the most recently used
    t.accept(outcome('c'));
    expect(t.get('a')).toBeDefined();
    expect(t.get('b')).toBeUndefined();
    expect(t.get('c')).toBeDefined();
    expect(t.size.remembered).toBe(2);
  });

  it('resolves a waiter with its outcome and frees its slot', async () => {
    const t = table();
    const waiting = t.wait('a', 'fp', 1000);
    expect(t.size.waiting).toBe(1);
    t.accept(outcome('a', { balance: 5 }), { replayed: true });
    await expect(waiting).resolves.toMatchObject({ outcome: { balance: 5 }, replayed: true });
    expect(t.size.waiting).toBe(0);
  });

  it('resolves every waiter of the same command', async () => {
    const t = table();
    const both = [t.wait('a', 'fp', 1000), t.wait('a', 'fp', 1000)];
    t.accept(outcome('a'));
    expect((await Promise.all(both)).map((r) => r?.outcome.commandId)).toEqual(['a', 'a']);
  });

  it('answers at once from memory when the outcome is already known', async () => {
    const t = table();
    t.accept(outcome('a'));
    await expect(t.wait('a', undefined, 1000)).resolves.toMatchObject({ replayed: true });
    expect(t.size.waiting).toBe(0);
  });

  it('resolves undefined after the timeout and frees the slot', async () => {
    const t = table();
    await expect(t.wait('a', 'fp', 5)).resolves.toBeUndefined();
    expect(t.size.waiting).toBe(0);
  });

  it('refuses a waiter beyond pendingRequestsMax with UnavailableError; cancel frees a slot', async () => {
    const t = table(10, 1);
    const first = t.expect('a', 'fp', 1000);
    expect(() => t.expect('b', 'fp', 1000)).toThrow(UnavailableError);
    first.cancel();
    await expect(first.result).resolves.toBeUndefined();
    const second = t.expect('b', 'fp', 1000);
    second.cancel();
  });

  it('never remembers a key-reuse refusal in place of the original outcome', () => {
    const t = table();
    t.accept(outcome('a', { fingerprint: 'original' }));
    t.accept(outcome('a', { status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED', fingerprint: 'other' }));
    expect(t.get('a')?.fingerprint).toBe('original');
  });

  it('gives a waiter the original of another meaning, but not a refusal meant for another request', async () => {
    const t = table();
    const waiting = t.wait('a', 'mine', 1000);
    t.accept(outcome('a', { status: 'REJECTED', code: 'IDEMPOTENCY_KEY_REUSED', fingerprint: 'theirs' }));
    expect(t.size.waiting).toBe(1);
    t.accept(outcome('a', { fingerprint: 'original' }));
    await expect(waiting).resolves.toMatchObject({ outcome: { fingerprint: 'original' } });
  });

  it('releases every waiter on shutdown', async () => {
    const t = table();
    const waiting = [t.wait('a', 'fp', 10_000), t.wait('b', 'fp', 10_000)];
    t.releaseAll();
    await expect(Promise.all(waiting)).resolves.toEqual([undefined, undefined]);
    expect(t.size.waiting).toBe(0);
  });
});
