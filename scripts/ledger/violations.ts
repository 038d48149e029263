// Collects the violations the ledger checks find: the first ones in full, the rest only counted,
// so a badly broken ledger still gives a report of readable size.

/** Violations listed in full; beyond this only counted. */
export const violationsListedMax = 200;

export class Violations {
  readonly listed: string[] = [];
  count = 0;

  add(message: string): void {
    this.count += 1;
    if (this.listed.length < violationsListedMax) this.listed.push(message);
  }
}
