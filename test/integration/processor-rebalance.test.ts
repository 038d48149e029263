// Two processor processes share the partitions. One is killed (SIGKILL) or frozen (SIGSTOP, a
// zombie that wakes up later): its partitions move to the other, the zombie's late transaction
// is fenced, and nothing is applied twice.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { CommandClient, outcomeValuesPerCommand } from '../support/command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import type { Command } from '../../schemas/types.ts';

let ledger: TestLedger;
let client: CommandClient;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  ledger = await createTestLedger('processor-rebalance');
  client = new CommandClient(ledger);
  await client.start();
});

afterAll(async () => {
  for (const p of running) {
    p.child.kill('SIGCONT');
    await p.kill('SIGKILL');
  }
  await client?.stop();
  await ledger?.close();
});

function processor(): ServiceProcess {
  // The minimum session timeout the broker allows, so the group notices a dead member quickly.
  const p = startService('processors/account/main.ts', { ...ledger.env, ACCOUNT_SESSION_TIMEOUT_MS: '6000' });
  running.push(p);
  return p;
}

async function expectConsistent(commands: Command[]): Promise<void> {
  const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
  expect(checkLedger(snapshot).violations).toEqual([]);
  const byCommand = outcomeValuesPerCommand(snapshot);
  for (const c of commands) expect(byCommand.get(c.commandId)?.size, `outcomes of ${c.commandId}`).toBe(1);
}

it('a killed instance hands its partitions over and nothing is applied twice', async () => {
  const a = processor();
  const b = processor();
  await Promise.all([a.waitForLine(/account processor started/), b.waitForLine(/account processor started/)]);
  await waitFor(() => (a.lines.some((l) => l.includes('partition ready')) && b.lines.some((l) => l.includes('partition ready')) ? true : undefined), {
    what: 'both instances owning partitions',
  });
  const commands = generateWorkload({ seed: 11, commands: 6000, accounts: 200 });
  for (let i = 0; i < commands.length; i += 500) await client.send(...commands.slice(i, i + 500));
  await waitFor(() => (client.outcomes.size >= 1500 ? true : undefined), { what: '1500 outcomes before the kill', timeoutMs: 60_000 });
  await a.kill('SIGKILL');
  await client.settled(commands);
  await expectConsistent(commands);
}, 300_000);

it('a frozen instance that wakes up after its partitions moved is fenced', async () => {
  const survivor = running.find((p) => p.child.exitCode === null && p.child.signalCode === null) ?? processor();
  const zombie = processor();
  await zombie.waitForLine(/partition ready/);
  const commands = generateWorkload({ seed: 12, commands: 6000, accounts: 200 });
  for (let i = 0; i < commands.length; i += 500) await client.send(...commands.slice(i, i + 500));
  const before = client.outcomes.size;
  await waitFor(() => (client.outcomes.size >= before + 1000 ? true : undefined), { what: 'processing under way', timeoutMs: 60_000 });
  zombie.child.kill('SIGSTOP');
  // The survivor takes every partition once the zombie's session expires.
  await survivor.waitForLine(/"partitions assigned","partitions":\[0,1,2,3\]/, 60_000);
  await client.settled(commands);
  zombie.child.kill('SIGCONT');
  // Awake, the zombie's in-flight transaction fails (fenced or rebalanced) and it rejoins as a member.
  await zombie.waitForLine(/partition failed|partitions assigned/, 60_000);
  await client.settled(commands);
  await expectConsistent(commands);
}, 300_000);
