// `npm run inspect -- <topic> [--partition P] [--limit N] [--key K]`: decodes a ledger topic's
// Avro records (Confluent wire format, schemas from the registry) and prints one JSON object per
// record with partition, offset, key and headers. Reads read_committed up to the current end.
// <topic> is a full name (bank.events) or a short one: commands, events, account-state, outcomes, dlq.
import { endpoints, loadConfig } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { topicNames } from '../topics/topics.ts';
import { readToEnd } from '../topics/read-to-end.ts';
import { LedgerRegistry, createCodecs } from '../schemas/registry.ts';
import { DecodeError, type TopicCodec } from '../schemas/codec.ts';

/** Printing stops after this many records unless --limit says otherwise. */
const defaultLimit = 1000;
const inspectTimeoutMs = 5 * 60_000;

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { brokers, registryUrl } = endpoints(config);
  const names = topicNames(config.topicPrefix);
  const short: Record<string, string> = { commands: names.commands, events: names.events, 'account-state': names.accountState, outcomes: names.outcomes, dlq: names.commandsDlq };
  const asked = process.argv[2];
  if (asked === undefined || asked.startsWith('--')) throw new Error(`usage: npm run inspect -- <${Object.keys(short).join('|')}|topic name> [--partition P] [--limit N] [--key K]`);
  const topic = short[asked] ?? asked;
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix);
  const codecByTopic = new Map<string, TopicCodec<unknown>>([
    [names.commands, codecs.commands as TopicCodec<unknown>],
    [names.events, codecs.events as TopicCodec<unknown>],
    [names.accountState, codecs.accountState as TopicCodec<unknown>],
    [names.outcomes, codecs.outcomes as TopicCodec<unknown>],
  ]);
  const codec = codecByTopic.get(topic);
  const partition = option('partition');
  const limit = Number(option('limit') ?? defaultLimit);
  const key = option('key');
  let printed = 0;
  await readToEnd({
    kafka: createKafka(brokers, `${config.appId}.inspect`),
    groupIdPrefix: `${config.appId}.inspect`,
    topics: [topic],
    ...(partition !== undefined ? { partitions: [Number(partition)] } : {}),
    timeoutMs: inspectTimeoutMs,
    onBatch: async (_topic, p, messages) => {
      for (const m of messages) {
        if (printed >= limit) return;
        const recordKey = m.key?.toString('utf8') ?? null;
        if (key !== undefined && recordKey !== key) continue;
        let value: unknown;
        try {
          value = codec ? await codec.decode(m.value) : m.value?.toString('utf8');
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          value = { undecodable: error.message, bytes: m.value?.toString('base64') };
        }
        const headers = Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString()]));
        process.stdout.write(JSON.stringify({ partition: p, offset: m.offset, key: recordKey, headers, value }) + '\n');
        printed += 1;
      }
    },
  });
}

main().catch((error: Error) => {
  process.stderr.write(`npm run inspect failed: ${error.message}\n`);
  process.exit(1);
});
