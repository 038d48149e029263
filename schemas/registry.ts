// Schema registry adapter (Confluent-compatible API; Apicurio's /apis/ccompat/v7 or Confluent's).
// `npm run schemas` registers our .avsc files; services only look their ids up, so a service
// never changes what is registered. Registry failures are retriable errors, an unknown schema id
// is not (see codec.ts).
import { readFileSync } from 'node:fs';
import { SchemaRegistry, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import { topicNames } from '../topics/topics.ts';
import { TopicCodec, type SchemaSource } from './codec.ts';
import { ledgerAvroType } from './avro-long.ts';
import { commandMapping, eventMapping, outcomeMapping, stateMapping, type RecordMapping } from './records.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome } from './types.ts';
import { apiKeyMapping, type ApiKeyRecord } from './api-key.ts';

export const registryRequestTimeoutMs = 5000;
export const subjectCompatibility = COMPATIBILITY.BACKWARD_TRANSITIVE;
/** Attempts to set a subject's level while a restarted Apicurio still replays its journal (409), 500 ms apart: ~15 s. */
const compatibilityAttemptsMax = 30;
const compatibilityRetryDelayMs = 500;

export class RegistryUnavailableError extends Error {
  override name = 'RegistryUnavailableError';
  readonly retriable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export function schemaText(schemaFile: string): string {
  return readFileSync(new URL(`./${schemaFile}`, import.meta.url), 'utf8');
}

export interface Codecs {
  commands: TopicCodec<Command>;
  events: TopicCodec<AccountEvent>;
  accountState: TopicCodec<AccountState>;
  outcomes: TopicCodec<CommandOutcome>;
  /** The movements changelog: CommandOutcome records under their own subject. */
  movements: TopicCodec<CommandOutcome>;
  /** The HTTP edge's API keys (DESIGN §9). */
  apiKeys: TopicCodec<ApiKeyRecord>;
}

/** The value subject of each Avro topic (TopicNameStrategy) and its mapping. */
export function subjects(prefix: string) {
  const names = topicNames(prefix);
  return {
    commands: { subject: `${names.commands}-value`, mapping: commandMapping },
    events: { subject: `${names.events}-value`, mapping: eventMapping },
    accountState: { subject: `${names.accountState}-value`, mapping: stateMapping },
    outcomes: { subject: `${names.outcomes}-value`, mapping: outcomeMapping },
    movements: { subject: `${names.movements}-value`, mapping: outcomeMapping },
    apiKeys: { subject: `${names.apiKeys}-value`, mapping: apiKeyMapping },
  } as const;
}

export class LedgerRegistry implements SchemaSource {
  readonly client: SchemaRegistry;

  constructor(readonly url: string) {
    this.client = new SchemaRegistry({ host: url, clientId: 'kafka-ledger', retry: { retries: 3, initialRetryTimeInSecs: 0.1, maxRetryTimeInSecs: 1 } });
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    try {
      return await fetch(`${this.url}${path}`, {
        ...init,
        headers: { 'Content-Type': 'application/vnd.schemaregistry.v1+json', Accept: 'application/json', ...init.headers },
        signal: AbortSignal.timeout(registryRequestTimeoutMs),
      });
    } catch (cause) {
      throw new RegistryUnavailableError(`schema registry at ${this.url} is unreachable: ${(cause as Error).message}`, { cause });
    }
  }

  async schemaById(id: number): Promise<string | undefined> {
    const response = await this.request(`/schemas/ids/${id}`);
    if (response.status === 404) return undefined;
    if (!response.ok) throw new RegistryUnavailableError(`schema registry answered ${response.status} for schema id ${id}`);
    const body = (await response.json()) as { schema?: string };
    return body.schema;
  }

  /**
   * Sets the subject's compatibility explicitly before registering. Apicurio answers
   * GET /config/{subject} with the global level where Confluent answers 404, which makes the
   * client's register() refuse a mismatch; an explicit per-subject level is right for both.
   */
  async setCompatibility(subject: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const response = await this.request(`/config/${encodeURIComponent(subject)}`, {
        method: 'PUT',
        body: JSON.stringify({ compatibility: subjectCompatibility }),
      });
      if (response.ok) return;
      const text = await response.text();
      // Apicurio (KafkaSQL storage) answers 409 "A rule named 'COMPATIBILITY' already exists" while
      // a restarted registry is still replaying its journal: the rule is there, not yet visible to
      // the update path. It settles within seconds; a level that already reads right is enough.
      if (response.status === 409 && attempt < compatibilityAttemptsMax) {
        if ((await this.compatibilityOf(subject)) === subjectCompatibility) return;
        await new Promise((resolve) => setTimeout(resolve, compatibilityRetryDelayMs));
        continue;
      }
      throw new RegistryUnavailableError(`could not set ${subjectCompatibility} on ${subject}: ${response.status} ${text}`);
    }
  }

  /** The subject's own compatibility level, or undefined (Confluent: none set; Apicurio: the global one). */
  private async compatibilityOf(subject: string): Promise<string | undefined> {
    const response = await this.request(`/config/${encodeURIComponent(subject)}`);
    if (!response.ok) return undefined;
    const body = (await response.json()) as { compatibilityLevel?: string; compatibility?: string };
    return body.compatibilityLevel ?? body.compatibility;
  }

  async register(subject: string, schema: string): Promise<number> {
    await this.setCompatibility(subject);
    const { id } = await this.client.register({ type: 'AVRO' as never, schema }, { subject, compatibility: subjectCompatibility });
    return id;
  }

  /** The id our exact schema has under the subject, or a clear error telling how to register it. */
  async lookupId(subject: string, schema: string): Promise<number> {
    try {
      return await this.client.getRegistryIdBySchema(subject, { type: 'AVRO' as never, schema });
    } catch (cause) {
      const status = (cause as { status?: number }).status;
      if (status === 404) throw new Error(`schema for ${subject} is not registered: run \`npm run schemas\` first`, { cause });
      throw new RegistryUnavailableError(`schema registry at ${this.url} failed to look up ${subject}: ${(cause as Error).message}`, { cause });
    }
  }
}

/** Registers every schema of the ledger (idempotent) and returns subject → id. */
export async function registerSchemas(registry: LedgerRegistry, prefix: string): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const { subject, mapping } of Object.values(subjects(prefix))) {
    ids[subject] = await registry.register(subject, schemaText(mapping.schemaFile));
  }
  return ids;
}

async function codecFor<T>(registry: LedgerRegistry, subject: string, mapping: RecordMapping<T>, register: boolean): Promise<TopicCodec<T>> {
  const text = schemaText(mapping.schemaFile);
  const id = register ? await registry.register(subject, text) : await registry.lookupId(subject, text);
  return new TopicCodec(subject, ledgerAvroType(JSON.parse(text)), id, mapping, registry);
}

/** Codecs for every Avro topic; `register` is for tests and `npm run schemas`, services look up. */
export async function createCodecs(registry: LedgerRegistry, prefix: string, options: { register?: boolean } = {}): Promise<Codecs> {
  const s = subjects(prefix);
  const register = options.register ?? false;
  return {
    commands: await codecFor(registry, s.commands.subject, s.commands.mapping, register),
    events: await codecFor(registry, s.events.subject, s.events.mapping, register),
    accountState: await codecFor(registry, s.accountState.subject, s.accountState.mapping, register),
    outcomes: await codecFor(registry, s.outcomes.subject, s.outcomes.mapping, register),
    movements: await codecFor(registry, s.movements.subject, s.movements.mapping, register),
    apiKeys: await codecFor(registry, s.apiKeys.subject, s.apiKeys.mapping, register),
  };
}
