// Crash in the middle of a busy run: the processor, in its own OS process, is killed with
// SIGKILL while 20,000 random commands flow, then restarted. Afterwards every command has exactly
// one outcome, sequences are gapless, balances equal the fold and money is conserved.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService } from '../support/processes.ts';
import { CommandClient, outcomeValuesPerCommand } from '../support/command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';

const commandsTotal = 20_000;
let ledger: TestLedger;
let client: CommandClient;

beforeAll(async () => {
  ledger = await createTestLedger('processor-crash');
  client = new CommandClient(ledger);
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await ledger?.close();
});

it('survives SIGKILL mid-run: one outcome per command, gapless sequences, money conserved', async () => {
  const commands = generateWorkload({ seed: 42, commands: commandsTotal, accounts: 400, duplicateShare: 0.03 });
  const first = startService('processors/account/main.ts', ledger.env);
  await first.waitForLine(/account processor started/);
  for (let i = 0; i < commands.length; i += 1000) await client.send(...commands.slice(i, i + 1000));
  const killAfter = Math.floor(commandsTotal * 0.3);
  await waitFor(() => (client.outcomes.size >= killAfter ? true : undefined), { what: `${killAfter} outcomes before the crash`, timeoutMs: 90_000 });
  expect(await first.kill('SIGKILL')).toBe('SIGKILL');
  const seenAtCrash = client.outcomes.size;
  expect(seenAtCrash).toBeLessThan(commandsTotal);

  const second = startService('processors/account/main.ts', ledger.env);
  try {
    await client.settled(commands);
  } finally {
    await second.kill('SIGTERM');
  }

  const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
  const report = checkLedger(snapshot);
  expect(report.violations).toEqual([]);
  // Exactly one outcome value per command id, however often it was re-emitted.
  const byCommand = outcomeValuesPerCommand(snapshot);
  for (const c of commands) expect(byCommand.get(c.commandId)?.size, `outcomes of ${c.commandId}`).toBe(1);
  expect(report.totals.transfers.pending).toBe(0);
  expect(report.totals.accounts).toBeGreaterThan(300);
  expect(snapshot.undecodableCommands).toEqual([]);
}, 400_000);
