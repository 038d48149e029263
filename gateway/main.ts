// The gateway process: listens at once (503 UNAVAILABLE and /ready 503 until Kafka and the schema
// registry answer), connects in the background and keeps reconnecting by itself; SIGINT/SIGTERM
// stop accepting, let in-flight requests finish (each bounded by COMMAND_TIMEOUT_MS) and disconnect.
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { createKafka } from '../topics/kafka.ts';
import { verifyTopics, TopicMismatchError } from '../topics/admin.ts';
import { topicNames, topicSpecs } from '../topics/topics.ts';
import { LedgerRegistry, createCodecs, type Codecs } from '../schemas/registry.ts';
import { buildApp } from './app.ts';
import { KafkaCommandSink } from './command-sink.ts';
import { loadGatewaySettings, type GatewaySettings } from './config.ts';
import { GatewayMetrics } from './metrics.ts';
import { OutcomeTable } from './outcome-table.ts';
import { KafkaOutcomeFeed } from './outcomes.ts';
import type { Log } from './ports.ts';
import { retryUntilDone } from './retry.ts';
import { ApiKeyDirectory } from '../processors/http/api-keys.ts';
import { ApiKeyFollower, KafkaApiKeyWriter, keyFollowerGroup } from '../processors/http/api-key-topic.ts';

/** The gateway reads and writes only these; a wrong partition count or policy is fatal. */
async function checkTopics(admin: Admin, settings: GatewaySettings): Promise<void> {
  const specs = topicSpecs(settings.ledger.topicPrefix).filter((spec) => spec.role === 'commands' || spec.role === 'outcomes' || spec.role === 'apiKeys');
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !existing.has(spec.name)).map((spec) => spec.name);
  // Missing is retried: `npm start` may still be creating them.
  if (missing.length > 0) throw new Error(`topics ${missing.join(', ')} do not exist yet (\`npm run topics\` creates them)`);
  await verifyTopics(admin, specs, settings.ledger.partitions);
}

async function main(): Promise<void> {
  const settings = loadGatewaySettings();
  const { ledger, gateway } = settings;
  const names = topicNames(ledger.topicPrefix);
  // A group of its own per process start: the gateway commits no offsets (it seeks by time), and
  // reusing a crashed instance's group would make the restart wait out the dead member's session.
  const groupId = `${ledger.appId}.gateway.${gateway.instanceId}.${randomBytes(3).toString('hex')}`;
  const metrics = new GatewayMetrics();
  const table = new OutcomeTable(gateway, metrics);
  const kafka = createKafka(ledger.brokers, groupId);
  const admin = kafka.admin();
  // Everything logs through the app's pino logger (JSON lines on stdout); adapters are built
  // before the app, so they reach it through this forwarder (first used after buildApp).
  const log: Log = {
    info: (fields, message) => app.log.info(fields, message),
    warn: (fields, message) => app.log.warn(fields, message),
    error: (fields, message) => app.log.error(fields, message),
  };
  const sink = new KafkaCommandSink(kafka, names.commands, gateway, log, metrics);
  const feed = new KafkaOutcomeFeed({ kafka, admin, topic: names.outcomes, groupId, outcomeLookbackMs: gateway.outcomeLookbackMs, table, log });
  // API keys (DESIGN §9): LEDGER_ADMIN_KEY, plus <prefix>api-keys followed from its beginning.
  const keys = new ApiKeyDirectory(gateway.adminKey);
  const keyLog = { info: (message: string, fields: object = {}) => log.info(fields, message), warn: (message: string, fields: object = {}) => log.warn(fields, message) };
  const keyFollower = new ApiKeyFollower({ kafka, topic: names.apiKeys, groupId: keyFollowerGroup(ledger.appId, `gateway.${gateway.instanceId}`), directory: keys, log: keyLog });
  const keyWriter = new KafkaApiKeyWriter(kafka, names.apiKeys);
  if (gateway.adminKey === undefined) process.stderr.write('gateway: LEDGER_ADMIN_KEY is not set; only keys from the api-keys topic are accepted\n');
  const app = buildApp({ commandSink: sink, outcomes: table, config: gateway, metrics, keys, keyAdmin: keyWriter, log: { level: process.env.LOG_LEVEL ?? 'info' } });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'gateway shutting down');
    setTimeout(() => {
      log.error({ shutdownTimeoutMs: gateway.shutdownTimeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, gateway.shutdownTimeoutMs).unref();
    await app.close(); // stops accepting; in-flight requests finish first
    table.releaseAll();
    await sink.close();
    await feed.close();
    await keyFollower.close();
    await keyWriter.close();
    await admin.disconnect().catch(() => {});
    log.info({}, 'gateway stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ host: gateway.host, port: gateway.port });
  log.info({ brokers: ledger.brokers, registry: ledger.registryUrl, prefix: ledger.topicPrefix, groupId }, 'gateway listening; connecting to Kafka');

  // Each step runs once; a failed step is retried with backoff until Kafka and the registry answer.
  let codecs: Codecs | undefined;
  let sinkStarted = false;
  let keyWriterStarted = false;
  let keyFollowerStarted = false;
  const connected = await retryUntilDone(
    'connecting to Kafka and the schema registry',
    async () => {
      await admin.connect();
      await checkTopics(admin, settings);
      codecs ??= await createCodecs(new LedgerRegistry(ledger.registryUrl), ledger.topicPrefix);
      if (!sinkStarted) await sink.start(codecs.commands);
      sinkStarted = true;
      if (!keyWriterStarted) await keyWriter.start(codecs.apiKeys);
      keyWriterStarted = true;
      if (!keyFollowerStarted) await keyFollower.start(codecs.apiKeys);
      keyFollowerStarted = true;
      await feed.start(codecs.outcomes);
    },
    { log, stopped: () => stopping, fatal: (error) => error instanceof TopicMismatchError },
  );
  if (connected) log.info({}, 'gateway connected: producer and outcome consumer running');
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: 'gateway failed to start', err: String((error as Error)?.stack ?? error) })}\n`);
  process.exit(1);
});
