// The expiry step of holds (DESIGN §10: a hold past expiresAt is expired within 60 s). kafkajs
// calls eachBatch only for partitions with records, so an idle partition has no transaction
// cycle to expire anything in. Every `holdExpiryCheckIntervalMs` this asks: for each hold of an
// owned partition past its expiresAt (as its store knew after the last commit), it produces an
// ExpireHold command to the account, whose id derives from the hold's HoldPlaced event. The
// expiry itself (HoldExpired, the held money released) is decided in that partition's
// transaction like any command. At least once, never twice: a crash before or after asking only
// means asking again while the hold is still ACTIVE, and a repeat of the same id is a duplicate.
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { expireCommandId, fingerprintOf } from '../../schemas/ids.ts';
import type { Codecs } from '../../schemas/registry.ts';
import type { Command, CommandOutcome } from '../../schemas/types.ts';
import { crashPoint, crashPointsArmed } from '../crash-points.ts';
import type { Logger } from '../log.ts';

/** How often due holds are asked to expire: well inside the 60 s DESIGN §10 allows. */
export const holdExpiryCheckIntervalMs = 10_000;
/** Holds asked to expire per partition per pass: a backlog drains over passes, never in one burst. */
export const holdsExpiredPerPassMax = 500;

export interface DueHolds {
  partition: number;
  dueHolds(recordsMax: number): Promise<CommandOutcome[]>;
}

/** The ExpireHold command for a hold's record (the outcome of the command that placed it). */
export function expireCommand(hold: CommandOutcome, nowMs: number): Command | undefined {
  const placedSequence = hold.eventSequences[0];
  if (hold.holdId === null || placedSequence === undefined) return undefined;
  const payload = { type: 'ExpireHold', holdId: hold.holdId } as const;
  const meaning: Record<string, string | number | null> = { ...payload, accountId: hold.accountId };
  // No API key asks for an expiry: the ledger itself does (actor null).
  return { commandId: expireCommandId(`${hold.accountId}:${placedSequence}`), accountId: hold.accountId, issuedAt: nowMs, fingerprint: fingerprintOf(meaning), payload, actor: null };
}

export class HoldExpiry {
  private producer: Producer | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly commandsTopic: string,
    private readonly codecs: Codecs,
    private readonly log: Logger,
    private readonly tasks: () => DueHolds[],
    private readonly clock: () => number,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.pass(), holdExpiryCheckIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.producer?.disconnect().catch(() => undefined);
  }

  /** One pass over the owned partitions; a pass still running when the next is due is not doubled. */
  async pass(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    let asked = 0;
    try {
      for (const task of this.tasks()) {
        const commands = (await task.dueHolds(holdsExpiredPerPassMax)).flatMap((hold) => expireCommand(hold, this.clock()) ?? []);
        if (commands.length === 0) continue;
        const producer = await this.connected();
        await producer.send({ topic: this.commandsTopic, acks: -1, messages: commands.map((c) => ({ key: c.accountId, value: this.codecs.commands.encode(c) })) });
        asked += commands.length;
        if (crashPointsArmed) crashPoint('mid-expiry');
      }
    } catch (error) {
      // The next pass asks again: the holds are still ACTIVE in the store.
      this.log.warn('asking holds to expire failed; the next pass retries', { error: (error as Error).message });
    } finally {
      this.running = false;
    }
    return asked;
  }

  private async connected(): Promise<Producer> {
    if (this.producer === undefined) {
      // The default (murmur2) partitioner puts each ExpireHold on its account's partition.
      this.producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await this.producer.connect();
    }
    return this.producer;
  }
}
