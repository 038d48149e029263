// The account processor's paths for a store or a partition it cannot trust, on the real broker:
// a store whose checkpoint is past the end of its changelogs (another incarnation of the topics)
// is wiped and rebuilt from them, while one within them resumes; a partition that fails
// partitionFailuresMax times in a row stops the process (exit 1) with nothing of the failed
// attempts visible, and a restart then gets past the cause.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { startService } from '../support/processes.ts';
import { exitWithin } from '../support/exit.ts';
import { CommandClient, deposit, makeCommand, open } from '../support/command-client.ts';
import { readAccountStores } from '../support/account-store.ts';
import { PartitionStore } from '../../processors/account/store.ts';
import { restorePartition } from '../../processors/account/restore.ts';
import { partitionFailuresMax } from '../../processors/account/processor.ts';
import { readLedger } from '../../scripts/ledger/read.ts';
import type { AccountState, CommandOutcome } from '../../schemas/types.ts';

let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('processor-recovery', { partitions: 2 });
});

afterAll(async () => {
  await ledger?.close();
});

const account = (accountId: string, balance: number, version: number): AccountState => ({ accountId, ownerName: 'Ada', currency: 'EUR', balance, status: 'OPEN', version, openedAt: 1, updatedAt: version, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 });
const outcome = (commandId: string, accountId: string): CommandOutcome => ({
  commandId, accountId, status: 'ACCEPTED', code: null, message: null, fingerprint: `fp-${commandId}`, version: 1, balance: 10, transferId: null, eventSequences: [1], processedAt: 1, transferStatus: null, transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null,
});

describe('restore from a checkpoint', () => {
  const partition = 0;
  let producer: Producer;
  let dataDir: string;
  const logged: string[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-restore-'));
    producer = ledger.kafka.producer();
    await producer.connect();
    // Partition 0's changelogs: account a (twice), account b, one idempotency record.
    const { accountState, outcomes } = ledger.topics;
    const states = [account('a', 10, 1), account('b', 20, 1), account('a', 15, 2)];
    await producer.send({ topic: accountState, acks: -1, messages: states.map((s) => ({ partition, key: s.accountId, value: ledger.codecs.accountState.encode(s) })) });
    await producer.send({ topic: outcomes, acks: -1, messages: [{ partition, key: 'c1', value: ledger.codecs.outcomes.encode(outcome('c1', 'a')) }] });
  });

  afterAll(async () => {
    await producer?.disconnect();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const identity = { clusterId: 'test-cluster', topics: ['commands', 'account-state', 'outcomes', 'movements'], partition };
  const restore = (store: PartitionStore) =>
    restorePartition({ kafka: ledger.kafka, appId: ledger.config.appId, partition, stateTopic: ledger.topics.accountState, outcomesTopic: ledger.topics.outcomes, movementsTopic: ledger.topics.movements, outcomesCutoff: 0, store, codecs: ledger.codecs, heartbeat: async () => {}, log: (msg) => void logged.push(msg) });

  it('a store whose checkpoint is ahead of the changelogs is wiped and rebuilt from them', async () => {
    const store = await PartitionStore.open(dataDir, identity, () => {});
    // What an earlier incarnation of the topics left: a phantom account, a checkpoint past their ends.
    await store.write([account('phantom', 1_000_000, 9)], [outcome('c-old', 'phantom')], { stateOffset: '1000', outcomesOffset: '1000', movementsOffset: '0' });
    const result = await restore(store);
    await store.close();
    expect(result.rebuilt).toBe(true);
    expect(result.checkpoint).toEqual({ stateOffset: '3', outcomesOffset: '1', movementsOffset: '0' });
    expect(logged).toContain('store checkpoint is ahead of the changelogs; rebuilding');
    const contents = await readAccountStores(dataDir, 1);
    expect([...contents.states.keys()].sort()).toEqual(['a', 'b']);
    expect(JSON.parse(contents.states.get('a') ?? '{}')).toEqual(account('a', 15, 2));
    expect([...contents.outcomes.keys()]).toEqual(['c1']);
  });

  it('a store whose checkpoint is within the changelogs resumes from it and keeps what it holds', async () => {
    const store = await PartitionStore.open(dataDir, identity, () => {});
    // After the rebuild above: checkpoint at the ends. A record it holds and the changelog lacks is
    // trusted (the store is what the changelogs said up to its checkpoint), not wiped.
    await store.write([account('kept', 5, 1)], [], { stateOffset: '2', outcomesOffset: '1', movementsOffset: '0' });
    logged.length = 0;
    const result = await restore(store);
    await store.close();
    expect(result.rebuilt).toBe(false);
    expect(logged).not.toContain('store checkpoint is ahead of the changelogs; rebuilding');
    const contents = await readAccountStores(dataDir, 1);
    expect([...contents.states.keys()].sort()).toEqual(['a', 'b', 'kept']);
    // Only the tail past the checkpoint was read again: a's second record.
    expect(result.states).toBe(1);
  });
});

/** An HTTP pass-through to the schema registry that the test can take away. */
async function registryProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
      fetch(`${target}${request.url ?? ''}`, { method: request.method, headers: { 'content-type': request.headers['content-type'] ?? 'application/json', accept: request.headers.accept ?? '*/*' }, body })
        .then(async (upstream) => {
          response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
          response.end(Buffer.from(await upstream.arrayBuffer()));
        })
        .catch(() => response.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the partition failure limit', () => {
  let client: CommandClient;

  beforeAll(async () => {
    client = new CommandClient(ledger);
    await client.start();
  });

  afterAll(async () => {
    await client?.stop();
  });

  it(`a partition failing ${partitionFailuresMax} times in a row stops the process, and a restart gets past the cause`, async () => {
    const registry = await registryProxy(ledger.registryUrl);
    // A short session: the dead instance's partitions go to the restart soon after it exits.
    const processor = startService('processors/account/main.ts', { ...ledger.env, SCHEMA_REGISTRY_URL: registry.url, ACCOUNT_SESSION_TIMEOUT_MS: '6000' });
    const opened = makeCommand(randomUUID(), open(100));
    expect((await client.run(opened, 60_000)).status).toBe('ACCEPTED');
    // The registry goes away. Known schema ids stay cached, but a command written with a schema id
    // this processor has not seen cannot be decoded until it comes back: a retriable failure.
    await registry.close();
    const unseen = ledger.codecs.commands.encode(makeCommand(opened.accountId, deposit(5)));
    unseen.writeUInt32BE(2_000_000_000, 1);
    await client.sendRaw(opened.accountId, unseen);
    const after = makeCommand(opened.accountId, deposit(7));
    await client.send(after);

    expect(await exitWithin(processor, 120_000)).toBe(1);
    const failures = processor.lines.filter((l) => l.includes('partition failed; retrying')).map((l) => (JSON.parse(l) as { failures: number }).failures);
    expect(failures).toEqual(Array.from({ length: partitionFailuresMax }, (_, i) => i + 1));
    expect(processor.lines.some((l) => l.includes('account processor cannot continue') && l.includes(`failed ${partitionFailuresMax} times in a row`))).toBe(true);
    // Nothing of the failed attempts became visible: the command behind the bad record has no outcome.
    expect(client.outcomes.has(after.commandId)).toBe(false);

    // With the registry back the record turns out to be undecodable for good: dead-lettered, and
    // the command behind it is processed.
    const restarted = startService('processors/account/main.ts', ledger.env);
    let exit: number | string;
    try {
      expect((await client.outcome(after.commandId, 60_000)).status).toBe('ACCEPTED');
    } finally {
      exit = await restarted.kill('SIGTERM');
    }
    expect(exit).toBe(0);
    const snapshot = await readLedger(ledger.kafka, ledger.codecs, ledger.topics, `${ledger.config.appId}.audit`);
    expect(snapshot.deadLetters).toHaveLength(1);
    expect(snapshot.events.filter((e) => e.value.accountId === opened.accountId).map((e) => e.value.payload.type)).toEqual(['AccountOpened', 'MoneyDeposited']);
  }, 240_000);
});
