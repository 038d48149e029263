// An ExpireHold is asked by the instance that owned the partition, by its clock; after a rebalance
// another instance, whose clock may be behind, decides it. Its id derives from the HoldPlaced event
// (schemas/ids.ts), so whatever the first decision was is replayed for every later ask: a refusal
// ("not expired yet") would keep the hold active until the outcome left the window — a day, not
// DESIGN §10's 60 s. Found by the fault campaign's clock skew (processor-3 runs ahead). Also an
// expiry and a capture of one hold in the same batch: whichever comes first wins, the other is refused.
import { describe, expect, it } from 'vitest';
import { processBatch, type BatchLookups, type DecodedRecord } from '../../../processors/account/batch.ts';
import { expireCommandId } from '../../../schemas/ids.ts';
import type { AccountState, Command, CommandOutcome, CommandPayload } from '../../../schemas/types.ts';

const t0 = 1_700_000_000_000;
const A = 'account-a';
const second = 1000;

/** A ledger of one partition whose batches run at the times the test gives. */
function partition() {
  const states = new Map<string, AccountState>();
  const outcomes = new Map<string, CommandOutcome>();
  const lookups: BatchLookups = {
    state: (id) => states.get(id),
    outcome: (id) => outcomes.get(id),
    initiation: (id) => [...outcomes.values()].find((o) => o.transferId === id && o.transferStatus !== null),
    hold: (id) => [...outcomes.values()].find((o) => o.holdId === id && o.holdStatus !== null),
  };
  let offset = 0;
  return (nowMs: number, ...commands: Command[]) => {
    const records: DecodedRecord[] = commands.map((c) => ({ kind: 'command', offset: String(offset++), key: Buffer.from(c.accountId), value: Buffer.from('x'), command: c }));
    const result = processBatch(records, lookups, nowMs);
    for (const state of result.states.values()) states.set(state.accountId, state);
    for (const o of result.newOutcomes) outcomes.set(o.commandId, o);
    for (const o of result.movements.values()) outcomes.set(o.commandId, o);
    return result;
  };
}

const command = (commandId: string, issuedAt: number, payload: CommandPayload): Command => ({ commandId, accountId: A, issuedAt, fingerprint: `fp-${commandId}`, payload });
/** What hold-expiry.ts asks, at its own clock's `askedAt`, for the hold placed as A's event 2. */
const expire = (askedAt: number): Command => command(expireCommandId(`${A}:2`), askedAt, { type: 'ExpireHold', holdId: 'h1' });

describe('a hold expiry decided by an instance whose clock is behind the one that asked it', () => {
  function placed() {
    const run = partition();
    run(t0, command('open', t0, { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 1000, overdraftLimit: 0 }), command('hold', t0, { type: 'PlaceHold', holdId: 'h1', amount: 300, expiresInSeconds: 60, reference: null }));
    return run;
  }

  it('expires the hold: the asker saw it past expiresAt, and that does not change on replay', () => {
    const run = placed();
    // Asked 70 s after placing (10 s past expiresAt) by an instance ahead; decided at 30 s by one behind.
    const first = run(t0 + 30 * second, expire(t0 + 70 * second));
    expect(first.outcomes.map((o) => [o.outcome.status, o.outcome.code])).toEqual([['ACCEPTED', null]]);
    expect(first.events.map((e) => e.payload)).toEqual([{ type: 'HoldExpired', holdId: 'h1', amount: 300 }]);
    // The capture that races it, decided after, finds the hold gone.
    const capture = run(t0 + 31 * second, command('capture', t0 + 31 * second, { type: 'CaptureHold', holdId: 'h1', amount: null }));
    expect(capture.outcomes.map((o) => o.outcome.code)).toEqual(['HOLD_NOT_ACTIVE']);
  });

  it('refuses an ask dated before expiresAt (no instance asks that), whatever the decider’s clock', () => {
    const run = placed();
    const early = run(t0 + 120 * second, expire(t0 + 59 * second));
    expect(early.outcomes.map((o) => [o.outcome.status, o.outcome.code])).toEqual([['REJECTED', 'HOLD_NOT_ACTIVE']]);
    expect(early.events).toEqual([]);
  });
});

describe('a hold expiring while its capture is in the same batch', () => {
  function placed() {
    const run = partition();
    run(t0, command('open', t0, { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 1000, overdraftLimit: 0 }), command('hold', t0, { type: 'PlaceHold', holdId: 'h1', amount: 300, expiresInSeconds: 60, reference: null }));
    return run;
  }
  const capture = (at: number) => command(`capture-${at}`, at, { type: 'CaptureHold', holdId: 'h1', amount: 100 });
  const decided = (result: ReturnType<ReturnType<typeof partition>>) => result.outcomes.map((o) => o.outcome.code ?? o.outcome.status);

  it('the expiry first: the capture after it finds the hold expired, and nothing leaves the account', () => {
    const result = placed()(t0 + 59 * second, expire(t0 + 61 * second), capture(t0 + 59 * second));
    expect(decided(result)).toEqual(['ACCEPTED', 'HOLD_NOT_ACTIVE']);
    expect(result.events.map((e) => e.payload.type)).toEqual(['HoldExpired']);
    expect(result.states.get(A)).toMatchObject({ balance: 1000, heldBalance: 0 });
  });

  it('the capture first: captured, the rest released, and the expiry asked after it is refused', () => {
    const result = placed()(t0 + 59 * second, capture(t0 + 59 * second), expire(t0 + 61 * second));
    expect(decided(result)).toEqual(['ACCEPTED', 'HOLD_NOT_ACTIVE']);
    expect(result.events.map((e) => e.payload)).toEqual([{ type: 'HoldCaptured', holdId: 'h1', amount: 100, balanceAfter: 900, released: 300 }]);
    expect(result.states.get(A)).toMatchObject({ balance: 900, heldBalance: 0 });
  });
});
