// Builders for the query side's tests: "given these events, the views hold these rows".
import type { AccountEvent, EventPayload } from '../../../schemas/types.ts';
import { applyEvents } from '../../../processors/query/views/index.ts';
import type { AccountSummary, BatchChanges } from '../../../processors/query/views/index.ts';

export const A = 'acc-a';
export const B = 'acc-b';
export const T = 'transfer-1';
export const t0 = 1_700_000_000_000;

export function event(accountId: string, sequence: number, payload: EventPayload): AccountEvent {
  return { eventId: `${accountId}:${sequence}`, accountId, sequence, commandId: `cmd-${accountId}-${sequence}`, occurredAt: t0 + sequence, payload };
}

/** Numbers payloads 1, 2, 3… for one account, as the account processor does. */
export function history(accountId: string, payloads: EventPayload[]): AccountEvent[] {
  return payloads.map((payload, i) => event(accountId, i + 1, payload));
}

/** Folds events from empty views, the way the consumer does batch by batch. */
export function fold(events: AccountEvent[], rows = new Map<string, AccountSummary | undefined>()): { rows: Map<string, AccountSummary | undefined>; changes: BatchChanges } {
  const current = new Map(rows);
  const changes = applyEvents(current, events);
  for (const [id, row] of changes.accounts) current.set(id, row);
  return { rows: current, changes };
}

export const ev = {
  opened: (initialBalance: number, currency = 'EUR'): EventPayload => ({ type: 'AccountOpened', ownerName: 'Ada Lovelace', currency, initialBalance, overdraftLimit: 0 }),
  deposited: (amount: number, balanceAfter: number, reference: string | null = null): EventPayload => ({ type: 'MoneyDeposited', amount, balanceAfter, reference }),
  withdrawn: (amount: number, balanceAfter: number, reference: string | null = null): EventPayload => ({ type: 'MoneyWithdrawn', amount, balanceAfter, reference }),
  debited: (amount: number, balanceAfter: number, toAccountId = B, transferId = T): EventPayload => ({ type: 'TransferDebited', transferId, toAccountId, amount, balanceAfter, inFlight: amount }),
  credited: (amount: number, balanceAfter: number, fromAccountId = A, transferId = T): EventPayload => ({ type: 'TransferCredited', transferId, fromAccountId, amount, balanceAfter }),
  refunded: (amount: number, balanceAfter: number, reason = 'ACCOUNT_NOT_FOUND', toAccountId = B, transferId = T): EventPayload => ({
    type: 'TransferRefunded',
    transferId,
    toAccountId,
    amount,
    balanceAfter,
    reason,
    inFlightReleased: amount,
  }),
  closed: (): EventPayload => ({ type: 'AccountClosed' }),
};
