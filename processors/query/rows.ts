// How view rows are stored: JSON arrays in a fixed field order instead of objects. Half the
// bytes (no field names in every row) and a cheaper JSON.stringify, which matters when a rebuild
// writes two rows per event. Changing an order here changes the store format: bump storeFormat
// in store.ts, so old stores are rebuilt rather than misread.
import type { AccountSummary, HistoryEntry } from './views/types.ts';
import type { HoldRecord } from './views/holds.ts';
import type { Metadata } from '../../schemas/types.ts';
import { emptyMetadata } from '../../schemas/metadata.ts';

export interface RowCodec<T> {
  encode(row: T): string;
  decode(text: string): T;
}

// heldBalance and overdraftLimit came last (DESIGN §10): rows written before them decode with 0.
// Metadata after them, only when there is some (most rows have none): absent, it decodes as {}.
type AccountTuple = [string, string, string, number, AccountSummary['status'], number, number, number, number?, number?, Metadata?];
// The actor came last (DESIGN §9): rows written before it decode with actor null. Metadata as above.
type HistoryTuple = [number, HistoryEntry['type'], number, number, number, string, string | null, string | null, string | null, string | null, (string | null)?, Metadata?];

/** Without allocating the keys array: this runs for every row a rebuild writes. */
function hasKeys(metadata: Metadata): boolean {
  for (const _key in metadata) return true;
  return false;
}

const account: RowCodec<AccountSummary> = {
  encode: (a) => {
    const tuple: AccountTuple = [a.accountId, a.ownerName, a.currency, a.balance, a.status, a.version, a.openedAt, a.updatedAt, a.heldBalance, a.overdraftLimit];
    if (hasKeys(a.metadata)) tuple.push(a.metadata);
    return JSON.stringify(tuple);
  },
  decode: (text) => {
    const [accountId, ownerName, currency, balance, status, version, openedAt, updatedAt, heldBalance = 0, overdraftLimit = 0, metadata = emptyMetadata] = JSON.parse(text) as AccountTuple;
    return { accountId, ownerName, currency, balance, status, version, openedAt, updatedAt, heldBalance, overdraftLimit, metadata };
  },
};

const history: RowCodec<HistoryEntry> = {
  encode: (e) => {
    const tuple: HistoryTuple = [e.sequence, e.type, e.amount, e.balanceAfter, e.occurredAt, e.commandId, e.transferId, e.counterpartyAccountId, e.reference, e.reason, e.actor];
    if (hasKeys(e.metadata)) tuple.push(e.metadata);
    return JSON.stringify(tuple);
  },
  decode: (text) => {
    const [sequence, type, amount, balanceAfter, occurredAt, commandId, transferId, counterpartyAccountId, reference, reason, actor = null, metadata = emptyMetadata] = JSON.parse(text) as HistoryTuple;
    return { sequence, type, amount, balanceAfter, occurredAt, commandId, transferId, counterpartyAccountId, reference, reason, actor, metadata };
  },
};

type HoldTuple = [string, string, number, HoldRecord['status'], string | null, number, number, number, number | null, number | null, number | null, string, string | null];

const hold: RowCodec<HoldRecord> = {
  encode: (h) =>
    JSON.stringify([h.holdId, h.accountId, h.amount, h.status, h.reference, h.expiresAt, h.placedAt, h.placedSequence, h.capturedAmount, h.releasedAmount, h.closedAt, h.commandId, h.actor] satisfies HoldTuple),
  decode: (text) => {
    const [holdId, accountId, amount, status, reference, expiresAt, placedAt, placedSequence, capturedAmount, releasedAmount, closedAt, commandId, actor] = JSON.parse(text) as HoldTuple;
    return { holdId, accountId, amount, status, reference, expiresAt, placedAt, placedSequence, capturedAmount, releasedAmount, closedAt, commandId, actor };
  },
};

export const rows = { account, history, hold };
