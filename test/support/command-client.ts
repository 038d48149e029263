// Talks to the account processor the way the gateway does, without HTTP: produces commands keyed
// by account and collects every outcome record from the outcomes topic.
import { randomUUID } from 'node:crypto';
import kafkajs, { type Consumer, type Producer } from 'kafkajs';
import type { Command, CommandOutcome, CommandPayload } from '../../schemas/types.ts';
import { fingerprintOf } from '../../schemas/ids.ts';
import type { LedgerSnapshot } from '../../scripts/ledger/read.ts';
import type { TestLedger } from './ledger.ts';
import { waitFor } from './ledger.ts';

const { Partitioners } = kafkajs;

export function makeCommand(accountId: string, payload: CommandPayload, commandId: string = randomUUID()): Command {
  const meaning: Record<string, string | number | null> = { ...payload, accountId };
  return { commandId, accountId, issuedAt: Date.now(), fingerprint: fingerprintOf(meaning), payload };
}

export const open = (initialBalance: number, currency = 'EUR', ownerName = 'Ada Lovelace'): CommandPayload => ({ type: 'OpenAccount', ownerName, currency, initialBalance, overdraftLimit: 0 });
export const deposit = (amount: number, reference: string | null = null): CommandPayload => ({ type: 'Deposit', amount, reference });
export const withdraw = (amount: number, reference: string | null = null): CommandPayload => ({ type: 'Withdraw', amount, reference });
export const transfer = (toAccountId: string, amount: number, transferId: string = randomUUID()): CommandPayload => ({ type: 'InitiateTransfer', transferId, toAccountId, amount, reference: null });
export const close = (): CommandPayload => ({ type: 'CloseAccount' });

export class CommandClient {
  /** Every outcome record seen, in arrival order, by record key. */
  readonly outcomes = new Map<string, { outcome: CommandOutcome; replayed: boolean }[]>();
  private readonly producer: Producer;
  private readonly consumer: Consumer;

  constructor(private readonly ledger: TestLedger) {
    this.producer = ledger.kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    this.consumer = ledger.kafka.consumer({ groupId: `${ledger.config.appId}.test-client.${randomUUID()}`, maxWaitTimeInMs: 100 });
  }

  async start(): Promise<void> {
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.ledger.topics.outcomes, fromBeginning: true });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const key = message.key?.toString() ?? '';
        const outcome = await this.ledger.codecs.outcomes.decode(message.value);
        const list = this.outcomes.get(key) ?? [];
        list.push({ outcome, replayed: message.headers?.['ledger-replayed']?.toString() === 'true' });
        this.outcomes.set(key, list);
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  async send(...commands: Command[]): Promise<void> {
    await this.producer.send({
      topic: this.ledger.topics.commands,
      acks: -1,
      messages: commands.map((c) => ({ key: c.accountId, value: this.ledger.codecs.commands.encode(c) })),
    });
  }

  async sendRaw(key: string, value: Buffer): Promise<void> {
    await this.producer.send({ topic: this.ledger.topics.commands, acks: -1, messages: [{ key, value }] });
  }

  /** The first outcome recorded under `key` (a commandId), waiting for it within the bound. */
  async outcome(key: string, timeoutMs = 30_000): Promise<CommandOutcome> {
    const found = await waitFor(() => this.outcomes.get(key)?.[0], { what: `an outcome for ${key}`, timeoutMs });
    return found.outcome;
  }

  async run(command: Command, timeoutMs?: number): Promise<CommandOutcome> {
    await this.send(command);
    return this.outcome(command.commandId, timeoutMs);
  }

  /** The final record of a transfer initiation (settled or refunded at its source), if it landed. */
  finalTransfer(commandId: string): CommandOutcome | undefined {
    return this.outcomes.get(commandId)?.find((o) => o.outcome.transferStatus === 'completed' || o.outcome.transferStatus === 'failed')?.outcome;
  }

  /** Waits (bounded) for a transfer's final status at its source: settled (completed) or refunded (failed). */
  async transferResult(commandId: string, timeoutMs = 30_000): Promise<CommandOutcome> {
    return waitFor(() => this.finalTransfer(commandId), { what: `the final status of transfer command ${commandId}`, timeoutMs });
  }

  /** Waits (bounded) until every command has an outcome, every accepted transfer was settled or refunded at its source, and every accepted reversal landed. */
  async settled(commands: Command[], timeoutMs = 120_000): Promise<void> {
    const ids = [...new Set(commands.map((c) => c.commandId))];
    await waitFor(() => (ids.every((id) => this.outcomes.has(id)) ? true : undefined), { what: 'an outcome for every command', timeoutMs });
    const transfers = [...new Set(commands.flatMap((c) => (c.payload.type === 'InitiateTransfer' && this.outcomes.get(c.commandId)?.[0]?.outcome.status === 'ACCEPTED' ? [c.commandId] : [])))];
    await waitFor(() => (transfers.every((id) => this.finalTransfer(id) !== undefined) ? true : undefined), { what: 'every accepted transfer settled or refunded', timeoutMs });
    // A transfer reversal (DESIGN §10) lands like a transfer: its record moves from pending to completed or failed.
    const reversals = [...new Set(commands.flatMap((c) => (c.payload.type === 'ReverseTransaction' && this.outcomes.get(c.commandId)?.[0]?.outcome.status === 'ACCEPTED' ? [c.commandId] : [])))];
    const landed = (id: string) => this.outcomes.get(id)?.some((o) => o.outcome.reversalStatus === 'completed' || o.outcome.reversalStatus === 'failed') === true;
    await waitFor(() => (reversals.every(landed) ? true : undefined), { what: 'every accepted reversal completed or failed', timeoutMs });
  }
}

/** An accepted reversal's own record (not a reversed transfer's, which names its reversal too). */
const isReversalRecord = (o: CommandOutcome): boolean => (o.reversedCommandId ?? null) !== null && (o.reversalStatus ?? null) !== null;

/**
 * What may change when a record is re-emitted besides a transfer's status: a transfer's record says
 * how its reversals went; a transfer reversal's record lands with the balance and version after its credit.
 */
function stableFields(outcome: Omit<CommandOutcome, 'transferStatus' | 'transferCode'>, transferStatus: CommandOutcome['transferStatus']): object {
  if (transferStatus !== null) return { ...outcome, reversalId: null, reversalStatus: null, reversalCode: null };
  if (isReversalRecord(outcome as CommandOutcome)) return { ...outcome, reversalStatus: null, reversalCode: null, balance: null, version: null, availableBalance: null, overdraftLimit: null };
  return outcome;
}

/**
 * Distinct outcome values per command id on the outcomes topic (key-reuse refusals aside):
 * exactly-once means one each. A transfer initiation's record is written again when its transfer
 * lands (pending, then completed or failed); that status aside it must not change, and it may
 * land on one final status only. So may a transfer reversal's record (DESIGN §10).
 */
export function outcomeValuesPerCommand(snapshot: LedgerSnapshot): Map<string, Set<string>> {
  const byCommand = new Map<string, Set<string>>();
  const finals = new Map<string, Set<string>>();
  for (const o of snapshot.outcomes) {
    if (o.key.includes('#')) continue;
    const { transferStatus, transferCode, ...rest } = o.value;
    byCommand.set(o.key, (byCommand.get(o.key) ?? new Set()).add(JSON.stringify(stableFields(rest, transferStatus))));
    if (transferStatus === 'completed' || transferStatus === 'failed') finals.set(o.key, (finals.get(o.key) ?? new Set()).add(`${transferStatus} ${transferCode ?? ''}`));
    // A transfer reversal's record lands once too (DESIGN §10).
    const { reversalStatus, reversalCode } = o.value;
    if (isReversalRecord(o.value) && (reversalStatus === 'completed' || reversalStatus === 'failed')) finals.set(o.key, (finals.get(o.key) ?? new Set()).add(`reversal ${reversalStatus} ${reversalCode ?? ''}`));
  }
  for (const [key, statuses] of finals) if (statuses.size > 1) byCommand.get(key)?.add(`landed as ${[...statuses].join(' and ')}`);
  return byCommand;
}
