// The checker's report as text for people: totals first, then the count per kind, then every
// listed violation with its kind.
import type { LedgerReport, LedgerTotals } from './check.ts';

const n = (value: number): string => value.toLocaleString('en-US');

export function formatTotals(t: LedgerTotals, indent = ''): string[] {
  return [
    `accounts     ${n(t.accounts)}${t.brokenAccounts > 0 ? ` (${n(t.brokenAccounts)} with a broken history)` : ''}`,
    `events       ${n(t.events)}`,
    `commands     ${n(t.commands)} (${n(t.pendingCommands)} not processed yet, ${n(t.undecodableCommands)} undecodable, ${n(t.deadLetters)} dead-lettered)`,
    `outcomes     ${n(t.outcomes)} records`,
    `transfers    ${n(t.transfers.debited)} debited: ${n(t.transfers.credited)} credited (${n(t.transfers.settled)} settled at the source), ${n(t.transfers.refunded)} refunded, ${n(t.transfers.pending)} in flight`,
    `holds        ${n(t.holds.placed)} placed: ${n(t.holds.captured)} captured, ${n(t.holds.voided)} voided, ${n(t.holds.expired)} expired, ${n(t.holds.active)} active holding ${n(t.holds.held)} (inside the balances)`,
    `reversals    ${n(t.reversals.postings)} of deposits, withdrawals and captures; ${n(t.reversals.transfers)} of transfers (${n(t.reversals.transfersFailed)} refused by the destination)`,
    `money        opened ${n(t.openedInitial)} + deposits ${n(t.deposited)} − withdrawals ${n(t.withdrawn)} = ${n(t.openedInitial + t.deposited - t.withdrawn)}`,
    `             balances ${n(t.balances)} + in flight ${n(t.inFlight)} = ${n(t.balances + t.inFlight)}`,
  ].map((line) => indent + line);
}

export function formatViolations(report: Pick<LedgerReport, 'violations' | 'violationDetails' | 'violationKinds' | 'violationCount'>, indent = ''): string[] {
  if (report.violationCount === 0) return [`${indent}OK: every invariant holds`];
  const kinds = Object.entries(report.violationKinds).map(([kind, count]) => `${kind} ${n(count ?? 0)}`);
  const lines = [`${indent}VIOLATIONS: ${n(report.violationCount)}`, `${indent}  by kind: ${kinds.join(', ')}`, ...report.violationDetails.map((v) => `${indent}  - [${v.kind}] ${v.message}`)];
  const unlisted = report.violationCount - report.violations.length;
  if (unlisted > 0) lines.push(`${indent}  … and ${n(unlisted)} more`);
  return lines;
}
