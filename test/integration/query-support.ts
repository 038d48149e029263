// Support for the query processor's integration tests: a small model bank that scripts a
// consistent event log (what the account processor would write) and knows the views it should
// produce, a transactional producer that writes the log through the real codecs to the partition
// of each account, and an in-process query processor with its log lines captured.
import { randomUUID } from 'node:crypto';
import { Partitioners, type Producer } from 'kafkajs';
import type { AccountEvent, EventPayload } from '../../schemas/types.ts';
import type { TestLedger } from '../support/ledger.ts';
import { createPartitionOf } from '../../processors/query/stores.ts';
import { loadQueryConfig } from '../../processors/query/config.ts';
import { adminHeaders } from '../support/keys.ts';
import { startQueryProcessor, type QueryProcessor } from '../../processors/query/service.ts';
import type { Logger } from '../../processors/log.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export interface ModelAccount {
  accountId: string;
  ownerName: string;
  currency: string;
  balance: number;
  status: 'OPEN' | 'CLOSED';
  version: number;
  openedAt: string;
  updatedAt: string;
  /** This model places no holds and sets no limits: 0, 0, and the balance (DESIGN §11 fields). */
  heldBalance: number;
  overdraftLimit: number;
  availableBalance: number;
  /** Its opening's metadata (DESIGN §10). */
  metadata: Record<string, string>;
}

export interface ModelEntry {
  sequence: number;
  type: string;
  amount: number;
  balanceAfter: number;
  occurredAt: string;
  commandId: string;
  transferId: string | null;
  counterpartyAccountId: string | null;
  reference: string | null;
  reason: string | null;
  actor: string | null;
  metadata: Record<string, string>;
}

export interface ModelTransfer {
  transferId: string;
  status: 'pending' | 'completed' | 'failed';
  fromAccountId: string;
  toAccountId: string;
  amount: number;
  reason: string | null;
}

/** A bank whose every operation is an event (or two) with the right sequence and balanceAfter. */
export class ModelBank {
  readonly accounts = new Map<string, ModelAccount>();
  readonly history = new Map<string, ModelEntry[]>();
  readonly transfers = new Map<string, ModelTransfer>();
  private clock = Date.UTC(2024, 0, 1);

  /** Every event ever emitted, in order (to re-publish some of them). */
  readonly events: AccountEvent[] = [];
  /** Events not yet taken by `drain()`, in the order they happened. */
  private pending: AccountEvent[] = [];

  drain(): AccountEvent[] {
    const events = this.pending;
    this.pending = [];
    return events;
  }

  private emit(accountId: string, payload: EventPayload, amount: number, details: Partial<ModelEntry> = {}): void {
    const account = this.accounts.get(accountId);
    if (account === undefined) throw new Error(`model: no account ${accountId}`);
    this.clock += 1000;
    const sequence = account.version + 1;
    const commandId = randomUUID();
    // Who moved the money (DESIGN §9): most events name their API key; every third has none, as
    // events written before access control, which history shows with actor null.
    const actor = sequence % 3 === 0 ? null : 'modelteller01';
    // Metadata (DESIGN §10): an opening carries the account's; of the other events every second one some, the rest none.
    const metadata = payload.type === 'AccountOpened' ? account.metadata : sequence % 2 === 0 ? { 'model.sequence': String(sequence) } : {};
    const event: AccountEvent = { eventId: `${accountId}:${sequence}`, accountId, sequence, commandId, occurredAt: this.clock, payload, actor, metadata };
    this.pending.push(event);
    this.events.push(event);
    Object.assign(account, { version: sequence, updatedAt: iso(this.clock), availableBalance: account.balance - account.heldBalance + account.overdraftLimit });
    const entry: ModelEntry = {
      sequence, type: payload.type, amount, balanceAfter: account.balance, occurredAt: iso(this.clock), commandId,
      transferId: null, counterpartyAccountId: null, reference: null, reason: null, actor, metadata, ...details,
    };
    this.history.set(accountId, [...(this.history.get(accountId) ?? []), entry]);
  }

  open(ownerName: string, currency: string, initialBalance: number, metadata: Record<string, string> = {}): string {
    const accountId = randomUUID();
    this.accounts.set(accountId, { accountId, ownerName, currency, balance: initialBalance, status: 'OPEN', version: 0, openedAt: iso(this.clock + 1000), updatedAt: '', heldBalance: 0, overdraftLimit: 0, availableBalance: initialBalance, metadata });
    this.emit(accountId, { type: 'AccountOpened', ownerName, currency, initialBalance, overdraftLimit: 0 }, initialBalance);
    return accountId;
  }

  private move(accountId: string, delta: number): number {
    const account = this.accounts.get(accountId)!;
    account.balance += delta;
    return account.balance;
  }

  deposit(accountId: string, amount: number, reference: string | null = null): void {
    const balanceAfter = this.move(accountId, amount);
    this.emit(accountId, { type: 'MoneyDeposited', amount, balanceAfter, reference }, amount, { reference });
  }

  withdraw(accountId: string, amount: number, reference: string | null = null): void {
    const balanceAfter = this.move(accountId, -amount);
    this.emit(accountId, { type: 'MoneyWithdrawn', amount, balanceAfter, reference }, amount, { reference });
  }

  /** Debits the source; `outcome` says whether the destination credits it, refuses it, or has not yet. */
  transfer(fromAccountId: string, toAccountId: string, amount: number, outcome: 'completed' | 'pending' | { refusedWith: string }): string {
    const transferId = randomUUID();
    const debitAfter = this.move(fromAccountId, -amount);
    this.emit(fromAccountId, { type: 'TransferDebited', transferId, toAccountId, amount, balanceAfter: debitAfter, inFlight: amount }, amount, { transferId, counterpartyAccountId: toAccountId });
    let status: ModelTransfer['status'] = 'pending';
    let reason: string | null = null;
    if (outcome === 'completed') {
      const creditAfter = this.move(toAccountId, amount);
      this.emit(toAccountId, { type: 'TransferCredited', transferId, fromAccountId, amount, balanceAfter: creditAfter }, amount, { transferId, counterpartyAccountId: fromAccountId });
      status = 'completed';
    } else if (outcome !== 'pending') {
      reason = outcome.refusedWith;
      const refundAfter = this.move(fromAccountId, amount);
      this.emit(fromAccountId, { type: 'TransferRefunded', transferId, toAccountId, amount, balanceAfter: refundAfter, reason, inFlightReleased: amount }, amount, { transferId, counterpartyAccountId: toAccountId, reason });
      status = 'failed';
    }
    this.transfers.set(transferId, { transferId, status, fromAccountId, toAccountId, amount, reason });
    return transferId;
  }

  close(accountId: string): void {
    const account = this.accounts.get(accountId)!;
    if (account.balance > 0) this.withdraw(accountId, account.balance, 'closing');
    account.status = 'CLOSED';
    this.emit(accountId, { type: 'AccountClosed' }, 0);
  }
}

/** Writes events inside Kafka transactions, each to the partition of its account, as the account processor does. */
export class EventWriter {
  readonly partitionOf: (accountId: string) => number;
  private constructor(private readonly ledger: TestLedger, private readonly producer: Producer) {
    this.partitionOf = createPartitionOf(ledger.config.partitions);
  }

  static async start(ledger: TestLedger): Promise<EventWriter> {
    const producer = ledger.kafka.producer({ transactionalId: `${ledger.config.appId}.test-events`, idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    return new EventWriter(ledger, producer);
  }

  private messages(events: AccountEvent[]) {
    return events.map((e) => ({ key: e.eventId, value: this.ledger.codecs.events.encode(e), partition: this.partitionOf(e.accountId) }));
  }

  /** One committed transaction; `abort` writes the same records and aborts instead. */
  async write(events: AccountEvent[], options: { abort?: boolean } = {}): Promise<void> {
    const transaction = await this.producer.transaction();
    try {
      await transaction.send({ topic: this.ledger.topics.events, messages: this.messages(events) });
    } catch (error) {
      await transaction.abort();
      throw error;
    }
    if (options.abort === true) await transaction.abort();
    else await transaction.commit();
  }

  async stop(): Promise<void> {
    await this.producer.disconnect();
  }
}

export interface InProcessQuery {
  processor: QueryProcessor;
  lines: Array<{ msg: string } & Record<string, unknown>>;
  fatal: Error[];
}

/** The query processor in this process, on a free port, logging into `lines`. */
export async function startQuery(ledger: TestLedger, env: Record<string, string> = {}): Promise<InProcessQuery> {
  const lines: InProcessQuery['lines'] = [];
  const fatal: Error[] = [];
  const record = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, ...fields });
  const log: Logger = { info: record('info'), warn: record('warn'), error: record('error') };
  const config = loadQueryConfig({ ...ledger.env, QUERY_HOST: '127.0.0.1', QUERY_PORT: '0', ...env });
  const processor = await startQueryProcessor({ config, log, onFatal: (error) => void fatal.push(error) });
  return { processor, lines, fatal };
}

export async function getJson(base: string, path: string): Promise<{ status: number; headers: Headers; body: any }> {
  const response = await fetch(`${base}${path}`, { headers: adminHeaders });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

/** Follows nextCursor to the end; fails past `pagesMax` so a cursor loop cannot hang a test. */
export async function allPages<T>(base: string, path: string, limit: number, pagesMax = 1000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < pagesMax; page += 1) {
    const separator = path.includes('?') ? '&' : '?';
    const { status, body } = await getJson(base, `${path}${separator}limit=${limit}${cursor === null ? '' : `&cursor=${cursor}`}`);
    if (status !== 200) throw new Error(`GET ${path} answered ${status}: ${JSON.stringify(body)}`);
    items.push(...(body.items as T[]));
    cursor = body.nextCursor;
    if (cursor === null) return items;
  }
  throw new Error(`GET ${path}: more than ${pagesMax} pages`);
}
