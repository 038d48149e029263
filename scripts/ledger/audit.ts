// Reads a ledger and checks it, with what the checker needs to know besides the records: which
// commands the account processor has consumed (its group's committed offsets, read BEFORE the
// records, so everything those transactions wrote is in the snapshot), which partitions retention
// has trimmed on the commands and outcomes topics, the clock at the start of the read (ages are
// measured against it), and whether the ledger moved while it was read.
import type { Admin, Kafka } from 'kafkajs';
import type { Codecs } from '../../schemas/registry.ts';
import type { TopicNames } from '../../topics/topics.ts';
import { checkLedger, type LedgerReport } from './check.ts';
import { readLedger, type LedgerSnapshot } from './read.ts';

export interface AuditOptions {
  kafka: Kafka;
  /** Called once the topics are known to exist, so a wrong prefix is named as such. */
  codecs: () => Promise<Codecs>;
  topics: TopicNames;
  /** Names the processor's group `<appId>.account` and the audit's throwaway groups. */
  appId: string;
  /** The caller knows the ledger is quiet: anything still unprocessed is a violation. */
  settled?: boolean;
  /** A command unanswered or a transfer in flight longer than this is a violation (default stuckAfterDefaultMs). */
  stuckAfterMs?: number;
}

export interface AuditResult {
  snapshot: LedgerSnapshot;
  report: LedgerReport;
  processorGroup: string;
  /** False when the processor group has committed nothing (a wrong APP_ID, or nothing processed yet). */
  processorCommitted: boolean;
  /** Records that arrived while the ledger was read: disagreements at the newest ones may be transient. */
  arrivedDuringRead: number;
  readMs: number;
}

/** An operational failure (broker, registry, missing topics), as opposed to a broken invariant. */
export class AuditError extends Error {
  override name = 'AuditError';
}

type Offsets = Map<string, { low: bigint; high: bigint }>;

async function offsetsOf(admin: Admin, topics: string[]): Promise<Offsets> {
  const offsets: Offsets = new Map();
  for (const topic of topics) {
    for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) offsets.set(`${topic}/${partition}`, { low: BigInt(low), high: BigInt(high) });
  }
  return offsets;
}

/** The partitions of a topic whose log start is past 0: retention removed their oldest records. */
function trimmed(offsets: Offsets, topic: string): Set<number> {
  const partitions = new Set<number>();
  for (const [id, { low }] of offsets) if (id.startsWith(`${topic}/`) && low > 0n) partitions.add(Number(id.slice(topic.length + 1)));
  return partitions;
}

async function processedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const processed = new Map<number, bigint>();
  for (const { partition, offset } of committed?.partitions ?? []) if (BigInt(offset) >= 0n) processed.set(partition, BigInt(offset));
  return processed;
}

export async function auditLedger(options: AuditOptions): Promise<AuditResult> {
  const { kafka, topics } = options;
  const all = [topics.commands, topics.events, topics.accountState, topics.outcomes, topics.commandsDlq];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = all.filter((t) => !existing.has(t));
    if (missing.length > 0) throw new AuditError(`topics ${missing.join(', ')} do not exist (wrong BANK_TOPIC_PREFIX?)`);
    const codecs = await options.codecs();
    const processorGroup = `${options.appId}.account`;
    const processed = await processedOffsets(admin, processorGroup, topics.commands);
    const before = await offsetsOf(admin, all);
    const startedMs = Date.now();
    const snapshot = await readLedger(kafka, codecs, topics, `${options.appId}.check-ledger`);
    const readMs = Date.now() - startedMs;
    const after = await offsetsOf(admin, all);
    let arrivedDuringRead = 0;
    for (const [id, { high }] of after) arrivedDuringRead += Number(high - (before.get(id)?.high ?? 0n));
    const report = checkLedger(snapshot, {
      processedOffsets: processed,
      settled: options.settled ?? false,
      now: startedMs,
      stuckAfterMs: options.stuckAfterMs,
      commandsTrimmed: trimmed(before, topics.commands),
      partitions: [...before.keys()].filter((id) => id.startsWith(`${topics.commands}/`)).length,
      outcomesTrimmed: trimmed(before, topics.outcomes),
    });
    return { snapshot, report, processorGroup, processorCommitted: processed.size > 0, arrivedDuringRead, readMs };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
