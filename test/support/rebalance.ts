// Two or more processor processes sharing the partitions, each with its own data directory, and
// the means to catch one with a transaction open and freeze it (SIGSTOP): a zombie that wakes up
// after its partitions moved. Shared by the rebalance tests of both transaction scopes (a
// producer per partition, fenced by transactional id; one per instance, fenced by generation).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestLedger, waitFor, type TestLedger } from './ledger.ts';
import { startService, type ServiceProcess } from './processes.ts';
import { CommandClient, outcomeValuesPerCommand } from './command-client.ts';
import { generateWorkload } from '../../scripts/workload.ts';
import { readLedger, type LedgerSnapshot } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import type { TopicNames } from '../../topics/topics.ts';
import type { Command } from '../../schemas/types.ts';

export const alive = (p: ServiceProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** One ledger, a command client and the processor processes a test file starts (all killed after it). */
export class RebalanceHarness {
  ledger!: TestLedger;
  client!: CommandClient;
  readonly running: ServiceProcess[] = [];
  private readonly dataDirs: string[] = [];

  /** Registers the file's beforeAll/afterAll; every processor gets `env` on top of the ledger's. */
  constructor(
    private readonly name: string,
    private readonly env: Record<string, string>,
  ) {
    beforeAll(async () => {
      this.ledger = await createTestLedger(name);
      this.client = new CommandClient(this.ledger);
      await this.client.start();
    });
    afterAll(async () => {
      await this.killAll();
      await this.client?.stop();
      await this.ledger?.close();
      for (const dir of this.dataDirs) rmSync(dir, { recursive: true, force: true });
    });
  }

  /** Kills every processor started so far (thawing frozen ones first). */
  async killAll(): Promise<void> {
    for (const p of this.running.splice(0)) {
      p.child.kill('SIGCONT');
      await p.kill('SIGKILL');
    }
  }

  processor(env: Record<string, string> = {}): ServiceProcess {
    const dataDir = mkdtempSync(join(tmpdir(), `ledger-${this.name}-`));
    this.dataDirs.push(dataDir);
    const p = startService('processors/account/main.ts', {
      ...this.ledger.env,
      DATA_DIR: dataDir,
      // The minimum session timeout the broker allows, so the group notices a dead member quickly.
      ACCOUNT_SESSION_TIMEOUT_MS: '6000',
      // 'transaction open' lines: where each transaction wrote before it commits.
      LOG_LEVEL: 'debug',
      ...this.env,
      ...env,
    });
    this.running.push(p);
    return p;
  }

  async readAll(): Promise<LedgerSnapshot> {
    return readLedger(this.ledger.kafka, this.ledger.codecs, this.ledger.topics, `${this.ledger.config.appId}.audit`);
  }

  expectConsistent(snapshot: LedgerSnapshot, commands: Command[]): void {
    expect(checkLedger(snapshot).violations).toEqual([]);
    const byCommand = outcomeValuesPerCommand(snapshot);
    for (const c of commands) expect(byCommand.get(c.commandId)?.size, `outcomes of ${c.commandId}`).toBe(1);
  }

  /** Two instances share the partitions; one is killed (SIGKILL) mid-run; every command is answered once. */
  async killOneOfTwo(seed: number): Promise<void> {
    const a = this.processor();
    const b = this.processor();
    await Promise.all([a.waitForLine(/account processor started/), b.waitForLine(/account processor started/)]);
    await waitFor(() => (a.lines.some((l) => l.includes('partition ready')) && b.lines.some((l) => l.includes('partition ready')) ? true : undefined), {
      what: 'both instances owning partitions',
    });
    const commands = generateWorkload({ seed, commands: 6000, accounts: 200 });
    for (let i = 0; i < commands.length; i += 500) await this.client.send(...commands.slice(i, i + 500));
    await waitFor(() => (this.client.outcomes.size >= 1500 ? true : undefined), { what: '1500 outcomes before the kill', timeoutMs: 60_000 });
    await a.kill('SIGKILL');
    await this.client.settled(commands);
    this.expectConsistent(await this.readAll(), commands);
  }

  /**
   * An instance frozen while idle until the group drops it, its partitions worked by the other
   * meanwhile, then woken: it rejoins and is given partitions back. Whatever it kept of them from
   * before (stores, positions) is stale and must not decide anything.
   */
  async frozenIdleAndReturned(seed: number): Promise<void> {
    const partitions = this.ledger.config.partitions;
    const assignedAll = (line: string) => (JSON.parse(line) as { partitions: number[] }).partitions.length === partitions;
    const a = this.processor();
    const b = this.processor();
    await waitFor(() => (a.lines.some((l) => l.includes('partition ready')) && b.lines.some((l) => l.includes('partition ready')) ? true : undefined), {
      what: 'both instances owning partitions',
      timeoutMs: 60_000,
    });
    const commands = generateWorkload({ seed, commands: 3000, accounts: 200 });
    const thirds = [commands.slice(0, 1000), commands.slice(1000, 2000), commands.slice(2000)] as const;
    await this.client.send(...thirds[0]);
    await this.client.settled(thirds[0]);
    // Idle (every command answered), so no transaction of a's is open when it freezes.
    const bMark = b.mark();
    a.child.kill('SIGSTOP');
    const takeover = await b.waitForLine(/"msg":"partitions assigned"/, { since: bMark, timeoutMs: 90_000 });
    expect(assignedAll(takeover), takeover).toBe(true);
    await this.client.send(...thirds[1]);
    await this.client.settled(thirds[1]);
    // Woken, a finds itself out of the group, rejoins, and the next assignment shares the partitions again.
    const aMark = a.mark();
    a.child.kill('SIGCONT');
    const back = await a.waitForLine(/"msg":"partitions assigned","partitions":\[\d/, { since: aMark, timeoutMs: 90_000 });
    expect(assignedAll(back), back).toBe(false);
    await this.client.send(...thirds[2]);
    await this.client.settled(thirds[2]);
    this.expectConsistent(await this.readAll(), commands);
  }

  /**
   * Feeds slices until the zombie freezes itself at its armed crash point (`<name>:<n>:stop`);
   * the returned promise ends the feeding (await it before the rest of the workload).
   */
  async feedUntilFrozen(zombie: ServiceProcess, feeder: SliceFeeder): Promise<{ feeding: Promise<void> }> {
    const frozen = zombie.waitForLine(/crash point reached; freezing/, { timeoutMs: 120_000 });
    const feeding = (async () => {
      while (!feeder.done && zombie.child.signalCode === null && !zombie.lines.some((l) => l.includes('freezing the process'))) await feeder.next().catch(() => undefined);
    })();
    await frozen;
    return { feeding };
  }

  /** A survivor (an instance left running, or a new one) and a zombie-to-be owning partitions, and a feeder of the seed's workload. */
  async survivorAndZombie(seed: number, zombieEnv: Record<string, string> = {}): Promise<{ survivor: ServiceProcess; zombie: ServiceProcess; feeder: SliceFeeder }> {
    const survivor = this.running.find(alive) ?? this.processor();
    const zombie = this.processor(zombieEnv);
    await zombie.waitForLine(/partition ready/);
    return { survivor, zombie, feeder: new SliceFeeder(this.client, generateWorkload({ seed, commands: 6000, accounts: 200 })) };
  }

  /**
   * A zombie frozen with a transaction open on a per-partition producer: the new owner's fence
   * (initializing `<appId>.account.<p>`, done in both scopes) aborts it at once; woken, its commit is
   * refused as coming from a fenced producer, and nothing it wrote becomes visible.
   */
  async fencedByTransactionalId(survivor: ServiceProcess, zombie: ServiceProcess, feeder: SliceFeeder, { open, survivorMark, feeding }: Frozen): Promise<void> {
    const p = open.partition;
    await survivor.waitForLine(new RegExp(`"msg":"partition ready","partition":${p},`), { since: survivorMark, timeoutMs: 90_000 });
    // The new owner's fence aborted the open transaction: the partition is readable past it again.
    expect(await lastStableOffset(this.ledger.admin, this.ledger.topics.outcomes, p)).toBeGreaterThan(baseOffset(open, this.ledger.topics.outcomes));
    const wokeAt = zombie.mark();
    zombie.child.kill('SIGCONT');
    const refused = await zombie.waitForLine(new RegExp(`"msg":"partition failed[^"]*","partition":${p},`), { since: wokeAt, timeoutMs: 60_000 });
    expect(JSON.parse(refused).errorType, refused).toMatch(/^(INVALID_PRODUCER_EPOCH|PRODUCER_FENCED)$/);
    await this.finish(feeder, feeding, open);
  }

  /** After the zombie woke: the rest of the workload fed and answered, the ledger consistent, nothing of the zombie's transaction visible. */
  async finish(feeder: SliceFeeder, feeding: Promise<void>, ...open: OpenTransaction[]): Promise<void> {
    await feeding;
    await feeder.rest();
    await this.client.settled(feeder.commands);
    const snapshot = await this.readAll();
    this.expectConsistent(snapshot, feeder.commands);
    for (const transaction of open) expectNothingVisible(snapshot, transaction, this.ledger.topics);
  }
}

/** Commands sent per step while looking for a transaction to freeze: small, so the zombie commits often. */
export const feedSliceCommands = 60;
/** SIGSTOPs tried before giving up on catching the zombie with its transaction still open. */
const freezeAttemptsMax = 40;

/** A 'transaction open' debug line: what one transaction wrote for one partition before its commit. */
export interface OpenTransaction {
  partition: number;
  /** Which of the transaction's chunks (one line each, logged together). */
  chunk: number;
  chunks: number;
  firstOffset: string;
  lastOffset: string;
  events: number;
  states: number;
  outcomes: number;
  written: { topicName: string; partition: number; baseOffset: string }[];
}

/** The last stable offset: read_committed readers see nothing at or past it (an open transaction holds it back). */
export async function lastStableOffset(admin: Admin, topic: string, partition: number): Promise<bigint> {
  // kafkajs lists offsets read_committed, so "high" here is the LSO, not the high watermark.
  const found = (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
  if (found === undefined) throw new Error(`no partition ${partition} in ${topic}`);
  return BigInt(found.high);
}

export function baseOffset(open: OpenTransaction, topic: string): bigint {
  const found = open.written.find((w) => w.topicName === topic && w.partition === open.partition);
  if (found === undefined) throw new Error(`the transaction wrote nothing to ${topic}/${open.partition}: ${JSON.stringify(open)}`);
  return BigInt(found.baseOffset);
}

/** Feeds commands a slice at a time, each slice once the previous one is answered. */
export class SliceFeeder {
  fed = 0;
  constructor(
    private readonly client: CommandClient,
    readonly commands: Command[],
  ) {}

  get done(): boolean {
    return this.fed >= this.commands.length;
  }

  /** The commands not fed yet, all at once (the slow slice-by-slice feeding is only for catching a transaction). */
  async rest(): Promise<void> {
    const rest = this.commands.slice(this.fed);
    this.fed = this.commands.length;
    await this.client.send(...rest);
  }

  async next(): Promise<void> {
    const slice = this.commands.slice(this.fed, this.fed + feedSliceCommands);
    this.fed += slice.length;
    await this.client.send(...slice);
    await waitFor(() => (slice.every((c) => this.client.outcomes.has(c.commandId)) ? true : undefined), { what: 'a slice answered', timeoutMs: 120_000 });
  }
}

export interface Frozen {
  open: OpenTransaction;
  /** The survivor's output mark taken before the freeze. */
  survivorMark: number;
  /** The slice being fed when the zombie froze (await it after waking the zombie). */
  feeding: Promise<void>;
}

/**
 * Feeds slices until the zombie is frozen with a transaction open: its outcomes at or past the
 * last stable offset, and `stillOpen` (when given) agreeing. A candidate that was already
 * committing is woken and the next slice tried.
 */
export async function freezeWithTransactionOpen(options: {
  zombie: ServiceProcess;
  survivor: ServiceProcess;
  feeder: SliceFeeder;
  admin: Admin;
  topics: TopicNames;
  stillOpen?: (open: OpenTransaction) => Promise<boolean>;
}): Promise<Frozen> {
  const { zombie, survivor, feeder, admin, topics } = options;
  let feeding: Promise<void> = Promise.resolve();
  for (let attempt = 1; ; attempt += 1) {
    if (attempt > freezeAttemptsMax || feeder.done) throw new Error(`never caught the zombie with a transaction open (${attempt - 1} attempts)`);
    const survivorMark = survivor.mark();
    const line = zombie.waitForLine(/"msg":"transaction open"/, { timeoutMs: 60_000 });
    feeding = feeder.next();
    // Awaited by the caller; until then a failure must not count as unhandled.
    feeding.catch(() => undefined);
    const candidate = JSON.parse(await line) as OpenTransaction;
    zombie.child.kill('SIGSTOP');
    // Still open (not yet committed) when frozen: its outcomes lie at or past the last stable offset.
    const open = (await lastStableOffset(admin, topics.outcomes, candidate.partition)) <= baseOffset(candidate, topics.outcomes) && (options.stillOpen === undefined || (await options.stillOpen(candidate)));
    if (open) {
      // Still held back on a second look. (A commit already under way when the zombie froze would
      // show at the end: its records would be visible.)
      expect(await lastStableOffset(admin, topics.outcomes, candidate.partition)).toBeLessThanOrEqual(baseOffset(candidate, topics.outcomes));
      return { open: candidate, survivorMark, feeding };
    }
    zombie.child.kill('SIGCONT');
    await feeding;
  }
}

/** Which of a transaction's records (per its 'transaction open' line) are in the committed log, and how many it wrote. */
export function visibleRecords(snapshot: LedgerSnapshot, open: OpenTransaction, topics: TopicNames): { written: number; visible: string[] } {
  const p = open.partition;
  const ranges = [
    { topic: topics.events, located: snapshot.events, count: open.events },
    { topic: topics.accountState, located: snapshot.states, count: open.states },
    { topic: topics.outcomes, located: snapshot.outcomes, count: open.outcomes },
  ];
  let written = 0;
  const visible: string[] = [];
  for (const { topic, located, count } of ranges) {
    if (count === 0) continue;
    written += count;
    const from = baseOffset(open, topic);
    for (const r of located) if (r.partition === p && BigInt(r.offset) >= from && BigInt(r.offset) < from + BigInt(count)) visible.push(`${topic}/${p}@${r.offset}`);
  }
  return { written, visible };
}

/** Nothing the fenced transaction wrote became visible: none of its records is in the committed log. */
export function expectNothingVisible(snapshot: LedgerSnapshot, open: OpenTransaction, topics: TopicNames): void {
  expect(visibleRecords(snapshot, open, topics).visible, 'records of the fenced transaction').toEqual([]);
}
