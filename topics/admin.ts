// Creates the ledger's topics when missing and verifies existing ones. Idempotent: running it
// twice changes nothing; a topic with the wrong partition count or configs is a startup error
// that names the topic and the difference, never silently used.
import kafkajs, { type Admin } from 'kafkajs';
import { topicSpecs, type TopicSpec } from './topics.ts';

// kafkajs is CommonJS and Node's ESM loader cannot see this export by name.
const { ConfigResourceTypes } = kafkajs;

export class TopicMismatchError extends Error {
  override name = 'TopicMismatchError';
  readonly retriable = false;
  constructor(
    readonly differences: string[],
    hints: string[] = [],
  ) {
    super(`existing topics do not match the ledger's specification:\n  - ${differences.join('\n  - ')}${hints.length > 0 ? `\n${hints.join('\n')}` : ''}`);
  }
}

export interface EnsureTopicsOptions {
  prefix: string;
  partitions: number;
  /** -1 lets the broker choose (default.replication.factor). */
  replicationFactor?: number;
}

export interface EnsureTopicsResult {
  created: string[];
  verified: string[];
}

async function describeTopics(admin: Admin, specs: TopicSpec[]) {
  const metadata = await admin.fetchTopicMetadata({ topics: specs.map((s) => s.name) });
  const partitionCounts = new Map(metadata.topics.map((t) => [t.name, t.partitions.length]));
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: specs.map((s) => ({ type: ConfigResourceTypes.TOPIC, name: s.name, configNames: Object.keys(s.configs) })),
  });
  const configs = new Map(
    described.resources.map((r) => [r.resourceName, new Map(r.configEntries.map((e) => [e.configName, e.configValue]))]),
  );
  return { partitionCounts, configs };
}

export async function verifyTopics(admin: Admin, specs: TopicSpec[], partitions: number): Promise<void> {
  const { partitionCounts, configs } = await describeTopics(admin, specs);
  const differences: string[] = [];
  const hints: string[] = [];
  for (const spec of specs) {
    const count = partitionCounts.get(spec.name);
    if (count !== partitions) differences.push(`${spec.name}: ${count} partitions, expected ${partitions}`);
    for (const [name, expected] of Object.entries(spec.configs)) {
      const actual = configs.get(spec.name)?.get(name);
      if (actual === expected) continue;
      differences.push(`${spec.name}: ${name}=${actual}, expected ${expected}`);
      // A config (unlike a partition count) can be changed in place with Kafka's own tool.
      hints.push(`  fix: npm run kafka -- configs --alter --entity-type topics --entity-name ${spec.name} --add-config ${name}=${expected}`);
    }
  }
  if (differences.length > 0) throw new TopicMismatchError(differences, hints);
}

/** Verification right after creation retries this often while metadata propagates. */
const verifyAttemptsMax = 10;
const verifyRetryDelayMs = 200;

const isUnknownTopic = (error: unknown): boolean =>
  (error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION' || /does not host this topic-partition|unknown topic/i.test((error as Error).message);

/**
 * Newly created topics can be unknown to the broker's metadata for a moment (kafkajs'
 * waitForLeaders only waits out LEADER_NOT_AVAILABLE): retry that, nothing else.
 */
async function verifyAfterCreate(admin: Admin, specs: TopicSpec[], partitions: number): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await verifyTopics(admin, specs, partitions);
      return;
    } catch (error) {
      if (!isUnknownTopic(error) || attempt >= verifyAttemptsMax) throw error;
      await new Promise((resolve) => setTimeout(resolve, verifyRetryDelayMs * attempt));
    }
  }
}

async function createTopics(admin: Admin, missing: TopicSpec[], options: EnsureTopicsOptions): Promise<void> {
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor ?? -1,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  } catch (error) {
    // The topics exist; only waiting for their metadata failed. Verification retries that.
    if (!isUnknownTopic(error)) throw error;
  }
}

export async function ensureTopics(admin: Admin, options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const specs = topicSpecs(options.prefix);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    await createTopics(admin, missing, options);
  }
  await verifyAfterCreate(admin, specs, options.partitions);
  return { created: missing.map((s) => s.name), verified: specs.filter((s) => existing.has(s.name)).map((s) => s.name) };
}
