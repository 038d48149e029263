// The store is a cache of its changelogs: deleted while the processor is stopped, it is rebuilt
// with identical states and idempotency records, and retried commands still count once.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Level } from 'level';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService } from '../support/processes.ts';
import { CommandClient } from '../support/command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { auditLedger } from '../../scripts/ledger/audit.ts';
import { waitForQuiet } from '../../scripts/chaos/settle.ts';

let ledger: TestLedger;
let client: CommandClient;

beforeAll(async () => {
  ledger = await createTestLedger('processor-store');
  client = new CommandClient(ledger);
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await ledger?.close();
});

/** Every account state and idempotency record of every partition store, as sorted text. */
async function storeContents(): Promise<string[]> {
  const rows: string[] = [];
  for (let p = 0; p < ledger.config.partitions; p += 1) {
    // The raw bytes, as hex: the values are binary (Avro), which text would blur.
    const db = new Level<string, Buffer>(join(ledger.config.dataDir, 'account', `p${p}`), { valueEncoding: 'buffer' });
    await db.open();
    for await (const [key, value] of db.iterator()) if (key.startsWith('s!') || key.startsWith('o!')) rows.push(`${key}=${value.toString('hex')}`);
    await db.close();
  }
  return rows.sort();
}

it('a deleted store is rebuilt from the changelogs with identical contents', async () => {
  const commands = generateWorkload({ seed: 5, commands: 3000, accounts: 150 });
  const first = startService('processors/account/main.ts', ledger.env);
  await first.waitForLine(/account processor started/);
  await client.send(...commands);
  const ids = [...new Set(commands.map((c) => c.commandId))];
  await waitFor(() => (ids.every((id) => client.outcomes.has(id)) ? true : undefined), { what: 'all outcomes', timeoutMs: 90_000 });
  // Internal transfer commands (credits, refunds) settle too, on the checker's own quiet signal:
  // every command answered, no transfer in flight, nothing arriving while the ledger was read.
  const audit = () => auditLedger({ kafka: ledger.kafka, codecs: async () => ledger.codecs, topics: ledger.topics, appId: ledger.config.appId });
  let lastSaid = '';
  const settled = await waitForQuiet(audit, (line) => (lastSaid = line));
  expect(settled.quiet, `the ledger settled (${lastSaid})`).toBe(true);
  expect(await first.kill('SIGTERM')).toBe(0);
  const before = await storeContents();
  expect(before.length).toBeGreaterThan(3000);

  rmSync(join(ledger.config.dataDir, 'account'), { recursive: true, force: true });
  const second = startService('processors/account/main.ts', ledger.env);
  await second.waitForLine(/account processor started/);
  await waitFor(() => (second.lines.filter((l) => l.includes('partition ready')).length >= ledger.config.partitions ? true : undefined), {
    what: 'every partition restored',
    timeoutMs: 90_000,
  });
  expect(await second.kill('SIGTERM')).toBe(0);
  expect(await storeContents()).toEqual(before);

  // A retry after the rebuild is still recognized as a duplicate.
  const third = startService('processors/account/main.ts', ledger.env);
  const retried = commands[100];
  if (retried === undefined) throw new Error('workload too small');
  const countBefore = client.outcomes.get(retried.commandId)?.length ?? 0;
  await client.send(retried);
  await waitFor(() => ((client.outcomes.get(retried.commandId)?.length ?? 0) > countBefore ? true : undefined), { what: 'the retried outcome' });
  const all = client.outcomes.get(retried.commandId) ?? [];
  expect(all.at(-1)).toEqual({ outcome: all[0]?.outcome, replayed: true });
  expect(await third.kill('SIGTERM')).toBe(0);
  expect(await storeContents()).toEqual(before);
}, 300_000);
