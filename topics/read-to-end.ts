// Reads chosen partitions of topics, read_committed, from given offsets up to the end offsets
// they had when the read began, then stops. kafkajs has no manual assignment, so the reader is
// a consumer alone in a throwaway group whose custom assigner hands it exactly the partitions
// asked for; it never commits, so the group leaves nothing behind. Used to restore stores from
// changelogs and to audit the ledger.
import { randomBytes } from 'node:crypto';
import { AssignerProtocol, type Kafka, type KafkaMessage, type PartitionAssigner } from 'kafkajs';

const assignerName = 'LedgerReadToEnd';
/** While waiting, the caller's own consumer session is kept alive this often. */
const heartbeatIntervalMs = 3000;

export interface ReadToEndOptions {
  kafka: Kafka;
  /** Names the throwaway group, for operators who see it in `consumer-groups --list`. */
  groupIdPrefix: string;
  topics: string[];
  /** Partitions to read of every topic; all when omitted. */
  partitions?: number[];
  /** Where to start in each partition; the log start when undefined or below it. */
  startOffset?: (topic: string, partition: number) => bigint | undefined;
  /** Called in offset order per partition with the data records of each fetched batch. */
  onBatch: (topic: string, partition: number, messages: KafkaMessage[], nextOffset: bigint) => Promise<void>;
  heartbeat?: () => Promise<void>;
  timeoutMs: number;
  /** Ranges the caller already looked up with rangesToRead (saves a second round of metadata requests). */
  ranges?: Range[];
  /**
   * Where a range ends: `stable` (the default) at the last stable offset, before any transaction
   * still open; `high-watermark` after everything written, so the read waits until the
   * transactions open now have ended (their records read if committed, skipped if aborted).
   */
  end?: 'stable' | 'high-watermark';
}

export type Range = { topic: string; partition: number; start: bigint; end: bigint };

function assignExactly(wanted: Record<string, number[]>): PartitionAssigner {
  return () => ({
    name: assignerName,
    version: 1,
    async assign({ members }) {
      return members.map((member, i) => ({
        memberId: member.memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? wanted : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: assignerName, metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}

/** The [start, end) offsets to read, end being the partition's end offset now (see `end`). */
export async function rangesToRead(options: ReadToEndOptions): Promise<Range[]> {
  // kafkajs lists offsets read_committed unless told otherwise (patched: admin's readUncommitted).
  const admin = options.kafka.admin({ readUncommitted: options.end === 'high-watermark' });
  await admin.connect();
  try {
    const ranges: Range[] = [];
    for (const topic of options.topics) {
      for (const { partition, low, high } of await admin.fetchTopicOffsets(topic)) {
        if (options.partitions !== undefined && !options.partitions.includes(partition)) continue;
        const asked = options.startOffset?.(topic, partition);
        const start = asked !== undefined && asked > BigInt(low) ? asked : BigInt(low);
        ranges.push({ topic, partition, start, end: BigInt(high) });
      }
    }
    return ranges;
  } finally {
    await admin.disconnect();
  }
}

/** Reads every range to its end; returns the end offset reached per `topic/partition`. */
export async function readToEnd(options: ReadToEndOptions): Promise<Map<string, bigint>> {
  const ranges = (options.ranges ?? (await rangesToRead(options))).filter((r) => r.start < r.end);
  const reached = new Map<string, bigint>();
  if (ranges.length === 0) return reached;
  const id = (topic: string, partition: number) => `${topic}/${partition}`;
  const byId = new Map(ranges.map((r) => [id(r.topic, r.partition), r]));
  const wanted: Record<string, number[]> = {};
  for (const r of ranges) (wanted[r.topic] ??= []).push(r.partition);
  const consumer = options.kafka.consumer({
    groupId: `${options.groupIdPrefix}.${randomBytes(4).toString('hex')}`,
    partitionAssigners: [assignExactly(wanted)],
    maxWaitTimeInMs: 200,
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  let settle!: (error?: Error) => void;
  const done = new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  const advance = (topic: string, partition: number, lastOffset: string) => {
    const key = id(topic, partition);
    const next = BigInt(lastOffset) + 1n;
    if (next > (reached.get(key) ?? 0n)) reached.set(key, next);
    if (ranges.every((r) => (reached.get(id(r.topic, r.partition)) ?? 0n) >= r.end)) settle();
  };
  // Batches holding only transaction markers never reach eachBatch; this event still reports them.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => advance(payload.topic, payload.partition, payload.lastOffset));
  consumer.on(consumer.events.CRASH, ({ payload }) => settle(payload.error));
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: Object.keys(wanted), fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        const range = byId.get(id(batch.topic, batch.partition));
        if (isStale() || range === undefined) return;
        const messages = batch.messages.filter((m) => BigInt(m.offset) >= range.start && BigInt(m.offset) < range.end);
        await options.onBatch(batch.topic, batch.partition, messages, BigInt(batch.lastOffset()) + 1n);
      },
    });
    for (const r of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: String(r.start) });
    await waitWithHeartbeats(done, options.timeoutMs, options.heartbeat);
  } finally {
    await consumer.disconnect();
  }
  return reached;
}

async function waitWithHeartbeats(done: Promise<void>, timeoutMs: number, heartbeat?: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  while (!finished) {
    if (Date.now() > deadline) throw new Error(`reading to the end of the topics did not finish within ${timeoutMs} ms`);
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, heartbeatIntervalMs))]);
    if (!finished && heartbeat) await heartbeat().catch(() => undefined);
  }
  await done;
}
