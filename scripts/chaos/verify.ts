// What the clients were told against what the ledger holds. A 200/201 must be in the ledger
// exactly as answered (ACCEPTED outcome, the events it implies, the balance and version it
// reported); a 4xx must have left no trace (no events for its command; a refusal's outcome carries
// the same code), except the one documented trace of a transfer the destination refused: debited
// and refunded at the source; a 202 the client gave up on must have resolved to one outcome that
// GET /api/v1/commands/:id reports too. Holds, captures, voids and overdraft limits are checked
// like deposits: one event, the one asked for, at the version answered. 5xx and network errors
// promise nothing but "at most once", which the ledger checker verifies for every command.
import { isRefusalKey } from '../../topics/record-keys.ts';
import type { AccountEvent, CommandOutcome } from '../../schemas/types.ts';
import type { LedgerSnapshot } from '../ledger/read.ts';
import { finalAttempt, type Attempt, type RequestRecord } from './client.ts';

export interface ClientStats {
  /** Logical requests (one Idempotency-Key each). */
  requests: number;
  /** HTTP requests, retries included. */
  attempts: number;
  /** Requests that needed more than one attempt. */
  retried: number;
  /** Intermediate and final 202s seen. */
  pendingAnswers: number;
  /** The final answer of each request, by status ("network" for no answer). */
  finalStatus: Record<string, number>;
}

interface Index {
  events: Map<string, AccountEvent[]>;
  /**
   * Every record of each command, in log order (the first is its decision): a transfer's or a
   * reversal's is re-emitted when it lands (a reversal's with its source's version after it), and
   * a GET answers the latest it has read.
   */
  records: Map<string, CommandOutcome[]>;
  /** The latest record of each transfer initiation: its final status once settled or refunded. */
  initiations: Map<string, CommandOutcome>;
  /** Events of each transfer by type. */
  legs: Map<string, AccountEvent[]>;
}

function indexLedger(snapshot: LedgerSnapshot): Index {
  const index: Index = { events: new Map(), records: new Map(), initiations: new Map(), legs: new Map() };
  const push = <K>(map: Map<K, AccountEvent[]>, key: K, event: AccountEvent) => map.set(key, [...(map.get(key) ?? []), event]);
  const seen = new Set<string>();
  for (const { value: event } of snapshot.events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    push(index.events, event.commandId, event);
    if ('transferId' in event.payload) push(index.legs, event.payload.transferId, event);
  }
  for (const { key, value } of snapshot.outcomes) {
    if (isRefusalKey(key)) continue;
    const records = index.records.get(key);
    if (records === undefined) index.records.set(key, [value]);
    else records.push(value);
    if (value.transferStatus !== null) index.initiations.set(key, value);
  }
  return index;
}

const types = (events: AccountEvent[] | undefined): string => (events ?? []).map((e) => `${e.payload.type}@${e.sequence}`).join(', ') || 'none';

class Comparison {
  readonly violations: string[] = [];
  constructor(private readonly index: Index) {}

  private fail(record: RequestRecord, answer: Attempt, message: string): void {
    this.violations.push(`${record.op} ${record.key} (command ${record.commandId}) answered ${answer.status}: ${message}`);
  }

  check(record: RequestRecord): void {
    const answer = finalAttempt(record);
    if (answer === undefined) return;
    const toldId = answer.body?.commandId;
    if (typeof toldId === 'string' && toldId !== record.commandId) this.fail(record, answer, `the answer names command ${toldId}, the key derives ${record.commandId}`);
    if (answer.status === 200 || answer.status === 201) this.success(record, answer);
    else if (answer.status === 202) this.unresolved(record, answer);
    else if (answer.status >= 400 && answer.status < 500) this.refusal(record, answer);
  }

  private success(record: RequestRecord, answer: Attempt): void {
    const { events, legs } = this.index;
    const outcome = this.index.records.get(record.commandId)?.[0];
    const own = events.get(record.commandId) ?? [];
    const body = answer.body ?? {};
    const request = record.body ?? {};
    if (outcome?.status !== 'ACCEPTED') return this.fail(record, answer, `the ledger has ${outcome === undefined ? 'no outcome' : `a ${outcome.status} outcome`}`);
    const only = own.length === 1 ? own[0] : undefined;
    const expect = (ok: boolean, what: string) => ok || this.fail(record, answer, `${what}; ledger events: ${types(own)}; answer ${JSON.stringify(body)}`);
    switch (record.op) {
      case 'open':
        expect(answer.status === 201 && body.accountId === record.accountId && body.version === 1 && body.balance === request.initialBalance, 'the answer is not the opening asked for');
        expect(only?.payload.type === 'AccountOpened' && only.sequence === 1 && only.payload.initialBalance === request.initialBalance && only.payload.currency === request.currency, 'not exactly one matching AccountOpened');
        return;
      case 'deposit':
      case 'withdraw': {
        const type = record.op === 'deposit' ? 'MoneyDeposited' : 'MoneyWithdrawn';
        const payload = only?.payload;
        expect(payload?.type === type && payload.amount === request.amount && only?.sequence === body.version && payload.balanceAfter === body.balance, `not exactly one ${type} of ${String(request.amount)} at version ${String(body.version)} leaving ${String(body.balance)}`);
        expect(outcome.version === body.version && outcome.balance === body.balance, `the outcome says v${outcome.version} balance ${outcome.balance}`);
        return;
      }
      case 'close':
        expect(only?.payload.type === 'AccountClosed' && only.sequence === body.version, `not exactly one AccountClosed at version ${String(body.version)}`);
        return;
      case 'transfer': {
        const transfer = legs.get(record.transferId ?? '') ?? [];
        const count = (type: string) => transfer.filter((e) => e.payload.type === type).length;
        expect(body.transferId === record.transferId && body.status === 'completed', 'the answer is not a completed transfer');
        expect(only?.payload.type === 'TransferDebited' && only.payload.amount === request.amount && only.payload.toAccountId === request.toAccountId, 'not exactly one matching TransferDebited');
        expect(count('TransferCredited') === 1 && count('TransferRefunded') === 0, `completed, but the transfer's legs are ${types(transfer)}`);
        return;
      }
      case 'hold': {
        const payload = only?.payload;
        expect(answer.status === 201 && body.status === 'ACTIVE' && body.amount === request.amount, 'the answer is not the active hold asked for');
        expect(payload?.type === 'HoldPlaced' && payload.holdId === body.holdId && payload.amount === request.amount && only?.sequence === body.version, `not exactly one HoldPlaced ${String(body.holdId)} of ${String(request.amount)} at version ${String(body.version)}`);
        return;
      }
      case 'capture': {
        const payload = only?.payload;
        const asked = typeof request.amount === 'number' ? request.amount : undefined;
        expect(body.status === 'CAPTURED' && (asked === undefined || body.capturedAmount === asked), `the answer is not a capture of ${String(asked ?? 'all')}`);
        expect(payload?.type === 'HoldCaptured' && payload.amount === body.capturedAmount && payload.balanceAfter === body.balance && only?.sequence === body.version, `not exactly one HoldCaptured of ${String(body.capturedAmount)} at version ${String(body.version)} leaving ${String(body.balance)}`);
        return;
      }
      case 'void':
        expect(body.status === 'VOIDED' && only?.payload.type === 'HoldVoided' && only.payload.holdId === body.holdId && only.sequence === body.version, `not exactly one HoldVoided at version ${String(body.version)}`);
        return;
      case 'limit':
        expect(only?.payload.type === 'OverdraftLimitSet' && only.payload.limit === request.limit && body.overdraftLimit === request.limit && only.sequence === body.version, `not exactly one OverdraftLimitSet of ${String(request.limit)} at version ${String(body.version)}`);
        return;
      case 'reverse': {
        expect(answer.status === 201 && body.status === 'completed' && body.reversedCommandId === request.commandId, 'the answer is not a completed reversal of the command asked');
        const payload = only?.payload;
        if (payload?.type === 'TransactionReversed') {
          expect(payload.reversedCommandId === request.commandId && payload.amount === body.amount && only?.sequence === body.version && payload.balanceAfter === body.balance, `not exactly one TransactionReversed of ${String(body.amount)} at version ${String(body.version)} leaving ${String(body.balance)}`);
          return;
        }
        // A transfer's: the source asked, the destination paid back, the source was credited once.
        const transfer = legs.get(payload?.type === 'TransferReversalRequested' ? payload.transferId : '') ?? [];
        const count = (type: string) => transfer.filter((e) => e.payload.type === type).length;
        expect(payload?.type === 'TransferReversalRequested' && count('TransferReversed') === 1 && count('TransferReversalCredited') === 1, `a completed transfer reversal, but its events are ${types(own)} and the transfer's ${types(transfer)}`);
        return;
      }
      case 'invalid':
        this.fail(record, answer, 'an invalid request was accepted');
        return;
      default: {
        const unreachable: never = record.op;
        throw new Error(`unknown operation ${String(unreachable)}`);
      }
    }
  }

  private refusal(record: RequestRecord, answer: Attempt): void {
    const { events, legs } = this.index;
    const body = answer.body ?? {};
    const outcome = this.index.records.get(record.commandId)?.[0];
    const own = events.get(record.commandId);
    if (answer.status === 400 || record.op === 'invalid') {
      if (record.op !== 'invalid' || answer.status !== 400 || body.code !== 'VALIDATION_FAILED') this.fail(record, answer, `unexpected: ${JSON.stringify(body)}`);
      if (outcome !== undefined || own !== undefined) this.fail(record, answer, `a request refused at the edge reached the ledger (outcome ${outcome?.status ?? 'none'}, events ${types(own)})`);
      return;
    }
    if (record.op === 'transfer' && body.status === 'failed') {
      // Refused by the destination: the documented trace is a debit and its refund at the source.
      const transfer = legs.get(record.transferId ?? '') ?? [];
      const final = this.index.initiations.get(record.commandId);
      const shape = transfer.map((e) => e.payload.type).sort().join(',');
      if (shape !== 'TransferDebited,TransferRefunded') this.fail(record, answer, `a failed transfer must be debited and refunded once; its legs are ${types(transfer)}`);
      if (final?.transferStatus !== 'failed' || final.transferCode !== body.code) this.fail(record, answer, `failed with ${String(body.code)}, but the transfer's record says ${final === undefined ? 'nothing' : `${final.transferStatus} ${final.transferCode ?? ''}`}`);
      return;
    }
    if (record.op === 'reverse' && body.status === 'failed') {
      // A transfer reversal the destination could not pay: asked at the source, nothing moved.
      const asked = (own ?? []).map((e) => e.payload.type).join(',');
      if (asked !== 'TransferReversalRequested') this.fail(record, answer, `a failed transfer reversal must leave only its request at the source; it left ${types(own)}`);
      return;
    }
    if (body.code === 'IDEMPOTENCY_KEY_REUSED') this.fail(record, answer, 'a fresh Idempotency-Key was refused as reused');
    if (own !== undefined) this.fail(record, answer, `a refused command left events: ${types(own)}`);
    if (outcome?.status !== 'REJECTED' || outcome.code !== body.code) this.fail(record, answer, `refused ${String(body.code)}, but the ledger's outcome is ${outcome === undefined ? 'missing' : `${outcome.status} ${outcome.code ?? ''}`}`);
    const debits = (legs.get(record.transferId ?? '') ?? []).length;
    if (record.op === 'transfer' && debits > 0) this.fail(record, answer, `a transfer refused at its source has ${debits} ledger events`);
  }

  private unresolved(record: RequestRecord, answer: Attempt): void {
    const records = this.index.records.get(record.commandId) ?? [];
    const resolution = record.resolution;
    if (records.length === 0) return this.fail(record, answer, 'the client gave up on a 202, and the command never got an outcome');
    const found = records.some((r) => resolution?.status === 200 && resolution.body?.status === r.status && resolution.body?.version === r.version);
    if (!found) {
      const has = [...new Set(records.map((r) => `${r.status} v${r.version}`))].join(', then ');
      this.fail(record, answer, `GET /api/v1/commands/${record.commandId} answered ${resolution?.status ?? 'nothing'} ${JSON.stringify(resolution?.body ?? {})}, the outcomes topic has ${has}`);
    }
  }
}

export function clientStats(records: RequestRecord[]): ClientStats {
  const stats: ClientStats = { requests: records.length, attempts: 0, retried: 0, pendingAnswers: 0, finalStatus: {} };
  for (const record of records) {
    stats.attempts += record.attempts.length;
    stats.retried += record.attempts.length > 1 ? 1 : 0;
    stats.pendingAnswers += record.attempts.filter((a) => a.status === 202).length;
    const status = finalAttempt(record)?.status ?? 0;
    const name = status === 0 ? 'network' : String(status);
    stats.finalStatus[name] = (stats.finalStatus[name] ?? 0) + 1;
  }
  return stats;
}

export function compareWithClients(records: RequestRecord[], snapshot: LedgerSnapshot): string[] {
  const comparison = new Comparison(indexLedger(snapshot));
  for (const record of records) comparison.check(record);
  return comparison.violations;
}
