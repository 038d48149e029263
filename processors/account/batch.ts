// The processing loop's pure core, like a Kafka Streams topology without a broker: given the
// decoded commands of one transaction and lookups of the current store, it returns every record
// the transaction must carry and every store write to make once it commits. No I/O here, so the
// loop's decisions are unit-tested without Kafka (test/unit/account/batch.test.ts).
import { refusalKey } from '../../topics/record-keys.ts';
import { applyDecision, decide, validateCommand } from './domain/index.ts';
import { holdFieldsOf, holdViewOf, isHoldStep } from './hold-records.ts';
import { followUpCommand, isInternal } from './follow-ups.ts';
import { outcomeOf } from './outcome-records.ts';
import { isPostingRecord, isReversalLanding, postingRecordOf, postingViewOf, reversalIdOf, reversalStatusOf } from './reversal-records.ts';
import type { AccountEvent, AccountState, Command, CommandOutcome, CommandPayload, EventPayload } from '../../schemas/types.ts';

/** A consumed record: decoded, or poison with the reason it cannot be. Raw bytes go to the DLQ as they came. */
export type DecodedRecord =
  | { kind: 'command'; offset: string; key: Buffer | null; value: Buffer | null; command: Command }
  | { kind: 'poison'; offset: string; key: Buffer | null; value: Buffer | null; reason: string };

/** Store reads for the accounts and command ids of one transaction, prefetched by the caller. */
export interface BatchLookups {
  state(accountId: string): AccountState | undefined;
  /** The idempotency record of a command: within the window, or forever for a movement (see movements). */
  outcome(commandId: string): CommandOutcome | undefined;
  /** The accepted initiation of a transfer by its transferId, kept forever. */
  initiation(transferId: string): CommandOutcome | undefined;
  /** The placing command's record of a hold by its holdId, kept forever (its current status included). */
  hold(holdId: string): CommandOutcome | undefined;
  /** The record kept forever of what a command posted (reversal-records.ts): its posting record, else its movement. */
  posting?(commandId: string): CommandOutcome | undefined;
  /** An accepted reversal's record by its reversalId, kept forever. */
  reversal?(reversalId: string): CommandOutcome | undefined;
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
  /** Idempotency records to keep for the window: the first outcome of each newly processed command. */
  newOutcomes: CommandOutcome[];
  /**
   * Records kept forever (DESIGN §8: ids that move money are unique forever): the outcome of each
   * accepted transfer initiation, by commandId, as it stands after this transaction (its
   * transferStatus moves from pending to completed or failed when the settlement or refund lands).
   */
  movements: Map<string, CommandOutcome>;
  /** Posting records kept forever (reversal-records.ts), by commandId, as they stand after this transaction. */
  postings: Map<string, CommandOutcome>;
  followUps: Command[];
  deadLetters: DeadLetter[];
  accepted: number;
  rejected: number;
  /** Rejections of this transaction by code, for metrics. */
  rejectedByCode: Map<string, number>;
}

class BatchBuilder {
  readonly result: BatchResult = {
    events: [],
    states: new Map(),
    outcomes: [],
    newOutcomes: [],
    movements: new Map(),
    postings: new Map(),
    followUps: [],
    deadLetters: [],
    accepted: 0,
    rejected: 0,
    rejectedByCode: new Map(),
  };
  private readonly outcomesSeen = new Map<string, CommandOutcome>();
  /** `t:<transferId>` / `h:<holdId>` / `v:<reversalId>` → commandId of the movements this transaction accepted or updated. */
  private readonly movementsSeen = new Map<string, string>();

  constructor(
    private readonly lookups: BatchLookups,
    private readonly now: number,
  ) {}

  private state(accountId: string): AccountState | undefined {
    return this.result.states.get(accountId) ?? this.lookups.state(accountId);
  }

  private previousOutcome(commandId: string): CommandOutcome | undefined {
    return this.result.movements.get(commandId) ?? this.outcomesSeen.get(commandId) ?? this.lookups.outcome(commandId);
  }

  private initiation(transferId: string): CommandOutcome | undefined {
    const commandId = this.movementsSeen.get(`t:${transferId}`);
    if (commandId !== undefined) return this.result.movements.get(commandId);
    return this.lookups.initiation(transferId);
  }

  private hold(holdId: string): CommandOutcome | undefined {
    const commandId = this.movementsSeen.get(`h:${holdId}`);
    if (commandId !== undefined) return this.result.movements.get(commandId);
    return this.lookups.hold(holdId);
  }

  private posting(commandId: string): CommandOutcome | undefined {
    return this.result.postings.get(commandId) ?? this.result.movements.get(commandId) ?? this.lookups.posting?.(commandId);
  }

  private reversal(reversalId: string): CommandOutcome | undefined {
    const commandId = this.movementsSeen.get(`v:${reversalId}`);
    if (commandId !== undefined) return this.result.movements.get(commandId);
    return this.lookups.reversal?.(reversalId);
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
    if (keptForeverWhenAccepted(command.payload)) {
      // Accepted, its record is kept forever on the movements changelog under its commandId, where
      // a deposit's or withdrawal's posting record is kept too (for reversals, at any age). So an
      // id one of those used stays used past the idempotency window: compaction keeps one record
      // per key, and either could be lost (a transfer retried twice, a hold never released).
      const posted = this.posting(command.commandId);
      if (posted !== undefined) {
        this.refuseReuse(command, posted, `command ${command.commandId} already posted ${posted.postingType ?? 'money'}; ids that move money are unique forever`);
        return;
      }
    }
    if (command.payload.type === 'InitiateTransfer') {
      // Another command may not create a transfer whose id exists, at any age (DESIGN §8).
      const existing = this.initiation(command.payload.transferId);
      if (existing !== undefined) {
        this.refuseReuse(command, existing, `transfer ${command.payload.transferId} already exists (command ${existing.commandId})`);
        return;
      }
    }
    if (command.payload.type === 'SettleTransfer' || command.payload.type === 'RefundTransfer') {
      // A transfer lands once: a second settlement or refund under another id is forged input.
      const landed = this.initiation(command.payload.transferId);
      if (landed !== undefined && landed.transferStatus !== 'pending') {
        const reason = `TRANSFER_ALREADY_LANDED: transfer ${command.payload.transferId} is already ${landed.transferStatus}; ${command.payload.type} ${command.commandId} changes nothing`;
        this.result.deadLetters.push({ offset: record.offset, key: record.key, value: record.value, reason });
        return;
      }
    }
    if (command.payload.type === 'DebitTransferReversal') {
      // Its posting record is kept forever: a debit seen past the idempotency window (only forged
      // input can arrive so late) is the same step again, replayed, never a second debit.
      const posted = this.posting(command.commandId);
      if (posted !== undefined) {
        this.result.outcomes.push({ key: command.commandId, outcome: posted, replayed: true });
        return;
      }
    }
    if (command.payload.type === 'ReverseTransaction') {
      const existing = this.reversal(command.payload.reversalId);
      if (existing !== undefined) {
        this.refuseReuse(command, existing, `reversal ${command.payload.reversalId} already exists (command ${existing.commandId})`);
        return;
      }
    }
    if (isReversalLanding(command.payload)) {
      // A transfer reversal lands once: a second credit or failure under another id is forged input.
      const reversal = this.reversal(command.payload.reversalId);
      if (reversal?.reversalStatus !== 'pending') {
        const reason = `REVERSAL_NOT_PENDING: reversal ${command.payload.reversalId} is ${reversal?.reversalStatus ?? 'unknown'}; ${command.payload.type} ${command.commandId} changes nothing`;
        this.result.deadLetters.push({ offset: record.offset, key: record.key, value: record.value, reason });
        return;
      }
    }
    if (command.payload.type === 'PlaceHold') {
      const existing = this.hold(command.payload.holdId);
      if (existing !== undefined) {
        this.refuseReuse(command, existing, `hold ${command.payload.holdId} already exists (command ${existing.commandId})`);
        return;
      }
    }
    this.decideAndApply(command);
  }

  private duplicate(command: Command, previous: CommandOutcome): void {
    // An internal command's id derives from the event that caused it, so a known id is the same
    // step again, whatever its bytes: replay it, never refuse it (DESIGN §8).
    if (previous.fingerprint === command.fingerprint || isInternal(command.payload)) {
      this.result.outcomes.push({ key: command.commandId, outcome: previous, replayed: true });
      return;
    }
    this.refuseReuse(command, previous, `command ${command.commandId} was already processed with another request body`);
  }

  private refuseReuse(command: Command, previous: CommandOutcome, message: string): void {
    const refusal: CommandOutcome = {
      ...previous,
      commandId: command.commandId,
      status: 'REJECTED',
      code: 'IDEMPOTENCY_KEY_REUSED',
      message,
      fingerprint: command.fingerprint,
      eventSequences: [],
      processedAt: this.now,
      transferStatus: null,
      transferCode: null,
      holdStatus: null,
      capturedAmount: null,
      reversalStatus: null,
      reversalCode: null,
    };
    this.countRejection('IDEMPOTENCY_KEY_REUSED');
    this.result.outcomes.push({ key: refusalKey(command.commandId, command.fingerprint), outcome: refusal, replayed: false });
  }

  private countRejection(code: string): void {
    this.result.rejected += 1;
    this.result.rejectedByCode.set(code, (this.result.rejectedByCode.get(code) ?? 0) + 1);
  }

  private decideAndApply(command: Command): void {
    const before = this.state(command.accountId);
    const payload = command.payload;
    const heldBy = isHoldStep(payload) ? this.hold(payload.holdId) : undefined;
    const posting = payload.type === 'ReverseTransaction' ? this.posting(payload.reversedCommandId) : undefined;
    const context = {
      hold: heldBy === undefined ? undefined : holdViewOf(heldBy),
      now: this.now,
      transferInFlight: this.transferInFlight(payload),
      posting: posting === undefined ? undefined : postingViewOf(posting),
    };
    const decision = decide(before, command, context);
    let outcome: CommandOutcome;
    if (decision.kind === 'accepted') {
      const applied = applyDecision(before, command, decision.events, this.now);
      const after = applied.state;
      if (after === undefined) throw new Error(`accepted command ${command.commandId} left account ${command.accountId} without state`);
      this.result.events.push(...applied.events);
      this.result.states.set(command.accountId, after);
      this.result.accepted += 1;
      outcome = outcomeOf(command, this.now, 'ACCEPTED', null, null, after);
      outcome.eventSequences = applied.events.map((e) => e.sequence);
      for (const followUp of decision.followUps) this.result.followUps.push(followUpCommand(followUp, command, applied.events, this.now));
    } else {
      this.countRejection(decision.code);
      outcome = outcomeOf(command, this.now, 'REJECTED', decision.code, decision.message, before);
      for (const followUp of decision.followUps) this.result.followUps.push(followUpCommand(followUp, command, [], this.now));
    }
    this.outcomesSeen.set(command.commandId, outcome);
    this.result.outcomes.push({ key: command.commandId, outcome, replayed: false });
    const event = decision.kind === 'accepted' ? this.result.events.at(-1) : undefined;
    if (isHoldStep(payload) || payload.type === 'PlaceHold') Object.assign(outcome, holdFieldsOf(payload, event?.payload, heldBy));
    if (payload.type === 'InitiateTransfer' && outcome.status === 'ACCEPTED') {
      // Also its posting record: what a reversal needs to take it back, at any age.
      Object.assign(outcome, { transferStatus: 'pending', postingType: 'TransferDebited', amount: payload.amount, counterpartyAccountId: payload.toAccountId });
      this.keepForever(outcome);
    } else if (payload.type === 'ReverseTransaction') {
      this.reversed(outcome, payload.reversalId, payload.reversedCommandId, event?.payload, posting);
    } else if (payload.type === 'PlaceHold' && outcome.status === 'ACCEPTED') {
      this.keepForever(outcome);
    } else {
      this.result.newOutcomes.push(outcome);
    }
    const postingRecord = postingRecordOf(outcome, event?.payload);
    if (postingRecord !== undefined) this.result.postings.set(postingRecord.commandId, postingRecord);
    if (outcome.status === 'ACCEPTED') this.landed(command.payload);
    if (outcome.status === 'ACCEPTED' && isReversalLanding(payload)) this.reversalLanded(payload.type === 'FailTransferReversal' ? payload.reason : null, payload.reversalId, outcome);
    if (outcome.status === 'ACCEPTED' && heldBy !== undefined && isHoldStep(payload)) {
      // The hold's own record (kept forever) says what became of it.
      this.keepForever({ ...heldBy, holdStatus: outcome.holdStatus, capturedAmount: outcome.capturedAmount });
    }
  }

  /**
   * How much of a landing transfer its source counts in flight: the amount while this release's
   * record of it is pending; 0 for a transfer the first release debited (no record: never counted).
   */
  private transferInFlight(payload: CommandPayload): number | undefined {
    if (payload.type !== 'SettleTransfer' && payload.type !== 'RefundTransfer') return undefined;
    return this.initiation(payload.transferId)?.transferStatus === 'pending' ? payload.amount : 0;
  }

  /** Records kept forever: by commandId, and found by their transferId, holdId or (a reversal's own) reversalId. */
  private keepForever(movement: CommandOutcome): void {
    const reversalId = reversalIdOf(movement);
    if (movement.transferId === null && movement.holdId === null && reversalId === null) throw new Error(`movement ${movement.commandId} has neither a transferId, a holdId nor a reversalId`);
    this.result.movements.set(movement.commandId, movement);
    if (movement.transferId !== null) this.movementsSeen.set(`t:${movement.transferId}`, movement.commandId);
    if (movement.holdId !== null) this.movementsSeen.set(`h:${movement.holdId}`, movement.commandId);
    if (reversalId !== null) this.movementsSeen.set(`v:${reversalId}`, movement.commandId);
  }

  /** Updates a posting's record kept forever: a posting record, or a transfer's initiation (a movement, re-emitted). */
  private keepPosting(record: CommandOutcome): void {
    if (isPostingRecord(record)) {
      this.result.postings.set(record.commandId, record);
      return;
    }
    // A transfer's initiation record is also on the outcomes topic: both say the same from now on.
    this.keepForever(record);
    this.result.outcomes.push({ key: record.commandId, outcome: record, replayed: false });
  }

  /**
   * A reversal's outcome names what it reverses; accepted, it is kept forever (by reversalId) and
   * the reversed posting's record says it is reversed (or being reversed: a transfer's).
   */
  private reversed(outcome: CommandOutcome, reversalId: string, reversedCommandId: string, event: EventPayload | undefined, posting: CommandOutcome | undefined): void {
    Object.assign(outcome, { reversalId, reversedCommandId });
    const status = reversalStatusOf(event);
    if (outcome.status !== 'ACCEPTED' || status === null || posting === undefined) {
      this.result.newOutcomes.push(outcome);
      return;
    }
    Object.assign(outcome, { reversalStatus: status, amount: posting.amount ?? null });
    this.keepForever(outcome);
    this.keepPosting({ ...posting, reversalId, reversalStatus: status, reversalCode: null });
  }

  /**
   * A transfer reversal's credit or failure at its source ends it: the reversal's record (with the
   * balance and version after it) and the transfer's record say so from now on; the reversal's is
   * re-emitted on the outcomes topic for the gateway. A failed one leaves the transfer reversible.
   */
  private reversalLanded(failure: string | null, reversalId: string, landing: CommandOutcome): void {
    const reversal = this.reversal(reversalId);
    if (reversal === undefined) return;
    const reversalStatus = failure === null ? 'completed' : 'failed';
    const { balance, version, availableBalance, overdraftLimit } = landing;
    const updated: CommandOutcome = { ...reversal, reversalStatus, reversalCode: failure, balance, version, availableBalance, overdraftLimit };
    this.keepForever(updated);
    this.result.outcomes.push({ key: updated.commandId, outcome: updated, replayed: false });
    const posting = this.posting(reversal.reversedCommandId ?? '');
    if (posting !== undefined) this.keepPosting({ ...posting, reversalId, reversalStatus, reversalCode: failure });
  }

  /**
   * A settlement or refund ends a transfer: its initiation's record says so from now on, on the
   * outcomes topic (so every gateway sees the final status) and in the forever records (so a
   * retried POST at any age answers it). A transfer initiated before this was tracked has none.
   */
  private landed(payload: CommandPayload): void {
    if (payload.type !== 'SettleTransfer' && payload.type !== 'RefundTransfer') return;
    const initiation = this.initiation(payload.transferId);
    if (initiation === undefined) return;
    const failed = payload.type === 'RefundTransfer';
    const updated: CommandOutcome = { ...initiation, transferStatus: failed ? 'failed' : 'completed', transferCode: failed ? payload.reason : null };
    this.keepForever(updated);
    this.result.outcomes.push({ key: updated.commandId, outcome: updated, replayed: false });
  }
}

/** Decides a transaction's commands in offset order against the store plus the transaction's own earlier effects. */
export function processBatch(records: DecodedRecord[], lookups: BatchLookups, now: number): BatchResult {
  const builder = new BatchBuilder(lookups, now);
  for (const record of records) builder.add(record);
  return builder.result;
}

/** Client commands whose record, accepted, is kept forever under their commandId: a transfer's initiation, a hold's placing, a reversal. */
export function keptForeverWhenAccepted(payload: CommandPayload): boolean {
  return payload.type === 'InitiateTransfer' || payload.type === 'PlaceHold' || payload.type === 'ReverseTransaction';
}
