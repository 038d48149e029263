// Brings a partition's store up to date from its changelogs (account-state, outcomes and
// movements, read read_committed) before the partition processes any command. The caller fences
// a per-partition previous owner first (initTransactions); a per-instance one cannot be fenced,
// so the read goes to the high watermarks, waiting out transactions still open on them.
import { readToEnd, rangesToRead } from '../../topics/read-to-end.ts';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Codecs } from '../../schemas/registry.ts';
import type { AccountState, CommandOutcome } from '../../schemas/types.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Log } from '../log.ts';
import { emptyCheckpoint, type PartitionStore, type Checkpoint } from './store.ts';

/** A restore that has not reached the changelogs' end by then fails, and the partition retries. */
export const restoreTimeoutMs = 10 * 60_000;

export interface RestoreOptions {
  kafka: Kafka;
  appId: string;
  partition: number;
  stateTopic: string;
  outcomesTopic: string;
  movementsTopic: string;
  store: PartitionStore;
  codecs: Codecs;
  heartbeat: () => Promise<void>;
  log: Log;
  /**
   * Idempotency records processed before this (epoch ms) are past the window: a rebuilt store
   * never brings them back, whatever retention has not yet deleted from the topic (DESIGN §8).
   */
  outcomesCutoff: number;
}

export interface RestoreResult {
  checkpoint: Checkpoint;
  states: number;
  outcomes: number;
  movements: number;
  rebuilt: boolean;
}

const hash = 0x23;

type Changelog = 'state' | 'outcomes' | 'movements';
const offsetField = { state: 'stateOffset', outcomes: 'outcomesOffset', movements: 'movementsOffset' } as const satisfies Record<Changelog, keyof Checkpoint>;

export async function restorePartition(options: RestoreOptions): Promise<RestoreResult> {
  const { store, partition, log, stateTopic, outcomesTopic, movementsTopic, codecs, outcomesCutoff } = options;
  const changelogOf = new Map<string, Changelog>([[stateTopic, 'state'], [outcomesTopic, 'outcomes'], [movementsTopic, 'movements']]);
  let checkpoint = (await store.checkpoint()) ?? emptyCheckpoint;
  let rebuilt = Object.values(checkpoint).every((offset) => offset === '0');
  const read = { kafka: options.kafka, groupIdPrefix: `${options.appId}.account.restore.p${partition}`, topics: [...changelogOf.keys()], partitions: [partition], timeoutMs: restoreTimeoutMs, end: 'high-watermark' as const };
  // Read once: [log start, end) per changelog; the end offsets are final: fenced, or waited for.
  const bounds = await rangesToRead({ ...read, onBatch: async () => {} });
  const endOf = (changelog: Changelog): bigint => bounds.find((r) => changelogOf.get(r.topic) === changelog)?.end ?? 0n;
  const changelogs = [...changelogOf.values()];
  if (changelogs.some((c) => BigInt(checkpoint[offsetField[c]]) > endOf(c))) {
    // A checkpoint past the end of the log belongs to another incarnation of the topics.
    log('store checkpoint is ahead of the changelogs; rebuilding', { partition, checkpoint });
    await store.clear();
    checkpoint = emptyCheckpoint;
    rebuilt = true;
  }
  const counts = { states: 0, outcomes: 0, movements: 0 };
  const started = Date.now();
  const from = (topic: string): bigint => BigInt(checkpoint[offsetField[changelogOf.get(topic) ?? 'state']]);
  await readToEnd({
    ...read,
    heartbeat: options.heartbeat,
    ranges: bounds.map((r) => ({ ...r, start: from(r.topic) > r.start ? from(r.topic) : r.start })),
    onBatch: async (topic, _partition, messages, nextOffset) => {
      const changelog = changelogOf.get(topic) ?? 'state';
      const { states, outcomes, movements } = await decodeBatch(changelog, messages, codecs, outcomesCutoff);
      checkpoint = { ...checkpoint, [offsetField[changelog]]: String(nextOffset) };
      await store.write(states, outcomes, checkpoint, movements);
      if (crashPointsArmed) crashPoint('mid-restore');
      counts.states += states.length;
      counts.outcomes += outcomes.length;
      counts.movements += movements.length;
    },
  });
  const final: Checkpoint = { stateOffset: String(endOf('state')), outcomesOffset: String(endOf('outcomes')), movementsOffset: String(endOf('movements')) };
  await store.write([], [], final);
  if (counts.states + counts.outcomes + counts.movements > 0) log('store restored from changelogs', { partition, ...counts, rebuilt, ms: Date.now() - started });
  return { checkpoint: final, ...counts, rebuilt };
}

async function decodeBatch(changelog: Changelog, messages: KafkaMessage[], codecs: Codecs, outcomesCutoff: number) {
  const states: AccountState[] = [];
  const outcomes: CommandOutcome[] = [];
  const movements: CommandOutcome[] = [];
  for (const message of messages) {
    if (changelog === 'state') states.push(await codecs.accountState.decode(message.value));
    else if (changelog === 'movements') movements.push(await codecs.movements.decode(message.value));
    // Key-reuse refusals are keyed `<commandId>#<fingerprint>`: replies, not idempotency records.
    else if (!message.key?.includes(hash)) {
      const outcome = await codecs.outcomes.decode(message.value);
      // A transfer initiation's record is kept (and updated) on the movements changelog; the
      // outcomes topic only carries its replies. Past the window, a record stays forgotten.
      // So is an accepted reversal's.
      if (outcome.transferStatus === null && (outcome.reversalStatus ?? null) === null && outcome.processedAt >= outcomesCutoff) outcomes.push(outcome);
    }
  }
  return { states, outcomes, movements };
}
