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
  constructor(readonly differences: string[]) {
    super(`existing topics do not match the ledger's specification:\n  - ${differences.join('\n  - ')}`);
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
  for (const spec of specs) {
    const count = partitionCounts.get(spec.name);
    if (count !== partitions) differences.push(`${spec.name}: ${count} partitions, expected ${partitions}`);
    for (const [name, expected] of Object.entries(spec.configs)) {
      const actual = configs.get(spec.name)?.get(name);
      if (actual !== expected) differences.push(`${spec.name}: ${name}=${actual}, expected ${expected}`);
    }
  }
  if (differences.length > 0) throw new TopicMismatchError(differences);
}

export async function ensureTopics(admin: Admin, options: EnsureTopicsOptions): Promise<EnsureTopicsResult> {
  const specs = topicSpecs(options.prefix);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: options.partitions,
        replicationFactor: options.replicationFactor ?? -1,
        configEntries: Object.entries(s.configs).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  await verifyTopics(admin, specs, options.partitions);
  return { created: missing.map((s) => s.name), verified: specs.filter((s) => existing.has(s.name)).map((s) => s.name) };
}
