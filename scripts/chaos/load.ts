// The campaign's load: concurrent virtual clients, each a loop of seeded random requests through
// the gateway until the load ends. The mix: opens (two currencies, some with an overdraft limit),
// deposits, withdrawals (some unaffordable), transfers (some to missing, closed, other-currency
// accounts or to themselves), holds placed (60 s, the shortest: an instance with a skewed clock
// expires them), captured in full, in part or for more than held, voided (some twice), overdraft
// limits changed (some below the debt), reversals of deposits, withdrawals, captures and transfers
// the clients saw posted (some twice, some named on the wrong account), drain-and-close, deposits to
// missing accounts and a few invalid bodies. Clients learn accounts, balances and holds only from answers they got, like real
// users.
import { accountIdForKey, commandIdForKey, transferIdForCommand, uuidV5 } from '../../schemas/ids.ts';
import { prng } from '../workload.ts';
import { chaosKeyId, finalAttempt, sendCarefully, type Operation, type RequestRecord } from './client.ts';

/** Fewer open accounts than this: the next request opens one. */
const accountsMin = 4;
const currencies = ['EUR', 'EUR', 'USD'];
const initialBalanceMax = 50_000;
const depositMax = 20_000;
const overdraftLimitMax = 10_000;
/** The shortest hold DESIGN §10 allows: within a run only a processor with a skewed clock expires it. */
const holdSeconds = 60;

export interface LoadOptions {
  clients: number;
  seed: number;
  /** Makes Idempotency-Keys unique to the run. */
  runLabel: string;
  baseUrl: string;
  /** No request starts after this; those under way finish their retries. */
  untilMs: number;
}

interface KnownHold {
  id: string;
  accountId: string;
  amount: number;
  /** Not captured or voided as far as the clients know (the processor may have expired it). */
  open: boolean;
}

interface KnownAccount {
  id: string;
  currency: string;
  balance: number;
  version: number;
  closed: boolean;
}

type Random = () => number;

export class Load {
  readonly records: RequestRecord[] = [];
  private readonly accounts: KnownAccount[] = [];
  private readonly holds: KnownHold[] = [];
  /** Commands the clients saw post money (200/201): what a reversal may name. */
  private readonly postings: Array<{ accountId: string; commandId: string }> = [];

  constructor(private readonly options: LoadOptions) {}

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.clients }, (_, index) => this.client(index)));
  }

  private async client(index: number): Promise<void> {
    const random = prng(this.options.seed * 7919 + index);
    for (let n = 0; Date.now() < this.options.untilMs; n += 1) await this.step(random, `${this.options.runLabel}-c${index}-${n}`);
  }

  private pick<T>(random: Random, items: T[]): T | undefined {
    return items[Math.floor(random() * items.length)];
  }

  /** An open account mostly; now and then a closed one, which must be refused ACCOUNT_CLOSED. */
  private account(random: Random): KnownAccount | undefined {
    const closed = this.accounts.filter((a) => a.closed);
    if (closed.length > 0 && random() < 0.05) return this.pick(random, closed);
    return this.pick(random, this.accounts.filter((a) => !a.closed));
  }

  private async step(random: Random, key: string): Promise<void> {
    const roll = random();
    const account = this.account(random);
    if (account === undefined || this.accounts.filter((a) => !a.closed).length < accountsMin || roll < 0.12) return this.open(random, key);
    const amount = (max: number) => 1 + Math.floor(random() * Math.max(1, max));
    if (roll < 0.3) await this.money('deposit', account.id, amount(depositMax), key);
    else if (roll < 0.44) await this.money('withdraw', account.id, amount(account.balance * 1.3), key);
    else if (roll < 0.68) await this.transfer(random, account, amount(account.balance * 1.2), key);
    else if (roll < 0.76) await this.hold(account, amount(account.balance * 0.7), key);
    else if (roll < 0.84) await this.settleHold(random, key);
    else if (roll < 0.87) await this.send('limit', `/api/v1/accounts/${account.id}/overdraft-limit`, { limit: Math.floor(random() * overdraftLimitMax) }, account.id, key);
    else if (roll < 0.92) await this.reverse(random, account, key);
    else if (roll < 0.95) await this.drainAndClose(account, key);
    else if (roll < 0.97) await this.money('deposit', uuidV5(`chaos-missing:${key}`), amount(depositMax), key);
    else await this.send('invalid', `/api/v1/accounts/${account.id}/deposit`, { amount: 0 }, account.id, key);
  }

  private async send(op: Operation, path: string, body: Record<string, unknown> | undefined, accountId: string, key: string, transfer = false): Promise<RequestRecord> {
    const commandId = commandIdForKey(chaosKeyId, accountId, key);
    const record: RequestRecord = { op, key, path, body, accountId, commandId, ...(transfer ? { transferId: transferIdForCommand(commandId) } : {}), attempts: [] };
    this.records.push(record);
    // Jitter comes from Math.random: backoff timing needs no replay, the choices of requests do.
    return sendCarefully({ baseUrl: this.options.baseUrl, random: Math.random }, record);
  }

  private learn(accountId: string, status: number, body: Record<string, unknown> | undefined): void {
    const known = this.accounts.find((a) => a.id === accountId);
    if (known === undefined || status !== 200 || body === undefined) return;
    const version = Number(body.version);
    if (version <= known.version) return;
    known.version = version;
    if (typeof body.balance === 'number') known.balance = body.balance;
    if (body.status === 'CLOSED') known.closed = true;
  }

  private async open(random: Random, key: string): Promise<void> {
    const overdraft = random() < 0.3 ? { overdraftLimit: Math.floor(random() * overdraftLimitMax) } : {};
    const body = { ownerName: `Chaos ${key}`, currency: this.pick(random, currencies) ?? 'EUR', initialBalance: Math.floor(random() * initialBalanceMax), ...overdraft };
    const record = await this.send('open', '/api/v1/accounts', body, accountIdForKey(chaosKeyId, key), key);
    const final = finalAttempt(record);
    if (final?.status === 201) this.accounts.push({ id: record.accountId, currency: body.currency, balance: Number(final.body?.balance ?? 0), version: 1, closed: false });
  }

  private async money(op: 'deposit' | 'withdraw', accountId: string, amount: number, key: string): Promise<RequestRecord> {
    const record = await this.send(op, `/api/v1/accounts/${accountId}/${op}`, { amount }, accountId, key);
    const final = finalAttempt(record);
    if (final !== undefined) this.learn(accountId, final.status, final.body);
    this.posted(record);
    return record;
  }

  private posted(record: RequestRecord): void {
    const final = finalAttempt(record);
    if ((final?.status === 200 || final?.status === 201) && final.body?.status !== 'failed') this.postings.push({ accountId: record.accountId, commandId: record.commandId });
  }

  /** Reverses a posting the clients saw (some twice: ALREADY_REVERSED), now and then named on another account (TRANSACTION_NOT_FOUND). */
  private async reverse(random: Random, account: KnownAccount, key: string): Promise<void> {
    const posting = this.pick(random, this.postings);
    if (posting === undefined) return;
    const accountId = random() < 0.1 ? account.id : posting.accountId;
    const record = await this.send('reverse', `/api/v1/accounts/${accountId}/reversals`, { commandId: posting.commandId, reason: 'chaos' }, accountId, key);
    const final = finalAttempt(record);
    if (final !== undefined) this.learn(accountId, final.status === 201 ? 200 : final.status, final.body);
  }

  private async transfer(random: Random, from: KnownAccount, amount: number, key: string): Promise<void> {
    const roll = random();
    const to = roll < 0.08 ? uuidV5(`chaos-missing:${key}`) : roll < 0.12 ? from.id : (this.pick(random, this.accounts.filter((a) => a.id !== from.id))?.id ?? from.id);
    // Metadata rides the saga through every fault (DESIGN §10): check-ledger compares each leg's with the initiation's.
    this.posted(await this.send('transfer', '/api/v1/transfers', { fromAccountId: from.id, toAccountId: to, amount, metadata: { 'chaos.key': key } }, from.id, key, true));
  }

  private async hold(account: KnownAccount, amount: number, key: string): Promise<void> {
    const record = await this.send('hold', `/api/v1/accounts/${account.id}/holds`, { amount, expiresInSeconds: holdSeconds }, account.id, key);
    const final = finalAttempt(record);
    if (final?.status === 201 && typeof final.body?.holdId === 'string') this.holds.push({ id: final.body.holdId, accountId: account.id, amount, open: true });
  }

  /** Captures (all, a part, or one unit more than held) or voids a hold the clients placed; now and then one already closed. */
  private async settleHold(random: Random, key: string): Promise<void> {
    const open = this.holds.filter((h) => h.open);
    const hold = random() < 0.1 ? this.pick(random, this.holds) : this.pick(random, open);
    if (hold === undefined) return;
    const roll = random();
    const base = `/api/v1/accounts/${hold.accountId}/holds/${hold.id}`;
    const body = roll < 0.3 ? {} : roll < 0.6 ? { amount: 1 + Math.floor(random() * hold.amount) } : roll < 0.65 ? { amount: hold.amount + 1 } : undefined;
    const record = body === undefined ? await this.send('void', `${base}/void`, undefined, hold.accountId, key) : await this.send('capture', `${base}/capture`, body, hold.accountId, key);
    const final = finalAttempt(record);
    if (final?.status === 200) hold.open = false;
    if (final !== undefined) this.learn(hold.accountId, final.status, final.body);
    if (body !== undefined) this.posted(record);
  }

  /** Withdraws what the client believes is left, then closes: concurrent clients make some fail. */
  private async drainAndClose(account: KnownAccount, key: string): Promise<void> {
    if (account.balance > 0) {
      const drained = finalAttempt(await this.money('withdraw', account.id, account.balance, `${key}-drain`));
      if (drained?.status !== 200 || drained.body?.balance !== 0) return;
    }
    const record = await this.send('close', `/api/v1/accounts/${account.id}/close`, undefined, account.id, key);
    const final = finalAttempt(record);
    if (final !== undefined) this.learn(account.id, final.status, final.body);
  }
}
