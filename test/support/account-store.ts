// Compares the account processor's LevelDB stores with their changelogs: the store is a cache of
// bank.account-state (latest state per account) and bank.outcomes (idempotency records), so after
// a clean stop both must hold exactly the same states and records. Read with the processor stopped
// (LevelDB allows one opener), with the store's own value encoding.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Level } from 'level';
import type { LedgerSnapshot } from '../../scripts/ledger/read.ts';
import { storeValueEncoding } from '../../processors/account/store-encoding.ts';

export interface StoreContents {
  /** accountId → the state as JSON text. */
  states: Map<string, string>;
  /** commandId → the idempotency record as JSON text. */
  outcomes: Map<string, string>;
}

/** Same field order on both sides, so equal values compare equal as text. */
const canonical = (value: unknown): string => JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v));

/** Every state (`s!`) and idempotency record (`o!`, or `M!` for one kept forever, which wins) of every partition store under dataDir. */
export async function readAccountStores(dataDir: string, partitions: number): Promise<StoreContents> {
  const contents: StoreContents = { states: new Map(), outcomes: new Map() };
  for (let p = 0; p < partitions; p += 1) {
    const path = join(dataDir, 'account', `p${p}`);
    if (!existsSync(path)) continue;
    const db = new Level<string, unknown>(path, { valueEncoding: storeValueEncoding<unknown>() });
    await db.open();
    try {
      const forever = new Map<string, string>();
      for await (const [key, value] of db.iterator()) {
        if (key.startsWith('s!')) contents.states.set(key.slice(2), canonical(value));
        if (key.startsWith('o!')) contents.outcomes.set(key.slice(2), canonical(value));
        if (key.startsWith('M!')) forever.set(key.slice(2), canonical(value));
      }
      for (const [commandId, value] of forever) contents.outcomes.set(commandId, value);
    } finally {
      await db.close();
    }
  }
  return contents;
}

/** What the stores must hold according to the changelogs: the latest record per key. */
export function changelogContents(snapshot: LedgerSnapshot): StoreContents {
  const contents: StoreContents = { states: new Map(), outcomes: new Map() };
  for (const { value } of snapshot.states) contents.states.set(value.accountId, canonical(value));
  // Key-reuse refusals (`<commandId>#<fingerprint>`) are replies, not idempotency records.
  for (const { key, value } of snapshot.outcomes) if (!key.includes('#')) contents.outcomes.set(value.commandId, canonical(value));
  return contents;
}

/** Human-readable differences (at most `shownMax`), empty when the store equals the changelogs. */
export function storeDifferences(store: StoreContents, changelog: StoreContents, shownMax = 20): string[] {
  const differences: string[] = [];
  for (const kind of ['states', 'outcomes'] as const) {
    for (const [key, expected] of changelog[kind]) {
      const actual = store[kind].get(key);
      if (actual !== expected) differences.push(`${kind} ${key}: store ${actual ?? 'missing'}, changelog ${expected}`);
    }
    for (const key of store[kind].keys()) if (!changelog[kind].has(key)) differences.push(`${kind} ${key}: in the store, not in the changelog`);
  }
  return differences.length > shownMax ? [...differences.slice(0, shownMax), `… ${differences.length - shownMax} more`] : differences;
}
