// The campaign's report: per run and in total, commands sent and what clients were told, the
// faults, the ledger's totals, and every violation.
import { formatTotals } from '../ledger/report.ts';
import { noFaults, type FaultCounts } from './faults.ts';
import type { RunReport } from './run.ts';

export interface CampaignTotals {
  runs: number;
  failedRuns: number;
  requests: number;
  attempts: number;
  finalStatus: Record<string, number>;
  /** Faults injected, by kind, over every run. */
  faults: FaultCounts;
  violationCount: number;
  operationalErrors: number;
}

function addFaults(into: FaultCounts, from: FaultCounts): void {
  for (const key of ['kill', 'stop', 'brokerRestart', 'instanceAdded', 'instanceRemoved', 'skipped'] as const) into[key] += from[key];
  for (const key of ['crashPointArmed', 'crashPointReached'] as const) for (const [point, n] of Object.entries(from[key])) into[key][point] = (into[key][point] ?? 0) + n;
}

export function campaignTotals(runs: RunReport[]): CampaignTotals {
  const totals: CampaignTotals = { runs: runs.length, failedRuns: 0, requests: 0, attempts: 0, finalStatus: {}, faults: noFaults(), violationCount: 0, operationalErrors: 0 };
  for (const run of runs) {
    totals.failedRuns += run.violationCount > 0 || run.operationalError !== undefined ? 1 : 0;
    totals.requests += run.client.requests;
    totals.attempts += run.client.attempts;
    for (const [status, count] of Object.entries(run.client.finalStatus)) totals.finalStatus[status] = (totals.finalStatus[status] ?? 0) + count;
    addFaults(totals.faults, run.faults);
    totals.violationCount += run.violationCount;
    totals.operationalErrors += run.operationalError === undefined ? 0 : 1;
  }
  return totals;
}

const statuses = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${count}`)
    .join(', ') || 'none';

/** Faults by kind: a crash point counts when the process died there, out of the restarts armed with it. */
export function formatFaults(f: FaultCounts): string {
  const points = Object.keys({ ...f.crashPointArmed, ...f.crashPointReached }).sort();
  const crash = points.map((p) => `${p} ${f.crashPointReached[p] ?? 0}/${f.crashPointArmed[p] ?? 0}`).join(', ') || 'none';
  return `kill ${f.kill}, stop ${f.stop}, crash point (died/armed) ${crash}, broker restart ${f.brokerRestart}, instance added ${f.instanceAdded}, removed ${f.instanceRemoved}; skipped (target not running) ${f.skipped}`;
}

export function formatRun(run: RunReport, brokerNote: string | undefined): string[] {
  const verdict = run.operationalError !== undefined ? 'FAILED TO RUN' : run.violationCount > 0 ? `FAILED: ${run.violationCount} violation(s)` : 'OK';
  const lines = [
    `run ${run.run} (seed ${run.seed}, prefix ${run.prefix}): ${verdict}`,
    `  requests     ${run.client.requests} (${run.client.attempts} HTTP attempts, ${run.client.retried} retried, ${run.client.pendingAnswers} answered 202 on the way)`,
    `  final answer ${statuses(run.client.finalStatus)}`,
    `  faults       ${formatFaults(run.faults)}${Object.keys(run.supervisorGaveUp).length > 0 ? `; supervisor gave up and was restarted: ${JSON.stringify(run.supervisorGaveUp)}` : ''}`,
    `  broker       ${brokerNote ?? `${run.faults.brokerRestart} restart(s), down ${run.brokerDownMs.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ') || '-'}`}`,
    `  timing       load ${(run.loadMs / 1000).toFixed(1)} s, settle + check ${(run.settleMs / 1000).toFixed(1)} s${run.quiet ? '' : ' (NOT quiet)'}; ${run.pendingResolved} request(s) left at 202 looked up (${(run.pendingResolveMs / 1000).toFixed(1)} s); ${run.queryAccountsChecked} accounts compared with the query views`,
  ];
  if (run.ledger !== undefined) lines.push('  ledger', ...formatTotals(run.ledger, '    '));
  if (run.operationalError !== undefined) lines.push(`  operational failure: ${run.operationalError}`);
  if (run.violations.length > 0) lines.push('  violations:', ...run.violations.map((v) => `    - ${v}`));
  if (run.violationCount > run.violations.length) lines.push(`    … and ${run.violationCount - run.violations.length} more`);
  if (run.keptDataDir !== undefined) lines.push(`  kept for inspection: topics ${run.prefix}*, logs and stores in ${run.keptDataDir}`);
  return lines;
}

export function formatTotalsLine(totals: CampaignTotals): string[] {
  return [
    `campaign: ${totals.runs} run(s), ${totals.failedRuns} failed`,
    `  requests ${totals.requests} (${totals.attempts} attempts); final answers ${statuses(totals.finalStatus)}`,
    `  faults ${formatFaults(totals.faults)}`,
    `  violations ${totals.violationCount}; operational failures ${totals.operationalErrors}`,
  ];
}
