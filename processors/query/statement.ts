// Account statements (DESIGN §11): the entries of a time range, oldest first, with the opening
// and closing balances and the credit and debit totals, as JSON or as RFC 4180 CSV. Streamed: the
// entries are read `statementChunkEntries` at a time as the client takes them (backpressure from
// the socket), so a statement of a million entries holds one chunk in memory, not a million.
// The range is fixed when the statement starts (entries are immutable once written), so a
// statement is consistent even while the account keeps moving.
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { StoreReads } from './store-reads.ts';
import type { TimeRange } from './filters.ts';
import type { AccountSummary, HistoryEntry } from './views/types.ts';

/** Entries read per multi-get while a statement streams: what it holds in memory at once. */
export const statementChunkEntries = 1000;

/** The CSV header, in this order (DESIGN §11). */
export const statementColumns = [
  'sequence', 'occurredAt', 'type', 'amount', 'signedAmount', 'balanceAfter', 'reference', 'transferId', 'counterpartyAccountId', 'commandId', 'actor',
] as const;

export interface StatementRange {
  /** First and last sequence in the range; low > high when it holds no entry. */
  low: number;
  high: number;
  openingBalance: number;
  closingBalance: number;
}

export interface StatementTotals {
  totalCredits: number;
  totalDebits: number;
}

type StatementLine = Record<(typeof statementColumns)[number], string | number | null>;

async function balanceAfter(reads: StoreReads, accountId: string, sequence: number): Promise<number> {
  if (sequence < 1) return 0;
  const [entry] = (await reads.entries(accountId, [sequence])) ?? [];
  if (entry === undefined) throw new Error(`history of ${accountId} has no entry ${sequence} (the partition's views were wiped)`);
  return entry.balanceAfter;
}

/**
 * The sequences of the range by the time index (two seeks), and the balances at its edges. The
 * index is monotonic in sequence (keys.ts), so the entries before `low` are all before `from`.
 */
export async function statementRange(reads: StoreReads, account: AccountSummary, range: TimeRange): Promise<StatementRange> {
  const { accountId, version } = account;
  const high = range.to === undefined ? version : Math.min(version, (await reads.sequenceAtOrBefore(accountId, range.to)) ?? 0);
  const low = range.from === undefined ? 1 : Math.min(version + 1, (await reads.sequenceAtOrAfter(accountId, range.from)) ?? version + 1);
  const openingBalance = await balanceAfter(reads, accountId, Math.min(low - 1, high));
  const closingBalance = high >= low ? await balanceAfter(reads, accountId, high) : openingBalance;
  return { low, high, openingBalance, closingBalance };
}

/**
 * The range's lines, oldest first. signedAmount is what the entry did to the balance (balanceAfter
 * minus the balance before it), so it is right for every event type: 0 for those that move no
 * money (AccountClosed, TransferSettled, OverdraftLimitSet, HoldPlaced, HoldVoided, HoldExpired:
 * a hold only reserves, and their entries' amount is not a balance move), −amount for
 * HoldCaptured; credits and debits are its positive and negative sums.
 */
async function* statementLines(reads: StoreReads, accountId: string, range: StatementRange, totals: StatementTotals): AsyncGenerator<StatementLine> {
  let previous = range.openingBalance;
  for await (const chunk of reads.entriesAscending(accountId, range.low, range.high, statementChunkEntries)) {
    for (const entry of chunk) {
      const signedAmount = entry.balanceAfter - previous;
      previous = entry.balanceAfter;
      if (signedAmount > 0) totals.totalCredits += signedAmount;
      else totals.totalDebits -= signedAmount;
      yield line(entry, signedAmount);
    }
  }
}

function line(entry: HistoryEntry, signedAmount: number): StatementLine {
  return {
    sequence: entry.sequence,
    occurredAt: new Date(entry.occurredAt).toISOString(),
    type: entry.type,
    amount: entry.amount,
    signedAmount,
    balanceAfter: entry.balanceAfter,
    reference: entry.reference,
    transferId: entry.transferId,
    counterpartyAccountId: entry.counterpartyAccountId,
    commandId: entry.commandId,
    // The API key whose command caused the event (DESIGN §9); empty for events from before it.
    actor: entry.actor,
  };
}

/** RFC 4180 CSV (CRLF line ends, fields quoted when they need it) with the header row of statementColumns. */
export function csvStatement(reads: StoreReads, accountId: string, range: StatementRange): Readable {
  const totals: StatementTotals = { totalCredits: 0, totalDebits: 0 };
  const csv = stringify({ header: true, columns: [...statementColumns], record_delimiter: 'windows' });
  // pipeline destroys the CSV stream when reading fails, which aborts the response.
  return pipeline(Readable.from(statementLines(reads, accountId, range, totals)), csv, () => undefined);
}

export interface StatementHead {
  accountId: string;
  currency: string;
  from: string;
  to: string;
}

/** JSON, entries streamed; the totals follow the entries (they are summed on the way), so the members come in that order. */
export function jsonStatement(reads: StoreReads, head: StatementHead, range: StatementRange): Readable {
  async function* chunks(): AsyncGenerator<string> {
    const totals: StatementTotals = { totalCredits: 0, totalDebits: 0 };
    yield `${JSON.stringify({ ...head, openingBalance: range.openingBalance }).slice(0, -1)},"entries":[`;
    let text = '';
    let count = 0;
    for await (const statementLine of statementLines(reads, head.accountId, range, totals)) {
      text += (count === 0 ? '' : ',') + JSON.stringify(statementLine);
      count += 1;
      if (count % statementChunkEntries === 0) {
        yield text;
        text = '';
      }
    }
    yield `${text}],${JSON.stringify({ closingBalance: range.closingBalance, ...totals }).slice(1)}`;
  }
  return Readable.from(chunks());
}
