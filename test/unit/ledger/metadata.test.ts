// The auditor compares metadata too (DESIGN §10): an event carries exactly the metadata of the
// command that caused it, a transfer's credit and refund legs their initiation's. A processor that
// drops or changes it writes a self-consistent ledger that only the commands contradict.
import { describe, expect, it } from 'vitest';
import { checkLedger } from '../../../scripts/ledger/check.ts';
import type { LedgerSnapshot } from '../../../scripts/ledger/read.ts';
import { creditCommandId, refundCommandId } from '../../../schemas/ids.ts';
import type { Command, Metadata } from '../../../schemas/types.ts';
import { deposit, ledgerOf, open, transfer } from './given.ts';

const A = 'account-a';
const B = 'account-b';
const missing = 'account-missing';
const tags: Metadata = { invoice: 'INV-7', 'crm.id': 'c-42' };
const tagged = (command: Command, metadata: Metadata = tags): Command => ({ ...command, metadata });

const processedAll = (snapshot: LedgerSnapshot) => {
  const ends = new Map<number, bigint>();
  for (const c of snapshot.commands) ends.set(c.partition, (ends.get(c.partition) ?? 0n) > BigInt(c.offset) ? (ends.get(c.partition) as bigint) : BigInt(c.offset) + 1n);
  return ends;
};

describe('metadata in the audit', () => {
  const openA = tagged(open(A, 1000), { segment: 'retail' });
  const paid = tagged(deposit(A, 50));
  const pay = tagged(transfer(A, B, 100, 'transfer-paid'));
  const bounce = tagged(transfer(A, missing, 40, 'transfer-bounced'), { note: 'to nobody' });
  const ledger = () => ledgerOf([openA, open(B, 0), paid, pay, bounce]);
  // A's events: 1 opened, 2 deposited, 3 debit of pay, 4 debit of bounce (then the settlement and the refund).
  const creditOfPay = creditCommandId(`${A}:3`);
  const refundOfBounce = refundCommandId(creditCommandId(`${A}:4`));

  it('passes a ledger whose events carry their commands\' metadata, the legs of a transfer its initiation\'s', () => {
    const snapshot = ledger();
    expect(checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true }).violations).toEqual([]);
    const metadataOf = (commandId: string) => snapshot.events.find((e) => e.value.commandId === commandId)?.value.metadata;
    expect(metadataOf(creditOfPay)).toEqual(tags);
    expect(metadataOf(refundOfBounce)).toEqual({ note: 'to nobody' });
  });

  it.each([
    ['a deposit whose event lost its metadata', paid.commandId, {}],
    ['a deposit whose event has other metadata', paid.commandId, { invoice: 'INV-8', 'crm.id': 'c-42' }],
    ["a transfer's credit without its initiation's metadata", creditOfPay, {}],
    ["a transfer's refund with other metadata", refundOfBounce, { note: 'elsewhere' }],
  ])('fails %s', (_name, commandId, metadata) => {
    const snapshot = ledger();
    const event = snapshot.events.find((e) => e.value.commandId === commandId);
    if (event === undefined) throw new Error(`no event of ${commandId}`);
    event.value = { ...event.value, metadata };
    const report = checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true });
    expect(Object.keys(report.violationKinds ?? {})).toEqual(['event-command-mismatch']);
    expect(report.violations).toEqual([expect.stringMatching(new RegExp(`^event ${event.value.eventId} \\(\\w+\\) is not what command ${commandId} \\(\\w+\\) asked: metadata `))]);
  });

  it('reads metadata in any key order as the same', () => {
    const snapshot = ledger();
    const event = snapshot.events.find((e) => e.value.commandId === paid.commandId)!;
    event.value = { ...event.value, metadata: { 'crm.id': 'c-42', invoice: 'INV-7' } };
    expect(checkLedger(snapshot, { processedOffsets: processedAll(snapshot), settled: true }).violations).toEqual([]);
  });
});
