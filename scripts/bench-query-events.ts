// A seeded, consistent event log for the query benchmark: every account opened first, then
// deposits, withdrawals, transfers (a debit at the source and a credit at the destination) and
// holds (placed, later captured in part, voided or expired), each with the right sequence and
// balanceAfter, generated in chunks so a million events never sit in memory at once.
import { eventKey } from '../topics/record-keys.ts';
import { uuidV5 } from '../schemas/ids.ts';
import type { AccountEvent, EventPayload, Metadata } from '../schemas/types.ts';
import { prng } from './workload.ts';

export interface BenchEventsOptions {
  events: number;
  accounts: number;
  seed: number;
  chunk: number;
}

export const benchAccountId = (seed: number, index: number): string => uuidV5(`bench-query:${seed}:account:${index}`);

/** Holds open at once across the log: a new hold past it waits until one closes. */
const activeHoldsMax = 10_000;
const holdTtlMs = 7 * 86_400_000;

/** An account's metadata (DESIGN §10): one of four segments (a broad filter) and its own CRM id (a selective one). */
export const benchSegments = ['retail', 'business', 'private', 'public'] as const;
export const benchAccountMetadata = (index: number): Metadata => ({ segment: benchSegments[index % benchSegments.length] as string, 'crm.id': `crm-${index}` });

export function* benchEvents(options: BenchEventsOptions): Generator<AccountEvent[]> {
  const random = prng(options.seed);
  const ids = Array.from({ length: options.accounts }, (_, i) => benchAccountId(options.seed, i));
  const versions = new Float64Array(options.accounts);
  const balances = new Float64Array(options.accounts);
  const held = new Float64Array(options.accounts);
  const activeHolds: Array<{ index: number; holdId: string; amount: number }> = [];
  const start = Date.now() - options.events;
  let emitted = 0;
  let chunk: AccountEvent[] = [];
  const emit = (index: number, payload: EventPayload, metadata: Metadata = {}): void => {
    const accountId = ids[index] as string;
    const sequence = (versions[index] as number) + 1;
    versions[index] = sequence;
    chunk.push({ eventId: eventKey(accountId, sequence), accountId, sequence, commandId: uuidV5(`bench-query:${accountId}:${sequence}`), occurredAt: start + emitted, payload, metadata });
    emitted += 1;
  };
  const move = (index: number, delta: number): number => (balances[index] = (balances[index] as number) + delta);
  for (let i = 0; i < options.accounts && emitted < options.events; i += 1) {
    balances[i] = 10_000;
    emit(i, { type: 'AccountOpened', ownerName: `Bench customer ${i}`, currency: 'EUR', initialBalance: 10_000, overdraftLimit: 0 }, benchAccountMetadata(i));
    if (chunk.length >= options.chunk) {
      yield chunk;
      chunk = [];
    }
  }
  let transfer = 0;
  let holds = 0;
  while (emitted < options.events) {
    const a = Math.floor(random() * options.accounts);
    const amount = 1 + Math.floor(random() * 5_000);
    const roll = random();
    // Held money is not available to debits, as in the account processor.
    const affordable = (balances[a] as number) - (held[a] as number) >= amount;
    if (roll < 0.7 && options.events - emitted >= 2 && affordable && options.accounts > 1) {
      const b = (a + 1 + Math.floor(random() * (options.accounts - 1))) % options.accounts;
      const transferId = uuidV5(`bench-query:transfer:${options.seed}:${transfer++}`);
      emit(a, { type: 'TransferDebited', inFlight: 0, transferId, toAccountId: ids[b] as string, amount, balanceAfter: move(a, -amount) });
      emit(b, { type: 'TransferCredited', transferId, fromAccountId: ids[a] as string, amount, balanceAfter: move(b, amount) });
    } else if (roll < 0.85 && affordable) {
      emit(a, { type: 'MoneyWithdrawn', amount, balanceAfter: move(a, -amount), reference: null });
    } else if (roll < 0.87 && affordable && activeHolds.length < activeHoldsMax) {
      const holdId = uuidV5(`bench-query:hold:${options.seed}:${holds++}`);
      held[a] = (held[a] as number) + amount;
      activeHolds.push({ index: a, holdId, amount });
      emit(a, { type: 'HoldPlaced', holdId, amount, expiresAt: start + emitted + holdTtlMs, reference: roll < 0.86 ? `card ${emitted}` : null });
    } else if (roll < 0.89 && activeHolds.length > 0) {
      // Close a random open hold: captured in part, voided or expired, a third each.
      const [hold] = activeHolds.splice(Math.floor(random() * activeHolds.length), 1);
      if (hold === undefined) continue;
      const { index, holdId } = hold;
      held[index] = (held[index] as number) - hold.amount;
      const ending = random();
      if (ending < 1 / 3) {
        const captured = 1 + Math.floor(random() * hold.amount);
        emit(index, { type: 'HoldCaptured', holdId, amount: captured, balanceAfter: move(index, -captured), released: hold.amount });
      } else {
        emit(index, ending < 2 / 3 ? { type: 'HoldVoided', holdId, amount: hold.amount } : { type: 'HoldExpired', holdId, amount: hold.amount });
      }
    } else {
      emit(a, { type: 'MoneyDeposited', amount, balanceAfter: move(a, amount), reference: roll < 0.9 ? `bench ${emitted}` : null });
    }
    if (chunk.length >= options.chunk) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
}
