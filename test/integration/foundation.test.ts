// The ground the ledger stands on, against the real broker and registry: topics are created
// idempotently and verified; every record round-trips through the registry-backed codec;
// the registry enforces BACKWARD_TRANSITIVE; Avro written in a transaction is read back
// read_committed, and an aborted transaction's records never are.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import avro from 'avsc';
import kafkajs from 'kafkajs';
import { createTestLedger, type TestLedger } from '../support/ledger.ts';
import { ensureTopics, TopicMismatchError } from '../../topics/admin.ts';
import { topicSpecs } from '../../topics/topics.ts';
import { readToEnd } from '../../topics/read-to-end.ts';
import { committedOffset } from '../../processors/account/committed-offset.ts';
import { schemaText } from '../../schemas/registry.ts';
import { TopicCodec } from '../../schemas/codec.ts';
import { commandMapping } from '../../schemas/records.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome } from '../../schemas/types.ts';

const { Partitioners } = kafkajs;
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await createTestLedger('foundation', { partitions: 3 });
});

afterAll(async () => {
  await ledger?.close();
});

const now = Date.now();
const id = () => randomUUID();
const commands: Command[] = [
  { type: 'OpenAccount', ownerName: 'Åsa Ölund', currency: 'SEK', initialBalance: 0, overdraftLimit: 0 },
  { type: 'Deposit', amount: 9_007_199_254_740_990, reference: 'max' },
  { type: 'Withdraw', amount: 1, reference: null },
  { type: 'InitiateTransfer', transferId: id(), toAccountId: id(), amount: 5, reference: 'rent' },
  { type: 'CreditTransfer', transferId: id(), fromAccountId: id(), amount: 5, currency: 'EUR' },
  { type: 'RefundTransfer', transferId: id(), toAccountId: id(), amount: 5, reason: 'ACCOUNT_CLOSED' },
  { type: 'CloseAccount' },
].map((payload, i) => ({ commandId: id(), accountId: id(), issuedAt: now, fingerprint: 'f'.repeat(64), payload, actor: i % 2 === 0 ? 'tester000001' : null, metadata: i % 3 === 0 ? {} : { 'crm.id': `c-${i}`, note: 'Å😀'.repeat(100) } }) as Command);
const events: AccountEvent[] = [
  { type: 'AccountOpened', ownerName: 'Ada', currency: 'EUR', initialBalance: 10, overdraftLimit: 0 },
  { type: 'MoneyDeposited', amount: 5, balanceAfter: 15, reference: null },
  { type: 'MoneyWithdrawn', amount: 5, balanceAfter: 10, reference: 'atm' },
  { type: 'TransferDebited', transferId: id(), toAccountId: id(), amount: 1, balanceAfter: 9, inFlight: 1 },
  { type: 'TransferCredited', transferId: id(), fromAccountId: id(), amount: 1, balanceAfter: 10 },
  { type: 'TransferRefunded', transferId: id(), toAccountId: id(), amount: 1, balanceAfter: 11, reason: 'CURRENCY_MISMATCH', inFlightReleased: 1 },
  { type: 'AccountClosed' },
].map((payload, i) => ({ eventId: `a:${i + 1}`, accountId: 'a', sequence: i + 1, commandId: id(), occurredAt: now, payload, actor: i % 2 === 0 ? 'tester000001' : null, metadata: i % 3 === 0 ? {} : { 'crm.id': `c-${i}` } }) as AccountEvent);
const state: AccountState = { accountId: id(), ownerName: 'Ada', currency: 'EUR', balance: 42, status: 'CLOSED', version: 7, openedAt: now - 1, updatedAt: now, outgoingInFlight: 0, heldBalance: 0, overdraftLimit: 0 };
const outcomes: CommandOutcome[] = [
  { commandId: id(), accountId: id(), status: 'ACCEPTED', code: null, message: null, fingerprint: 'x', version: 3, balance: 10, transferId: id(), eventSequences: [3], processedAt: now, transferStatus: 'pending', transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null, reversalId: null, reversedCommandId: null, reversalStatus: null, reversalCode: null, amount: null, postingType: null, counterpartyAccountId: null },
  { commandId: id(), accountId: id(), status: 'REJECTED', code: 'INSUFFICIENT_FUNDS', message: 'balance 1 is less than 5', fingerprint: 'y', version: 0, balance: null, transferId: null, eventSequences: [], processedAt: now, transferStatus: null, transferCode: null, availableBalance: null, overdraftLimit: null, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null, reversalId: null, reversedCommandId: null, reversalStatus: null, reversalCode: null, amount: null, postingType: null, counterpartyAccountId: null },
  // A transfer reversal's record (DESIGN §10): every reversal field set.
  { commandId: id(), accountId: id(), status: 'ACCEPTED', code: null, message: null, fingerprint: 'z', version: 7, balance: 90, transferId: id(), eventSequences: [7], processedAt: now, transferStatus: null, transferCode: null, availableBalance: 90, overdraftLimit: 0, holdId: null, holdStatus: null, holdAmount: null, expiresAt: null, capturedAmount: null, reversalId: id(), reversedCommandId: id(), reversalStatus: 'failed', reversalCode: 'INSUFFICIENT_FUNDS', amount: 10, postingType: 'TransferDebited', counterpartyAccountId: id() },
];

describe('topics', () => {
  it('ensureTopics is idempotent: a second run creates nothing and verifies everything', async () => {
    const again = await ensureTopics(ledger.admin, { prefix: ledger.config.topicPrefix, partitions: ledger.config.partitions });
    expect(again.created).toEqual([]);
    expect(again.verified).toHaveLength(topicSpecs(ledger.config.topicPrefix).length);
  });

  it('an existing topic with another partition count is an error naming the topic and the difference', async () => {
    const error = await ensureTopics(ledger.admin, { prefix: ledger.config.topicPrefix, partitions: 5 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TopicMismatchError);
    expect((error as Error).message).toContain(`${ledger.topics.commands}: 3 partitions, expected 5`);
  });
});

describe('schemas and codec', () => {
  it('every command, event, state and outcome round-trips through the Confluent wire format', async () => {
    for (const c of commands) expect(await ledger.codecs.commands.decode(ledger.codecs.commands.encode(c))).toEqual(c);
    for (const e of events) expect(await ledger.codecs.events.decode(ledger.codecs.events.encode(e))).toEqual(e);
    expect(await ledger.codecs.accountState.decode(ledger.codecs.accountState.encode(state))).toEqual(state);
    for (const o of outcomes) expect(await ledger.codecs.outcomes.decode(ledger.codecs.outcomes.encode(o))).toEqual(o);
    for (const k of [{ keyId: 'abcdefghijkl0001', name: 'ci', scopes: ['read', 'write'], secretHash: 'a'.repeat(64), createdAt: now, revokedAt: null }, { keyId: 'abcdefghijkl0002', name: 'old', scopes: ['admin'], secretHash: 'b'.repeat(64), createdAt: now, revokedAt: now + 1 }]) {
      expect(await ledger.codecs.apiKeys.decode(ledger.codecs.apiKeys.encode(k))).toEqual(k);
    }
    const wire = ledger.codecs.events.encode(events[0] as AccountEvent);
    expect(wire.readUInt8(0)).toBe(0);
    expect(wire.readUInt32BE(1)).toBe(ledger.codecs.events.writerId);
  });

  it('every subject is BACKWARD_TRANSITIVE', async () => {
    for (const subject of [ledger.codecs.commands.subject, ledger.codecs.events.subject, ledger.codecs.accountState.subject, ledger.codecs.outcomes.subject, ledger.codecs.apiKeys.subject]) {
      const response = await fetch(`${ledger.registryUrl}/config/${subject}`);
      expect(((await response.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe('BACKWARD_TRANSITIVE');
    }
  });

  it('the registry refuses incompatible changes: a new field without a default, a changed type', async () => {
    const subject = ledger.codecs.commands.subject;
    const schema = JSON.parse(schemaText('command.avsc')) as { fields: Array<{ name: string; type: unknown; default?: unknown }> };
    const withRequiredField = { ...schema, fields: [...schema.fields, { name: 'channel', type: 'string' }] };
    const withChangedType = { ...schema, fields: schema.fields.map((f) => (f.name === 'issuedAt' ? { name: 'issuedAt', type: 'string' } : f)) };
    for (const changed of [withRequiredField, withChangedType]) {
      const error = await ledger.registry.register(subject, JSON.stringify(changed)).catch((e: unknown) => e as Error & { status?: number });
      expect((error as { status?: number }).status).toBe(409);
      expect((error as Error).message).toMatch(/Incompatible/);
    }
  });

  it('a new optional field with a default is accepted, and records written with it still decode for old readers', async () => {
    const subject = ledger.codecs.commands.subject;
    const schema = JSON.parse(schemaText('command.avsc')) as { fields: unknown[] };
    const evolved = { ...schema, fields: [...schema.fields, { name: 'channel', type: ['null', 'string'], default: null }] };
    const evolvedId = await ledger.registry.register(subject, JSON.stringify(evolved));
    expect(evolvedId).not.toBe(ledger.codecs.commands.writerId);
    const newWriter = new TopicCodec<Command & { channel: string | null }>(subject, avro.Type.forSchema(evolved as avro.Schema), evolvedId, commandMapping as never, ledger.registry);
    const written = newWriter.encode({ ...(commands[1] as Command), channel: 'mobile' });
    // Our codec (the old reader) resolves the new writer schema from the registry by id.
    expect(await ledger.codecs.commands.decode(written)).toEqual(commands[1]);
  });
});

describe('transactions', () => {
  it('Avro records produced in a committed transaction are read back read_committed; an aborted one is invisible', async () => {
    const producer = ledger.kafka.producer({ transactionalId: `${ledger.config.appId}.foundation`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const committed = await producer.transaction();
    await committed.send({ topic: ledger.topics.events, messages: events.map((e) => ({ key: `${e.accountId}:${e.sequence}`, value: ledger.codecs.events.encode(e), partition: 0 })) });
    await committed.commit();
    const aborted = await producer.transaction();
    const ghost = { ...(events[1] as AccountEvent), eventId: 'ghost:1', accountId: 'ghost' };
    await aborted.send({ topic: ledger.topics.events, messages: [{ key: 'ghost:1', value: ledger.codecs.events.encode(ghost), partition: 0 }] });
    await aborted.abort();
    await producer.disconnect();

    const read: AccountEvent[] = [];
    await readToEnd({
      kafka: ledger.kafka,
      groupIdPrefix: `${ledger.config.appId}.foundation-read`,
      topics: [ledger.topics.events],
      timeoutMs: 60_000,
      onBatch: async (_topic, _partition, messages) => {
        for (const m of messages) read.push(await ledger.codecs.events.decode(m.value));
      },
    });
    expect(read).toEqual(events);
  });

  it('a transactional producer finds its coordinators once, not before every transaction step (patches/kafkajs: FindCoordinator memo)', async () => {
    const producer = ledger.kafka.producer({ transactionalId: `${ledger.config.appId}.coordinators`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    const requests = new Map<string, number>();
    producer.on(producer.events.REQUEST, ({ payload }) => requests.set(payload.apiName, (requests.get(payload.apiName) ?? 0) + 1));
    await producer.connect();
    const transactions = 10;
    const groupId = `${ledger.config.appId}.coordinators`;
    for (let i = 0; i < transactions; i += 1) {
      const transaction = await producer.transaction();
      await transaction.send({ topic: ledger.topics.events, messages: [{ key: `k:${i}`, value: ledger.codecs.events.encode(events[1] as AccountEvent), partition: 0 }] });
      await transaction.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: ledger.topics.commands, partitions: [{ partition: 0, offset: String(i + 1) }] }] });
      await transaction.commit();
    }
    await producer.disconnect();
    // Every transaction still takes each of its steps (AddPartitionsToTxn again while the previous
    // commit's markers are written: CONCURRENT_TRANSACTIONS), and they all committed.
    for (const api of ['Produce', 'AddOffsetsToTxn', 'TxnOffsetCommit', 'EndTxn']) expect(requests.get(api), api).toBe(transactions);
    expect(requests.get('AddPartitionsToTxn')).toBeGreaterThanOrEqual(transactions);
    // Read stable: commit() returns once the commit is decided, and the group coordinator applies the
    // offsets when the marker reaches __consumer_offsets, a moment later. A plain fetch just after
    // can still answer the previous transaction's offset (CI saw '9' once); the processor reads the
    // same way (committed-offset.ts).
    const committed = await committedOffset({ kafka: ledger.kafka, groupId, topic: ledger.topics.commands, partition: 0, waitMs: 30_000, heartbeat: async () => undefined });
    expect(committed).toBe(String(transactions));
    // Unpatched kafkajs asks before each of the four coordinator requests: 1 + 4 × 10 = 41.
    // Patched: once for the transaction coordinator, once for the group's.
    expect(requests.get('GroupCoordinator')).toBe(2);
  });
});
