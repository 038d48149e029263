// Where the account processor's group left off in one partition of the commands topic, read
// stable (KIP-447's require_stable): the answer waits while another transaction has sent offsets
// for the partition and not yet ended, since reading before it ends could re-process its commands.
import type { Kafka } from 'kafkajs';

/** Between two stable reads that found the partition's offsets pending. */
const unstableRetryMs = 100;

export interface CommittedOffsetOptions {
  kafka: Kafka;
  groupId: string;
  topic: string;
  partition: number;
  /** How long a stable read waits for a pending transaction to end before failing. */
  waitMs: number;
  heartbeat: () => Promise<void>;
}

/** The committed offset, or the log start when nothing is committed or it was deleted. */
export async function committedOffset(options: CommittedOffsetOptions): Promise<string> {
  const { kafka, groupId, topic, partition } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + options.waitMs;
    let offset = '-1';
    for (;;) {
      try {
        // Only this partition: a stable read is refused while any asked partition has offsets pending.
        const [committed] = await admin.fetchOffsets({ groupId, topics: [{ topic, partitions: [partition] }], requireStable: true });
        offset = committed?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
        break;
      } catch (error) {
        if (!isUnstable(error) || Date.now() > deadline) throw error;
        await options.heartbeat().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, unstableRetryMs));
      }
    }
    const bounds = (await admin.fetchTopicOffsets(topic)).find((p) => p.partition === partition);
    const low = bounds?.low ?? '0';
    return offset === '-1' || BigInt(offset) < BigInt(low) ? low : offset;
  } finally {
    await admin.disconnect();
  }
}

/** UNSTABLE_OFFSET_COMMIT, as kafkajs throws it or wraps it after its own retries. */
function isUnstable(error: unknown): boolean {
  for (let e = error as { type?: string; originalError?: unknown; cause?: unknown } | undefined; e !== undefined && e !== null; e = (e.originalError ?? e.cause) as typeof e) {
    if (e.type === 'UNSTABLE_OFFSET_COMMIT') return true;
  }
  return false;
}
