// The store reads one transaction's commands need, prefetched before its decisions (batch.ts is
// pure and synchronous): account states, idempotency records, and the records kept forever that
// transfers, holds and reversals name.
import type { BatchLookups } from './batch.ts';
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
  // What the commands themselves name, known before any read: a reversal, the posting it reverses;
  // a destination's debit of a reversal, its own posting (a late duplicate is replayed); a
  // transfer, hold or reversal, a posting under its own id (that id is used: batch.ts).
  const named = commands.flatMap((c) =>
    c.payload.type === 'ReverseTransaction' ? [c.payload.reversedCommandId, c.commandId]
    : c.payload.type === 'DebitTransferReversal' || c.payload.type === 'InitiateTransfer' || c.payload.type === 'PlaceHold' ? [c.commandId]
    : []);
  // Independent reads, at once: each is a LevelDB round trip through libuv's thread pool, and one
  // after another they added up to the chunk's read time (a wake-up each, issue 13).
  const [states, known, initiations, holds, reversals, namedPostings] = await Promise.all([
    store.states(commands.map((c) => c.accountId)),
    store.outcomes(commands.map((c) => c.commandId)),
    store.initiations(commands.flatMap((c) => (transferStep(c.payload) ? [c.payload.transferId] : []))),
    store.holds(commands.flatMap((c) => (holdStep(c.payload) ? [c.payload.holdId] : []))),
    store.reversals(commands.flatMap((c) => (reversalStep(c.payload) ? [c.payload.reversalId] : []))),
    store.postings(named),
  ]);
  // Then a reversal's landing reads the transfer its record names (known only from that record).
  const asked = new Set(named);
  const landed = [...reversals.values()].flatMap((r) => (r.reversedCommandId == null || asked.has(r.reversedCommandId) ? [] : [r.reversedCommandId]));
  const landedPostings = await store.postings(landed);
  return {
    state: (id: string) => states.get(id),
    outcome: (id: string) => known.get(id),
    initiation: (id: string) => initiations.get(id),
    hold: (id: string) => holds.get(id),
    posting: (id: string) => namedPostings.get(id) ?? landedPostings.get(id),
    reversal: (id: string) => reversals.get(id),
  };
}
