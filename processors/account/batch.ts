// The processing loop's pure core, like a Kafka Streams topology without a broker: given the
// decoded commands of one transaction and lookups of the current store, it returns every record
// the transaction must carry and every store write to make once it commits. No I/O here, so the
// loop's decisions are unit-tested without Kafka (test/unit/account/batch.test.ts).
import { applyDecision, decide, validateCommand, type FollowUp } from './domain/index.ts';
import { creditCommandId, fingerprintOf, refundCommandId } from '../../schemas/ids.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome, CommandPayload } from '../../schemas/types.ts';

/** A consumed record: decoded, or poison with the reason it cannot be. Raw bytes go to the DLQ as they came. */
export type DecodedRecord =
  | { kind: 'command'; offset: string; key: Buffer | null; value: Buffer | null; command: Command }
  | { kind: 'poison'; offset: string; key: Buffer | null; value: Buffer | null; reason: string };

/** Store reads for the accounts and command ids of one transaction, prefetched by the caller. */
export interface BatchLookups {
  state(accountId: string): AccountState | undefined;
  outcome(commandId: string): CommandOutcome | undefined;
}

export interface OutcomeRecord {
  /** commandId, or `<commandId>#<fingerprint>` for a key-reuse refusal (never replaces the original under compaction). */
  key: string;
  outcome: CommandOutcome;
  /** A duplicate's original outcome sent again. */
  replayed: boolean;
}

export interface DeadLetter {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  reason: string;
}

export interface BatchResult {
  events: AccountEvent[];
  /** The latest state of each account the transaction changed. */
  states: Map<string, AccountState>;
  outcomes: OutcomeRecord[];
  /** Idempotency records to keep: the first outcome of each newly processed command. */
  newOutcomes: CommandOutcome[];
  followUps: Command[];
  deadLetters: DeadLetter[];
  accepted: number;
  rejected: number;
  /** Rejections of this transaction by code, for metrics. */
  rejectedByCode: Map<string, number>;
}

function transferIdOf(payload: CommandPayload): string | null {
  switch (payload.type) {
    case 'InitiateTransfer':
    case 'CreditTransfer':
    case 'RefundTransfer':
      return payload.transferId;
    case 'OpenAccount':
    case 'Deposit':
    case 'Withdraw':
    case 'CloseAccount':
      return null;
    default: {
      const unreachable: never = payload;
      return unreachable;
    }
  }
}

/** The internal command a saga follow-up becomes; its id derives from the transfer, so a replay is a duplicate. */
export function followUpCommand(followUp: FollowUp, now: number): Command {
  const payload = followUp.payload;
  const commandId = payload.type === 'CreditTransfer' ? creditCommandId(payload.transferId) : refundCommandId(payload.transferId);
  const meaning: Record<string, string | number | null> = { ...payload, accountId: followUp.accountId };
  return { commandId, accountId: followUp.accountId, issuedAt: now, fingerprint: fingerprintOf(meaning), payload };
}

class BatchBuilder {
  readonly result: BatchResult = {
    events: [],
    states: new Map(),
    outcomes: [],
    newOutcomes: [],
    followUps: [],
    deadLetters: [],
    accepted: 0,
    rejected: 0,
    rejectedByCode: new Map(),
  };
  private readonly outcomesSeen = new Map<string, CommandOutcome>();

  constructor(
    private readonly lookups: BatchLookups,
    private readonly now: number,
  ) {}

  private state(accountId: string): AccountState | undefined {
    return this.result.states.get(accountId) ?? this.lookups.state(accountId);
  }

  private previousOutcome(commandId: string): CommandOutcome | undefined {
    return this.outcomesSeen.get(commandId) ?? this.lookups.outcome(commandId);
  }

  add(record: DecodedRecord): void {
    if (record.kind === 'poison') {
      this.result.deadLetters.push({ offset: record.offset, key: record.key, value: record.value, reason: record.reason });
      return;
    }
    const command = record.command;
    const invalid = validateCommand(command);
    if (invalid !== null) {
      this.result.deadLetters.push({ offset: record.offset, key: record.key, value: record.value, reason: `invalid command: ${invalid}` });
      return;
    }
    const previous = this.previousOutcome(command.commandId);
    if (previous !== undefined) {
      this.duplicate(command, previous);
      return;
    }
    this.decideAndApply(command);
  }

  private duplicate(command: Command, previous: CommandOutcome): void {
    if (previous.fingerprint === command.fingerprint) {
      this.result.outcomes.push({ key: command.commandId, outcome: previous, replayed: true });
      return;
    }
    const refusal: CommandOutcome = {
      ...previous,
      status: 'REJECTED',
      code: 'IDEMPOTENCY_KEY_REUSED',
      message: `command ${command.commandId} was already processed with another request body`,
      fingerprint: command.fingerprint,
      eventSequences: [],
      processedAt: this.now,
    };
    this.countRejection('IDEMPOTENCY_KEY_REUSED');
    this.result.outcomes.push({ key: `${command.commandId}#${command.fingerprint}`, outcome: refusal, replayed: false });
  }

  private countRejection(code: string): void {
    this.result.rejected += 1;
    this.result.rejectedByCode.set(code, (this.result.rejectedByCode.get(code) ?? 0) + 1);
  }

  private decideAndApply(command: Command): void {
    const before = this.state(command.accountId);
    const decision = decide(before, command);
    let outcome: CommandOutcome;
    if (decision.kind === 'accepted') {
      const applied = applyDecision(before, command, decision.events, this.now);
      const after = applied.state;
      if (after === undefined) throw new Error(`accepted command ${command.commandId} left account ${command.accountId} without state`);
      this.result.events.push(...applied.events);
      this.result.states.set(command.accountId, after);
      this.result.accepted += 1;
      outcome = this.outcome(command, 'ACCEPTED', null, null, after);
      outcome.eventSequences = applied.events.map((e) => e.sequence);
    } else {
      this.countRejection(decision.code);
      outcome = this.outcome(command, 'REJECTED', decision.code, decision.message, before);
    }
    for (const followUp of decision.followUps) this.result.followUps.push(followUpCommand(followUp, this.now));
    this.outcomesSeen.set(command.commandId, outcome);
    this.result.newOutcomes.push(outcome);
    this.result.outcomes.push({ key: command.commandId, outcome, replayed: false });
  }

  private outcome(command: Command, status: CommandOutcome['status'], code: string | null, message: string | null, state: AccountState | undefined): CommandOutcome {
    return {
      commandId: command.commandId,
      accountId: command.accountId,
      status,
      code,
      message,
      fingerprint: command.fingerprint,
      version: state?.version ?? 0,
      balance: state?.balance ?? null,
      transferId: transferIdOf(command.payload),
      eventSequences: [],
      processedAt: this.now,
    };
  }
}

/** Decides a transaction's commands in offset order against the store plus the transaction's own earlier effects. */
export function processBatch(records: DecodedRecord[], lookups: BatchLookups, now: number): BatchResult {
  const builder = new BatchBuilder(lookups, now);
  for (const record of records) builder.add(record);
  return builder.result;
}
