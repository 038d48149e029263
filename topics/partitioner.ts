// Which partition a record keyed by accountId belongs to: Kafka's default partitioner
// (murmur2 of the key's UTF-8 bytes, Java-compatible; DESIGN §2), exactly as kafkajs'
// `Partitioners.DefaultPartitioner` computes it, so the gateway, the processor's follow-ups,
// every Java or librdkafka client configured with `murmur2_random`, and the checks agree.
// Reused from kafkajs rather than re-implemented; test/unit/topics/partitioner.test.ts pins it
// to Apache Kafka's own murmur2 test vectors.
import { Partitioners, type ICustomPartitioner, type PartitionMetadata } from 'kafkajs';

/** Account→partition answers remembered; murmur2 over kafkajs's Long costs microseconds per call. */
export const partitionsRememberedMax = 100_000;

/** Kafka's default (murmur2, Java-compatible) partitioner over `partitions` partitions, memoized within a bound. */
export function createPartitionOf(partitions: number): (accountId: string) => number {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new Error(`partitions must be a positive integer, got ${partitions}`);
  const partitioner = Partitioners.DefaultPartitioner();
  const metadata: PartitionMetadata[] = Array.from({ length: partitions }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  const remembered = new Map<string, number>();
  return (accountId) => {
    let partition = remembered.get(accountId);
    if (partition === undefined) {
      partition = partitioner({ topic: '', partitionMetadata: metadata, message: { key: accountId, value: null } });
      // Clearing all at once keeps the bound without LRU bookkeeping on the hot path.
      if (remembered.size >= partitionsRememberedMax) remembered.clear();
      remembered.set(accountId, partition);
    }
    return partition;
  };
}

const shared = new Map<number, (accountId: string) => number>();

/** One memoized partitioner per partition count for the whole process, so its memory bound holds once, not once per task. */
export function sharedPartitionOf(partitions: number): (accountId: string) => number {
  let partitionOf = shared.get(partitions);
  if (partitionOf === undefined) {
    partitionOf = createPartitionOf(partitions);
    shared.set(partitions, partitionOf);
  }
  return partitionOf;
}

/**
 * kafkajs' default partitioner, except that a record with an explicit partition goes there at
 * once: the default filters the topic's partitions for available leaders before it looks at the
 * record (an array per record), and every record the processor writes names its partition. The
 * same answers: the default too returns an explicit partition first, whatever the leaders.
 */
export const ExplicitFirstPartitioner: ICustomPartitioner = () => {
  const byDefault = Partitioners.DefaultPartitioner();
  return (args) => args.message.partition ?? byDefault(args);
};
