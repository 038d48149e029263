// The benchmark's generated log (scripts/bench-query-events.ts) is one the views apply whole: a
// parked event would make `npm run bench:query` measure views with holes in them.
import { describe, expect, it } from 'vitest';
import { benchEvents } from '../../../scripts/bench-query-events.ts';
import { applyEvents, holdsNamedBy, type AccountSummary, type HoldRecord } from '../../../processors/query/views/index.ts';

describe('bench:query event log', () => {
  it('folds without a parked event, every kind of event and hold ending included, and no balance below 0', () => {
    const rows = new Map<string, AccountSummary | undefined>();
    const holds = new Map<string, HoldRecord | undefined>();
    const types = new Map<string, number>();
    for (const chunk of benchEvents({ events: 30_000, accounts: 200, seed: 11, chunk: 5_000 })) {
      const stored = new Map(holdsNamedBy(chunk).map((ref) => [`${ref.accountId}:${ref.holdId}`, holds.get(`${ref.accountId}:${ref.holdId}`)]));
      const changes = applyEvents(rows, chunk, new Map(), stored);
      expect(changes.parked).toEqual([]);
      for (const [id, row] of changes.accounts) rows.set(id, row);
      for (const [ref, { hold }] of changes.holds) holds.set(ref, hold);
      for (const event of chunk) types.set(event.payload.type, (types.get(event.payload.type) ?? 0) + 1);
    }
    for (const type of ['AccountOpened', 'MoneyDeposited', 'MoneyWithdrawn', 'TransferDebited', 'TransferCredited', 'HoldPlaced', 'HoldCaptured', 'HoldVoided', 'HoldExpired']) {
      expect([type, (types.get(type) ?? 0) > 0]).toEqual([type, true]);
    }
    for (const row of rows.values()) expect(row!.balance - row!.heldBalance).toBeGreaterThanOrEqual(0);
  }, 60_000);
});
