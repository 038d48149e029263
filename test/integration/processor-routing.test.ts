// Commands that do not sit where the ledger expects them (DESIGN §8): produced by a client with
// another partitioner (kafkajs' LegacyPartitioner here; librdkafka's CRC32 default is the same
// kind of mistake) or keyed by something other than their accountId. Applied, they would create
// a second copy of an account on another partition; they must be dead-lettered and change nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import kafkajs, { type PartitionMetadata, type Producer } from 'kafkajs';
import { createTestLedger, waitFor, type TestLedger } from '../support/ledger.ts';
import { startService, type ServiceProcess } from '../support/processes.ts';
import { CommandClient, deposit, makeCommand, open } from '../support/command-client.ts';
import { readLedger, type LedgerSnapshot } from '../../scripts/ledger/read.ts';
import { checkLedger } from '../../scripts/ledger/check.ts';
import { createPartitionOf } from '../../topics/partitioner.ts';
import type { Command } from '../../schemas/types.ts';

const { Partitioners } = kafkajs;
const partitions = 4;
const partitionOf = createPartitionOf(partitions);
const metadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
const legacy = Partitioners.LegacyPartitioner();
const legacyPartitionOf = (key: string) => legacy({ topic: 'any', partitionMetadata: metadata, message: { key, value: null } });

let ledger: TestLedger;
let processor: ServiceProcess;
let client: CommandClient;
let legacyProducer: Producer;

beforeAll(async () => {
  ledger = await createTestLedger('processor-routing', { partitions });
  processor = startService('processors/account/main.ts', ledger.env);
  await processor.waitForLine(/account processor started/);
  client = new CommandClient(ledger);
  await client.start();
  legacyProducer = ledger.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.LegacyPartitioner });
  await legacyProducer.connect();
});

afterAll(async () => {
  await legacyProducer?.disconnect();
  await client?.stop();
  await processor?.kill('SIGTERM');
  await ledger?.close();
});

/** A fresh accountId that satisfies `wanted` (a quarter or more of random ids do). */
function accountWhere(wanted: (id: string) => boolean): string {
  for (let attempt = 0; attempt < 10_000; attempt += 1) {
    const id = randomUUID();
    if (wanted(id)) return id;
  }
  throw new Error('no accountId found');
}

/** Reads the ledger until every command has an outcome or a dead letter (whichever the processor chose). */
async function settledOn(commands: Command[], offsets: Map<string, { partition: number; offset: string }>): Promise<LedgerSnapshot> {
  return waitFor(
    async () => {
      const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit.${randomUUID()}`);
      const handled = (c: Command) => {
        const at = offsets.get(c.commandId);
        const dead = snapshot.deadLetters.some((d) => d.headers['dlq.source.partition'] === String(at?.partition) && d.headers['dlq.source.offset'] === at?.offset);
        return dead || snapshot.outcomes.some((o) => o.value.commandId === c.commandId);
      };
      return commands.every(handled) ? snapshot : undefined;
    },
    { what: 'an outcome or a dead letter for every misrouted command', timeoutMs: 60_000, intervalMs: 500 },
  );
}

async function produce(producer: Producer, key: string, command: Command): Promise<{ partition: number; offset: string }> {
  const [meta] = await producer.send({ topic: ledger.topics.commands, acks: -1, messages: [{ key, value: ledger.codecs.commands.encode(command) }] });
  if (meta === undefined || meta.baseOffset === undefined) throw new Error('no record metadata');
  return { partition: meta.partition, offset: meta.baseOffset };
}

function expectNoTrace(snapshot: LedgerSnapshot, commands: Command[]): void {
  const ids = new Set(commands.map((c) => c.commandId));
  expect(snapshot.outcomes.filter((o) => ids.has(o.value.commandId))).toEqual([]);
  expect(snapshot.events.filter((e) => ids.has(e.value.commandId))).toEqual([]);
}

describe('routing checks', () => {
  it('a command produced with another partitioner is dead-lettered WRONG_PARTITION and creates no second copy of the account', async () => {
    const a = accountWhere((id) => legacyPartitionOf(id) !== partitionOf(id));
    expect(await client.run(makeCommand(a, open(100)))).toMatchObject({ status: 'ACCEPTED', version: 1, balance: 100 });
    const secondOpen = makeCommand(a, open(999));
    const misroutedDeposit = makeCommand(a, deposit(5));
    const offsets = new Map([
      [secondOpen.commandId, await produce(legacyProducer, a, secondOpen)],
      [misroutedDeposit.commandId, await produce(legacyProducer, a, misroutedDeposit)],
    ]);
    for (const at of offsets.values()) expect(at.partition).toBe(legacyPartitionOf(a));

    const snapshot = await settledOn([secondOpen, misroutedDeposit], offsets);
    expectNoTrace(snapshot, [secondOpen, misroutedDeposit]);
    const letters = snapshot.deadLetters.filter((d) => d.key === a);
    expect(letters.map((d) => [d.headers['dlq.source.partition'], d.headers['dlq.source.offset']])).toEqual(
      [...offsets.values()].map((at) => [String(at.partition), at.offset]),
    );
    for (const letter of letters) {
      expect(letter.headers['dlq.reason']).toMatch(new RegExp(`^WRONG_PARTITION: account ${a} belongs to partition ${partitionOf(a)} .*not ${legacyPartitionOf(a)}`));
      expect(letter.partition).toBe(legacyPartitionOf(a));
    }
    // The account exists once, where it belongs, and the misrouted deposit moved nothing.
    expect(snapshot.states.filter((s) => s.value.accountId === a).map((s) => s.partition)).toEqual([partitionOf(a)]);
    expect(await client.run(makeCommand(a, deposit(1)))).toMatchObject({ status: 'ACCEPTED', version: 2, balance: 101 });
    // The checker judges the routing itself: these dead letters are what DESIGN §8 asks for.
    expect(checkLedger(snapshot, { partitions: ledger.config.partitions }).violations).toEqual([]);
  });

  it('a command whose record key is not its accountId is dead-lettered KEY_MISMATCH, even on the right partition', async () => {
    const a = accountWhere(() => true);
    const other = accountWhere((id) => partitionOf(id) === partitionOf(a));
    expect(await client.run(makeCommand(a, open(10)))).toMatchObject({ status: 'ACCEPTED', balance: 10 });
    const wrongKey = makeCommand(a, deposit(7));
    const offsets = new Map([[wrongKey.commandId, await produce(legacyProducer, other, wrongKey)]]);
    // Keyed by `other`, which the murmur2 partitioner also puts on a's partition: only the key is wrong.
    const clientProducer = ledger.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await clientProducer.connect();
    const sameSlot = makeCommand(a, deposit(8));
    offsets.set(sameSlot.commandId, await produce(clientProducer, other, sameSlot));
    await clientProducer.disconnect();
    expect(offsets.get(sameSlot.commandId)?.partition).toBe(partitionOf(a));

    const snapshot = await settledOn([wrongKey, sameSlot], offsets);
    expectNoTrace(snapshot, [wrongKey, sameSlot]);
    const letters = snapshot.deadLetters.filter((d) => d.key === other);
    expect(letters).toHaveLength(2);
    for (const letter of letters) expect(letter.headers['dlq.reason']).toMatch(new RegExp(`^KEY_MISMATCH: record key "${other}" is not the command's accountId ${a}`));
    expect(await client.run(makeCommand(a, deposit(1)))).toMatchObject({ status: 'ACCEPTED', version: 2, balance: 11 });
  });
});
