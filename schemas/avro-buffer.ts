// Avro bodies written behind a fixed-size header, with one exact-size allocation per value.
// avsc's toBuffer writes into its own scratch space, then copies into a new zero-filled buffer
// that never comes from Node's pool (its own ArrayBuffer and malloc), and our callers then copied
// that again behind their header: three writes and two allocations per record, on every record
// the processor produces or stores. Here the body goes into a scratch buffer behind the header's
// room and is copied once into a pooled buffer; the caller writes the header in place.
import type avro from 'avsc';

/** The scratch buffer's starting size; it grows to the largest value written and stays that size (one per process). */
const scratchBytesInitial = 64 * 1024;
let scratch = Buffer.allocUnsafe(scratchBytesInitial);

/**
 * The value's Avro body behind `headerBytes` bytes the caller must fill in (they are not zeroed).
 * The bytes from `headerBytes` on are exactly `type.toBuffer(value)`'s.
 *
 * Not reentrant: the scratch buffer is shared, so nothing avsc runs while it encodes may call
 * this again. Today it runs no code of ours (the ledger's schemas register no logical types, and
 * mappings' `toAvro` runs before the call); a logical type or a getter that encodes would.
 */
export function encodeBehindHeader(type: avro.Type, value: unknown, headerBytes: number): Buffer {
  let end = type.encode(value, scratch, headerBytes);
  if (end < 0) {
    // avsc reports how many bytes were missing: grow once to fit, keeping at least double.
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = type.encode(value, scratch, headerBytes);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, headerBytes, headerBytes, end);
  return out;
}
