// `npm start`: the whole ledger on this machine. Without KAFKA_BROKERS it first boots the
// embedded stack (Kafka + schema registry from Maven Central); then it creates or verifies the
// topics, registers the schemas, and runs the account processor, the gateway and the query
// processor as supervised child processes. Ctrl-C (SIGINT) or SIGTERM stops everything it started.
import { endpoints, integerFromEnv, loadConfig } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { ensureTopics } from '../topics/admin.ts';
import { LedgerRegistry, registerSchemas } from '../schemas/registry.ts';
import { ServiceProcess, waitForHttp, waitForLine, type ServiceSpec } from './services.ts';
import { resolveAdminKey } from './admin-key.ts';
import { stackDir } from './stack/layout.ts';

/** Each service must be ready within this long after it starts. */
const serviceReadyTimeoutMs = 120_000;

const say = (line: string) => process.stdout.write(`[start]     ${line}\n`);

async function bootStack(): Promise<{ brokers: string[]; registryUrl: string; stop?: () => Promise<void> }> {
  const config = loadConfig();
  if (config.brokers !== undefined) {
    if (config.registryUrl === undefined) throw new Error('KAFKA_BROKERS is set but SCHEMA_REGISTRY_URL is not: set both to use your own stack, or neither for the embedded one');
    say(`using KAFKA_BROKERS=${config.brokers.join(',')} SCHEMA_REGISTRY_URL=${config.registryUrl}`);
    return { brokers: config.brokers, registryUrl: config.registryUrl };
  }
  say('no KAFKA_BROKERS: starting the embedded stack (first run downloads Kafka and Apicurio Registry from Maven Central)');
  const { ensureStack, stopStack } = await import('./stack/index.ts');
  const stack = await ensureStack({ log: (line) => say(line) });
  return { brokers: stack.brokers.split(','), registryUrl: stack.registryUrl, ...(stack.startedByUs ? { stop: () => stopStack({ log: say }) } : {}) };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { brokers, registryUrl, stop: stopStack } = await bootStack();
  const admin = createKafka(brokers, `${config.appId}.start`).admin();
  await admin.connect();
  const topics = await ensureTopics(admin, { prefix: config.topicPrefix, partitions: config.partitions }).finally(() => admin.disconnect());
  say(`topics: ${topics.created.length} created, ${topics.verified.length} verified (${config.partitions} partitions, prefix ${config.topicPrefix})`);
  await registerSchemas(new LedgerRegistry(registryUrl), config.topicPrefix);
  say('schemas registered (BACKWARD_TRANSITIVE)');

  const gatewayPort = integerFromEnv(process.env, 'GATEWAY_PORT', 8080, 1, 65535);
  const queryPort = integerFromEnv(process.env, 'QUERY_PORT', 8081, 1, 65535);
  const metricsPort = integerFromEnv(process.env, 'ACCOUNT_METRICS_PORT', 9464, 0, 65535);
  // DESIGN §9: the bootstrap admin key (keyId `bootstrap`) every service accepts.
  const adminKey = resolveAdminKey(stackDir());
  if (adminKey.source === 'generated') say(`generated an admin API key into ${adminKey.file} (mode 0600); it is reused on every start`);
  const env = {
    KAFKA_BROKERS: brokers.join(','), SCHEMA_REGISTRY_URL: registryUrl, GATEWAY_PORT: String(gatewayPort), QUERY_PORT: String(queryPort), LEDGER_ADMIN_KEY: adminKey.key,
  };
  const specs: ServiceSpec[] = [
    { name: 'processor', script: 'processors/account/main.ts', env: { ...env, ACCOUNT_METRICS_PORT: String(metricsPort) } },
    { name: 'gateway', script: 'gateway/main.ts', env },
    { name: 'query', script: 'processors/query/main.ts', env },
  ];
  let shuttingDown = false;
  const services: ServiceProcess[] = [];
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    say(`stopping (${reason})`);
    await Promise.all(services.map((s) => s.stop()));
    if (stopStack) await stopStack();
    say('stopped; nothing left running');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  for (const spec of specs) {
    const service = new ServiceProcess(spec, (line) => process.stdout.write(`${line}\n`), (name, why) => void shutdown(`${name} ${why}`, 1));
    services.push(service);
    service.start();
  }
  const [processor] = services as [ServiceProcess];
  try {
    await Promise.all([
      waitForLine(processor, /account processor started/, serviceReadyTimeoutMs),
      waitForHttp(`http://127.0.0.1:${gatewayPort}/ready`, serviceReadyTimeoutMs),
      waitForHttp(`http://127.0.0.1:${queryPort}/ready`, serviceReadyTimeoutMs),
    ]);
  } catch (error) {
    await shutdown(`not ready: ${(error as Error).message}`, 1);
    return;
  }
  say('ready:');
  say(`  gateway (commands)   http://127.0.0.1:${gatewayPort}/api/v1   docs: http://127.0.0.1:${gatewayPort}/docs`);
  say(`  query (views)        http://127.0.0.1:${queryPort}/api/v1/accounts`);
  say(`  metrics              http://127.0.0.1:${gatewayPort}/metrics  http://127.0.0.1:${queryPort}/metrics  http://127.0.0.1:${metricsPort}/metrics (processor)`);
  say(`  kafka                ${brokers.join(',')}   (npm run kafka -- topics --list)`);
  say(`  schema registry      ${registryUrl}`);
  say(`  admin API key        ${adminKey.source === 'env' ? 'LEDGER_ADMIN_KEY (from your environment)' : adminKey.file}`);
  say('every /api route needs the key (Authorization: Bearer ...); in another shell:');
  process.stdout.write(`export LEDGER_ADMIN_KEY=${shellQuoted(adminKey.key)}\n`);
  say('press Ctrl-C to stop everything');
}

/** As a POSIX shell reads it back: bare when it is plain, else in single quotes. */
const shellQuoted = (text: string): string => (/^[A-Za-z0-9_.:=+\/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);

main().catch((error: Error) => {
  process.stderr.write(`[start]     failed: ${error.message}\n`);
  process.exit(1);
});
