// The store reads one transaction's commands need, prefetched before its decisions (batch.ts is
// pure and synchronous): account states, idempotency records, and the records kept forever that
// transfers, holds and reversals name.
import { keptForeverWhenAccepted, type BatchLookups } from './batch.ts';
import type { PartitionStore } from './store.ts';
import type { CaptureHold, Command, CommandPayload, CreditTransferReversal, ExpireHold, FailTransferReversal, InitiateTransfer, PlaceHold, RefundTransfer, ReverseTransaction, SettleTransfer, VoidHold } from '../../schemas/types.ts';

/** Commands that start, settle or refund a transfer: they look up its initiation by transferId. */
function transferStep(payload: CommandPayload): payload is InitiateTransfer | SettleTransfer | RefundTransfer {
  return payload.type === 'InitiateTransfer' || payload.type === 'SettleTransfer' || payload.type === 'RefundTransfer';
}

/** Commands that place or act on a hold: they look up its record by holdId. */
function holdStep(payload: CommandPayload): payload is PlaceHold | CaptureHold | VoidHold | ExpireHold {
  return payload.type === 'PlaceHold' || payload.type === 'CaptureHold' || payload.type === 'VoidHold' || payload.type === 'ExpireHold';
}

/** Commands that create or end a reversal: they look up its record by reversalId. */
function reversalStep(payload: CommandPayload): payload is ReverseTransaction | CreditTransferReversal | FailTransferReversal {
  return payload.type === 'ReverseTransaction' || payload.type === 'CreditTransferReversal' || payload.type === 'FailTransferReversal';
}

export async function lookupsFor(store: PartitionStore, commands: Command[]): Promise<BatchLookups> {
  // Postings the commands name themselves, known before any read: a reversal, the one it reverses
  // (a posting record, else a movement). And under a command's own id, its posting record: a
  // destination's debit of a reversal seen again is replayed from it, and a transfer, hold or
  // reversal may not take an id a posting holds (batch.ts); their movements are in `known`.
  const reversed = commands.flatMap((c) => (c.payload.type === 'ReverseTransaction' ? [c.payload.reversedCommandId] : []));
  const own = commands.flatMap((c) => (keptForeverWhenAccepted(c.payload) || c.payload.type === 'DebitTransferReversal' ? [c.commandId] : []));
  // Independent reads, at once: each is a LevelDB round trip through libuv's thread pool, and one
  // after another they added up to the chunk's read time (a wake-up each, issue 13).
  const [states, known, initiations, holds, reversals, reversedPostings, ownPostings] = await Promise.all([
    store.states(commands.map((c) => c.accountId)),
    store.outcomes(commands.map((c) => c.commandId)),
    store.initiations(commands.flatMap((c) => (transferStep(c.payload) ? [c.payload.transferId] : []))),
    store.holds(commands.flatMap((c) => (holdStep(c.payload) ? [c.payload.holdId] : []))),
    store.reversals(commands.flatMap((c) => (reversalStep(c.payload) ? [c.payload.reversalId] : []))),
    store.postings(reversed),
    store.postingRecords(own),
  ]);
  // Then a reversal's landing reads the transfer its record names (known only from that record).
  const asked = new Set(reversed);
  const landed = [...reversals.values()].flatMap((r) => (r.reversedCommandId == null || asked.has(r.reversedCommandId) ? [] : [r.reversedCommandId]));
  const landedPostings = await store.postings(landed);
  return {
    state: (id: string) => states.get(id),
    outcome: (id: string) => known.get(id),
    initiation: (id: string) => initiations.get(id),
    hold: (id: string) => holds.get(id),
    posting: (id: string) => reversedPostings.get(id) ?? landedPostings.get(id) ?? ownPostings.get(id),
    reversal: (id: string) => reversals.get(id),
  };
}
