// Per-test-file isolation on the shared real stack: every file gets its own topic prefix, app id
// (so its own consumer groups and transactional ids) and data directory.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { Admin, Kafka } from 'kafkajs';
import { createKafka } from '../../topics/kafka.ts';
import { ensureTopics } from '../../topics/admin.ts';
import { topicNames, type TopicNames } from '../../topics/topics.ts';
import type { LedgerConfig } from '../../topics/config.ts';
import { LedgerRegistry, createCodecs, type Codecs } from '../../schemas/registry.ts';
import { testAdminKey } from './keys.ts';

export interface TestLedger {
  config: LedgerConfig;
  brokers: string[];
  registryUrl: string;
  topics: TopicNames;
  kafka: Kafka;
  admin: Admin;
  registry: LedgerRegistry;
  codecs: Codecs;
  /** Environment for a child process (processor, gateway, query) that should join this ledger. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface TestLedgerOptions {
  partitions?: number;
}

export async function createTestLedger(name: string, options: TestLedgerOptions = {}): Promise<TestLedger> {
  const run = randomBytes(4).toString('hex');
  const brokers = inject('kafkaBrokers').split(',');
  const registryUrl = inject('schemaRegistryUrl');
  const safeName = name.replace(/[^a-zA-Z0-9-]/g, '-');
  const dataDir = mkdtempSync(join(tmpdir(), `ledger-${safeName}-`));
  const config: LedgerConfig = {
    brokers,
    registryUrl,
    topicPrefix: `test.${safeName}.${run}.`,
    partitions: options.partitions ?? 4,
    appId: `test-${safeName}-${run}`,
    dataDir,
  };
  const kafka = createKafka(brokers, config.appId);
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, { prefix: config.topicPrefix, partitions: config.partitions });
  const registry = new LedgerRegistry(registryUrl);
  const codecs = await createCodecs(registry, config.topicPrefix, { register: true });
  return {
    config,
    brokers,
    registryUrl,
    topics: topicNames(config.topicPrefix),
    kafka,
    admin,
    registry,
    codecs,
    env: {
      KAFKA_BROKERS: brokers.join(','),
      SCHEMA_REGISTRY_URL: registryUrl,
      BANK_TOPIC_PREFIX: config.topicPrefix,
      BANK_PARTITIONS: String(config.partitions),
      APP_ID: config.appId,
      DATA_DIR: dataDir,
      // DESIGN §9: the services need a key; tests call them with this admin key (support/keys.ts).
      LEDGER_ADMIN_KEY: testAdminKey,
    },
    async close() {
      await admin.disconnect();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
  what: string;
}

/**
 * Waits until a service's `/ready` answers 2xx. On timeout the error carries the service's last
 * output lines: why it never got ready (its retry warnings, say), which the test cannot see otherwise.
 */
export async function waitUntilReady(service: { lines: string[] }, baseUrl: string, timeoutMs = 60_000, what = 'the gateway to be ready'): Promise<void> {
  try {
    await waitFor(async () => ((await fetch(`${baseUrl}/ready`).catch(() => undefined))?.ok ? true : undefined), { what, timeoutMs });
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last output lines:\n${service.lines.slice(-30).join('\n')}`, { cause: error });
  }
}

/** Polls until `probe` yields a value; fails with `what` after the bound. Tests never sleep. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs ?? 30_000} ms waiting for ${options.what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
