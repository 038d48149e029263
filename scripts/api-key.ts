// `npm run api-key -- create --name N --scopes read,write | list | revoke <keyId>` (DESIGN §9).
// Writes to and reads <prefix>api-keys directly (the same records the gateway's admin routes
// write), so it works with no gateway running and needs no key of its own: whoever can reach
// the brokers can already write any topic. Every gateway and query instance follows the topic,
// so a created or revoked key takes effect everywhere within 5 s. The key is printed once.
import { parseArgs } from 'node:util';
import { endpoints, loadConfig } from '../topics/config.ts';
import { createKafka } from '../topics/kafka.ts';
import { topicNames } from '../topics/topics.ts';
import { readToEnd } from '../topics/read-to-end.ts';
import { LedgerRegistry, createCodecs } from '../schemas/registry.ts';
import type { ApiKeyRecord } from '../schemas/api-key.ts';
import { apiKeyBounds, mintApiKey, scopes as knownScopes, type Scope } from '../processors/http/api-keys.ts';
import { KafkaApiKeyWriter } from '../processors/http/api-key-topic.ts';

const readTimeoutMs = 30_000;
const usage = 'usage: npm run api-key -- create --name <name> --scopes read,write,admin | list | revoke <keyId>';

function scopesOf(text: string): Scope[] {
  const values = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = values.filter((s) => !(knownScopes as readonly string[]).includes(s));
  if (values.length === 0 || unknown.length > 0) throw new Error(`--scopes must list ${knownScopes.join(', ')} (got "${text}")`);
  return [...new Set(values)] as Scope[];
}

function checkName(name: string | undefined): string {
  if (name === undefined || name.trim() === '') throw new Error('--name is required');
  if (name.length > apiKeyBounds.nameLengthMax) throw new Error(`--name is at most ${apiKeyBounds.nameLengthMax} characters`);
  if (/\p{Cc}/u.test(name)) throw new Error('--name must not contain control characters');
  return name;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({ allowPositionals: true, options: { name: { type: 'string' }, scopes: { type: 'string' } } });
  const [command, argument] = positionals;
  const config = loadConfig();
  const { brokers, registryUrl } = endpoints(config);
  const kafka = createKafka(brokers, `${config.appId}.api-key-cli`);
  const topic = topicNames(config.topicPrefix).apiKeys;
  const codecs = await createCodecs(new LedgerRegistry(registryUrl), config.topicPrefix);

  const readAll = async (): Promise<Map<string, ApiKeyRecord>> => {
    const latest = new Map<string, ApiKeyRecord>();
    await readToEnd({
      kafka, groupIdPrefix: `${config.appId}.api-key-cli`, topics: [topic], timeoutMs: readTimeoutMs,
      onBatch: async (_topic, _partition, messages) => {
        for (const message of messages) if (message.value !== null) { const r = await codecs.apiKeys.decode(message.value); latest.set(r.keyId, r); }
      },
    });
    return latest;
  };
  const write = async (record: ApiKeyRecord): Promise<void> => {
    const writer = new KafkaApiKeyWriter(kafka, topic);
    await writer.start(codecs.apiKeys);
    try {
      await writer.publish(record);
    } finally {
      await writer.close();
    }
  };

  switch (command) {
    case 'create': {
      const { key, record } = mintApiKey(checkName(values.name), scopesOf(values.scopes ?? ''), Date.now());
      await write(record);
      console.log(JSON.stringify({ keyId: record.keyId, key, name: record.name, scopes: record.scopes, createdAt: new Date(record.createdAt).toISOString() }, null, 2));
      console.error('keep the key now: it is stored only as a hash and never shown again');
      return;
    }
    case 'list': {
      const items = [...(await readAll()).values()].sort((a, b) => a.createdAt - b.createdAt);
      for (const k of items) {
        console.log([k.keyId, k.revokedAt === null ? 'active ' : 'revoked', k.scopes.join(','), new Date(k.createdAt).toISOString(), k.name].join('\t'));
      }
      if (items.length === 0) console.error('no API keys yet (LEDGER_ADMIN_KEY, the bootstrap key, is never stored)');
      return;
    }
    case 'revoke': {
      const keyId = (argument ?? '').toLowerCase();
      const known = (await readAll()).get(keyId);
      if (known === undefined) throw new Error(`API_KEY_NOT_FOUND: no API key has the id "${keyId}"`);
      const revokedAt = known.revokedAt ?? Date.now();
      if (known.revokedAt === null) await write({ ...known, revokedAt });
      console.log(JSON.stringify({ keyId, revokedAt: new Date(revokedAt).toISOString() }));
      return;
    }
    default:
      throw new Error(usage);
  }
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(`npm run api-key failed: ${error.message}`);
    process.exit(1);
  },
);
