// The account store is a cache that is wiped when it cannot be trusted: a store LevelDB cannot
// open, or one written in another format, opens empty (so restore rebuilds it from the
// changelogs); a store of the current format opens with its contents.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Level } from 'level';
import { lookupsFor } from '../../../processors/account/lookups.ts';
import { PartitionStore, statesCachedMax } from '../../../processors/account/store.ts';
import type { AccountState, Command } from '../../../schemas/types.ts';

const state: AccountState = { accountId: 'acc-1', ownerName: 'Ada', currency: 'EUR', balance: 500, status: 'OPEN', version: 3, openedAt: 1, updatedAt: 2, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 };
const identity = { clusterId: 'test-cluster', topics: ['commands', 'account-state', 'outcomes', 'movements'], partition: 0 };

let dataDir: string;
let warnings: string[];
const log = (msg: string) => void warnings.push(msg);
const partitionPath = () => join(dataDir, 'account', 'p0');

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'account-store-'));
  warnings = [];
});

afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

it('keeps a store of the current format: its checkpoint and states survive a reopen', async () => {
  const first = await PartitionStore.open(dataDir, identity, log);
  await first.write([state], [], { stateOffset: '7', outcomesOffset: '4', movementsOffset: '0' });
  await first.close();

  const reopened = await PartitionStore.open(dataDir, identity, log);
  expect(await reopened.checkpoint()).toEqual({ stateOffset: '7', outcomesOffset: '4', movementsOffset: '0' });
  expect((await reopened.states([state.accountId])).get(state.accountId)).toEqual(state);
  expect(warnings).toEqual([]);
  await reopened.close();
});

// Format 2 is the previous release's (JSON values): an upgrade opens it, reads its JSON
// checkpoint, and rebuilds it from the changelogs with no manual step. A format 3 store written
// with other schemas (another release's) is rebuilt too: its Avro would not decode.
it.each([0, 2, '3:0123456789abcdef'])('wipes a store written in another format (%s) and opens it empty', async (format) => {
  mkdirSync(partitionPath(), { recursive: true });
  const old = new Level<string, unknown>(partitionPath(), { valueEncoding: 'json' });
  await old.open();
  await old.batch([
    { type: 'put', key: 's!acc-1', value: state },
    { type: 'put', key: 'm!checkpoint', value: { stateOffset: '7', outcomesOffset: '4', movementsOffset: '0', format } },
  ]);
  await old.close();

  const store = await PartitionStore.open(dataDir, identity, log);
  expect(await store.checkpoint()).toBeUndefined();
  expect((await store.states([state.accountId])).get(state.accountId)).toBeUndefined();
  expect(warnings).toEqual(['store has another format; wiping it']);
  await store.close();
});

it('wipes a store LevelDB cannot open and opens it empty and usable', async () => {
  // A CURRENT file naming a manifest that does not exist: LevelDB refuses to open it as corrupt.
  mkdirSync(partitionPath(), { recursive: true });
  writeFileSync(join(partitionPath(), 'CURRENT'), 'MANIFEST-000042\n');
  writeFileSync(join(partitionPath(), '000041.log'), 'not a log');

  const store = await PartitionStore.open(dataDir, identity, log);
  expect(warnings).toEqual(['store cannot be opened; wiping it']);
  expect(readdirSync(partitionPath())).not.toContain('000041.log');
  expect(await store.checkpoint()).toBeUndefined();
  await store.write([state], [], { stateOffset: '1', outcomesOffset: '0', movementsOffset: '0' });
  expect(await store.checkpoint()).toEqual({ stateOffset: '1', outcomesOffset: '0', movementsOffset: '0' });
  await store.close();
});

it('every account a chunk names is found, even when loading the chunk evicts it from the states cache (found by review: an existing account read as missing)', async () => {
  const store = await PartitionStore.open(dataDir, identity, log);
  const account = (accountId: string): AccountState => ({ ...state, accountId });
  const checkpoint = { stateOffset: '1', outcomesOffset: '0', movementsOffset: '0' };
  // Oldest first: 2,000 accounts, then `hot`, then enough to fill the cache and push the 2,000 out.
  const cold = Array.from({ length: 2000 }, (_, i) => account(`cold-${i}`));
  await store.write(cold, [], checkpoint);
  await store.write([account('hot')], [], checkpoint);
  await store.write(Array.from({ length: statesCachedMax - 1 }, (_, i) => account(`warm-${i}`)), [], checkpoint);
  // A chunk naming `hot` (cached, now the oldest entry) and the 2,000 evicted ones.
  const commands = ['hot', ...cold.map((c) => c.accountId)].map((accountId, i) => ({ commandId: `c-${i}`, accountId, issuedAt: 1, fingerprint: 'f', payload: { type: 'Deposit', amount: 1, reference: null }, actor: null, metadata: {} }) as Command);
  const lookups = await lookupsFor(store, commands);
  expect(lookups.state('hot')).toEqual(account('hot'));
  expect(cold.filter((c) => lookups.state(c.accountId) === undefined)).toEqual([]);
  await store.close();
});
