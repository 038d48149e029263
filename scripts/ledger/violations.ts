// Collects the violations the ledger checks find: the first ones in full, the rest only counted,
// so a badly broken ledger still gives a report of readable size. Each has a kind, counted in
// full, so a script can tell a stranded transfer from a forged event without parsing messages.

/** Violations listed in full; beyond this only counted. */
export const violationsListedMax = 200;

export const violationKinds = {
  history: 'an account’s events: key, partition, sequence, fork, or a fold (evolve) that fails',
  changelog: 'the account-state changelog disagrees with the fold',
  outcome: 'an outcome disagrees with the events, or two outcomes of one command differ',
  'outcome-without-command': 'an outcome of a command that is not on the commands topic (and cannot have been trimmed)',
  'event-without-command': 'an event whose command is not on the commands topic (and cannot have been trimmed)',
  'event-command-mismatch': 'an event that is not what its command asked: type, account, amount, transfer or counterparty',
  'unanswered-command': 'a command with no outcome (or DLQ record) though the processor committed past it, in a settled ledger, or older than --stuck-after',
  'dead-letter': 'a valid command in the dead-letter topic',
  transfer: 'a transfer’s legs disagree, repeat, or its saga command is missing',
  'stuck-transfer': 'a transfer in flight (debited, neither credited nor refunded) longer than --stuck-after, or at all in a settled ledger',
  hold: 'a hold placed twice, closed twice or for another amount, touched on another account, or heldBalance ≠ the sum of active holds',
  'stuck-hold': 'a hold still active longer than --stuck-after past its expiresAt (the processor expires one within 60 s)',
  overdraft: 'a debit that left the balance below −overdraftLimit',
  reversal: 'a reversal that reverses no posting of its account, the wrong amount or direction, or one posting twice',
  'stuck-reversal': 'a transfer reversal unfinished (asked, or debited and not credited back) longer than --stuck-after, or at all in a settled ledger',
  money: 'balances + in flight ≠ opened + deposits − withdrawals',
  'empty-ledger': 'no record on any topic: a wrong BANK_TOPIC_PREFIX, or nothing was ever sent',
  'nothing-processed': 'commands, but not one outcome, event or dead letter: no processor ever ran on this ledger',
  'wrong-app-id': 'outcomes exist but the processor group <APP_ID>.account has committed nothing: a wrong APP_ID',
} as const;

export type ViolationKind = keyof typeof violationKinds;

export interface Violation {
  kind: ViolationKind;
  message: string;
}

export class Violations {
  /** The first violations, in full. */
  readonly details: Violation[] = [];
  /** Every violation, counted by kind. */
  readonly byKind: Partial<Record<ViolationKind, number>> = {};
  count = 0;

  add(kind: ViolationKind, message: string): void {
    this.count += 1;
    this.byKind[kind] = (this.byKind[kind] ?? 0) + 1;
    if (this.details.length < violationsListedMax) this.details.push({ kind, message });
  }

  get listed(): string[] {
    return this.details.map((v) => v.message);
  }
}
