// Two processor processes share the partitions, each with its own data directory (a taken-over
// partition restores from its changelog, or from a stale checkpoint when it comes back). One is
// killed (SIGKILL) or frozen (SIGSTOP) with a transaction open: a zombie that wakes up later. The
// test shows the zombie's transaction open while it is frozen, its commit refused once its
// partition moved, and nothing it wrote visible to read_committed readers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { CommandClient, outcomeValuesPerCommand } from '../support/command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { readLedger, type LedgerSnapshot } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import type { Command } from '../../schemas/types.ts';

let ledger: TestLedger;
let client: CommandClient;
const running: ServiceProcess[] = [];
const dataDirs: string[] = [];

/** Commands sent per step while looking for a transaction to freeze: small, so the zombie commits often. */
const feedSliceCommands = 60;
/** SIGSTOPs tried before giving up on catching the zombie with its transaction still open. */
const freezeAttemptsMax = 40;

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
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

const alive = (p: ServiceProcess) => p.child.exitCode === null && p.child.signalCode === null;

function processor(): ServiceProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'ledger-processor-rebalance-instance-'));
  dataDirs.push(dataDir);
  const p = startService('processors/account/main.ts', {
    ...ledger.env,
    DATA_DIR: dataDir,
    // The minimum session timeout the broker allows, so the group notices a dead member quickly.
    ACCOUNT_SESSION_TIMEOUT_MS: '6000',
    // 'transaction open' lines: where each transaction wrote before it commits.
    LOG_LEVEL: 'debug',
  });
  running.push(p);
  return p;
}

async function readAll(): Promise<LedgerSnapshot> {
  return readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
}

function expectConsistent(snapshot: LedgerSnapshot, commands: Command[]): void {
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
  expectConsistent(await readAll(), commands);
}, 300_000);

/** A 'transaction open' debug line: what one transaction wrote before its commit. */
interface OpenTransaction {
  partition: number;
  firstOffset: string;
  lastOffset: string;
  events: number;
  states: number;
  outcomes: number;
  written: { topicName: string; partition: number; baseOffset: string }[];
}

/** The last stable offset: read_committed readers see nothing at or past it (an open transaction holds it back). */
async function lastStableOffset(topic: string, partition: number): Promise<bigint> {
  // kafkajs lists offsets read_committed, so "high" here is the LSO, not the high watermark.
  const found = (await ledger.admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
  if (found === undefined) throw new Error(`no partition ${partition} in ${topic}`);
  return BigInt(found.high);
}

function baseOffset(open: OpenTransaction, topic: string): bigint {
  const found = open.written.find((w) => w.topicName === topic && w.partition === open.partition);
  if (found === undefined) throw new Error(`the transaction wrote nothing to ${topic}/${open.partition}: ${JSON.stringify(open)}`);
  return BigInt(found.baseOffset);
}

it('a frozen instance that wakes up after its partitions moved is fenced, and nothing it wrote is visible', async () => {
  const survivor = running.find(alive) ?? processor();
  const zombie = processor();
  await zombie.waitForLine(/partition ready/);
  const commands = generateWorkload({ seed: 12, commands: 6000, accounts: 200 });

  // Feed the commands a slice at a time, each slice once the previous one is answered, so the
  // zombie runs many small transactions, one of which we freeze.
  let fed = 0;
  const feedNext = async () => {
    const slice = commands.slice(fed, fed + feedSliceCommands);
    fed += slice.length;
    await client.send(...slice);
    await waitFor(() => (slice.every((c) => client.outcomes.has(c.commandId)) ? true : undefined), { what: 'a slice answered', timeoutMs: 120_000 });
  };

  let open: OpenTransaction | undefined;
  let survivorMark = 0;
  let feeding: Promise<void> = Promise.resolve();
  for (let attempt = 1; open === undefined; attempt += 1) {
    if (attempt > freezeAttemptsMax || fed >= commands.length) throw new Error(`never caught the zombie with a transaction open (${attempt - 1} attempts)`);
    survivorMark = survivor.mark();
    const line = zombie.waitForLine(/"msg":"transaction open"/, { timeoutMs: 60_000 });
    feeding = feedNext();
    // Awaited below; until then a failure must not count as unhandled.
    feeding.catch(() => undefined);
    const candidate = JSON.parse(await line) as OpenTransaction;
    zombie.child.kill('SIGSTOP');
    // Still open (not yet committed) when frozen: its outcomes lie at or past the last stable offset.
    if ((await lastStableOffset(ledger.topics.outcomes, candidate.partition)) <= baseOffset(candidate, ledger.topics.outcomes)) open = candidate;
    else {
      zombie.child.kill('SIGCONT');
      await feeding;
    }
  }
  const p = open.partition;
  const outcomesBase = baseOffset(open, ledger.topics.outcomes);
  // Still held back on a second look. (A commit already under way when the zombie froze would
  // show at the end: its records would be visible.) Only the survivor's fence can end it now.
  expect(await lastStableOffset(ledger.topics.outcomes, p)).toBeLessThanOrEqual(outcomesBase);

  // The zombie's session expires; the survivor takes its partitions, fencing its transactional id.
  await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${p},`), { since: survivorMark, timeoutMs: 90_000 });
  // The new owner's fence aborted the open transaction: the partition is readable past it again.
  expect(await lastStableOffset(ledger.topics.outcomes, p)).toBeGreaterThan(outcomesBase);

  // Awake, the zombie's commit is refused as coming from a fenced producer.
  const wokeAt = zombie.mark();
  zombie.child.kill('SIGCONT');
  const refused = await zombie.waitForLine(new RegExp(`"msg":"partition failed[^"]*","partition":${p},`), { since: wokeAt, timeoutMs: 60_000 });
  expect(JSON.parse(refused).errorType, refused).toMatch(/^(INVALID_PRODUCER_EPOCH|PRODUCER_FENCED)$/);

  await feeding;
  while (fed < commands.length) await feedNext();
  await client.settled(commands);
  const snapshot = await readAll();
  expectConsistent(snapshot, commands);
  // Nothing the fenced transaction wrote became visible: none of its records is in the committed log.
  const ranges = [
    { topic: ledger.topics.events, located: snapshot.events, count: open.events },
    { topic: ledger.topics.accountState, located: snapshot.states, count: open.states },
    { topic: ledger.topics.outcomes, located: snapshot.outcomes, count: open.outcomes },
  ];
  for (const { topic, located, count } of ranges) {
    if (count === 0) continue;
    const from = baseOffset(open, topic);
    const visible = located.filter((r) => r.partition === p && BigInt(r.offset) >= from && BigInt(r.offset) < from + BigInt(count));
    expect(visible.map((r) => `${topic}/${p}@${r.offset}`), 'records of the fenced transaction').toEqual([]);
  }
}, 400_000);
