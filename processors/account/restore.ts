// Brings a partition's store up to date from its changelogs (account-state and outcomes, read
// read_committed) before the partition processes any command. The caller fences the previous
// owner first (initTransactions), so the changelogs' end offsets are final while we read.
import { readToEnd, rangesToRead } from '../../topics/read-to-end.ts';
import type { Kafka } from 'kafkajs';
import type { Codecs } from '../../schemas/registry.ts';
import type { AccountState, CommandOutcome } from '../../schemas/types.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Log } from '../log.ts';
import type { PartitionStore, Checkpoint } from './store.ts';

/** A restore that has not reached the changelogs' end by then fails, and the partition retries. */
export const restoreTimeoutMs = 10 * 60_000;

export interface RestoreOptions {
  kafka: Kafka;
  appId: string;
  partition: number;
  stateTopic: string;
  outcomesTopic: string;
  store: PartitionStore;
  codecs: Codecs;
  heartbeat: () => Promise<void>;
  log: Log;
}

export interface RestoreResult {
  checkpoint: Checkpoint;
  states: number;
  outcomes: number;
  rebuilt: boolean;
}

const hash = 0x23;

export async function restorePartition(options: RestoreOptions): Promise<RestoreResult> {
  const { store, partition, log, stateTopic, outcomesTopic, codecs } = options;
  let checkpoint = (await store.checkpoint()) ?? { stateOffset: '0', outcomesOffset: '0' };
  let rebuilt = checkpoint.stateOffset === '0' && checkpoint.outcomesOffset === '0';
  const read = { kafka: options.kafka, groupIdPrefix: `${options.appId}.account.restore.p${partition}`, topics: [stateTopic, outcomesTopic], partitions: [partition], timeoutMs: restoreTimeoutMs };
  // Read once: [log start, end) per changelog; the end offsets are final because the caller fenced.
  const bounds = await rangesToRead({ ...read, onBatch: async () => {} });
  const ends = new Map(bounds.map((r) => [r.topic, r.end]));
  if (BigInt(checkpoint.stateOffset) > (ends.get(stateTopic) ?? 0n) || BigInt(checkpoint.outcomesOffset) > (ends.get(outcomesTopic) ?? 0n)) {
    // A checkpoint past the end of the log belongs to another incarnation of the topics.
    log('store checkpoint is ahead of the changelogs; rebuilding', { partition, checkpoint });
    await store.clear();
    checkpoint = { stateOffset: '0', outcomesOffset: '0' };
    rebuilt = true;
  }
  const counts = { states: 0, outcomes: 0 };
  const started = Date.now();
  const from = (topic: string) => BigInt(topic === stateTopic ? checkpoint.stateOffset : checkpoint.outcomesOffset);
  await readToEnd({
    ...read,
    heartbeat: options.heartbeat,
    ranges: bounds.map((r) => ({ ...r, start: from(r.topic) > r.start ? from(r.topic) : r.start })),
    onBatch: async (topic, _partition, messages, nextOffset) => {
      const states: AccountState[] = [];
      const outcomes: CommandOutcome[] = [];
      for (const message of messages) {
        if (topic === stateTopic) states.push(await codecs.accountState.decode(message.value));
        // Key-reuse refusals are keyed `<commandId>#<fingerprint>`: replies, not idempotency records.
        else if (!message.key?.includes(hash)) outcomes.push(await codecs.outcomes.decode(message.value));
      }
      const next = String(nextOffset);
      checkpoint = topic === stateTopic ? { ...checkpoint, stateOffset: next } : { ...checkpoint, outcomesOffset: next };
      await store.write(states, outcomes, checkpoint);
      if (crashPointsArmed) crashPoint('mid-restore');
      counts.states += states.length;
      counts.outcomes += outcomes.length;
    },
  });
  const final = { stateOffset: String(ends.get(stateTopic) ?? 0n), outcomesOffset: String(ends.get(outcomesTopic) ?? 0n) };
  await store.write([], [], final);
  if (counts.states + counts.outcomes > 0) log('store restored from changelogs', { partition, ...counts, rebuilt, ms: Date.now() - started });
  return { checkpoint: final, ...counts, rebuilt };
}
