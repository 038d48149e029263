// A transfer's status, combined at read time from the facts each partition recorded: the
// source's debit (and refund), the destination's credit. Partitions advance independently, so
// any subset may be visible; each subset maps to the most advanced status it proves.
import { assert } from './assert.ts';
import type { HistoryEntry, TransferFact, TransferFacts, TransferRole, TransferView } from './types.ts';

const roleOfType: Partial<Record<HistoryEntry['type'], TransferRole>> = {
  TransferDebited: 'debited',
  TransferCredited: 'credited',
  TransferRefunded: 'refunded',
};

/**
 * The transfer fact a history entry of `accountId` records. The store keeps only a pointer from
 * a transfer to the entry, so each fact is written once (as the entry) and rebuilt here on read.
 */
export function factFromEntry(accountId: string, currency: string, entry: HistoryEntry): TransferFact {
  const role = roleOfType[entry.type];
  assert(role !== undefined, `history entry ${accountId}:${entry.sequence} (${entry.type}) is not a transfer event`);
  assert(entry.transferId !== null && entry.counterpartyAccountId !== null, `history entry ${accountId}:${entry.sequence} lacks its transfer`);
  const incoming = role === 'credited';
  return {
    role,
    transferId: entry.transferId,
    fromAccountId: incoming ? entry.counterpartyAccountId : accountId,
    toAccountId: incoming ? accountId : entry.counterpartyAccountId,
    amount: entry.amount,
    currency,
    reason: entry.reason,
    occurredAt: entry.occurredAt,
  };
}

export function transferView(facts: TransferFacts): TransferView | undefined {
  const { debited, credited, refunded } = facts;
  // The saga ends in a credit or a refund, never both (DESIGN §4).
  assert(credited === undefined || refunded === undefined, `transfer ${credited?.transferId}: both credited and refunded`);
  const known = refunded ?? credited ?? debited;
  if (known === undefined) return undefined;
  for (const fact of [debited, credited, refunded]) {
    if (fact === undefined) continue;
    assert(fact.transferId === known.transferId, `transfer ${known.transferId}: fact of transfer ${fact.transferId}`);
    assert(fact.amount === known.amount, `transfer ${known.transferId}: amounts ${fact.amount} and ${known.amount} differ`);
    assert(fact.fromAccountId === known.fromAccountId, `transfer ${known.transferId}: sources differ`);
    assert(fact.toAccountId === known.toAccountId, `transfer ${known.transferId}: destinations differ`);
  }
  return {
    transferId: known.transferId,
    // A credit proves completion even before the source's partition shows the debit.
    status: refunded !== undefined ? 'failed' : credited !== undefined ? 'completed' : 'pending',
    fromAccountId: known.fromAccountId,
    toAccountId: known.toAccountId,
    amount: known.amount,
    // The source's currency; a credit is only ever made in the same currency.
    currency: (debited ?? known).currency,
    reason: refunded?.reason ?? null,
    debitedAt: debited?.occurredAt ?? null,
    creditedAt: credited?.occurredAt ?? null,
    refundedAt: refunded?.occurredAt ?? null,
  };
}
