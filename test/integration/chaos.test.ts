// A short fault campaign as a child process, `npm run chaos -- --runs 1 --duration 20 --seed 21
// --kills 1 --rebalances 1 --json`: seed 21's schedule starts two processor instances, restarts
// one armed with the crash point after-offsets:1 (it dies between sending its offsets and
// committing), freezes every service once (SIGSTOP, SIGCONT seconds later), SIGKILLs each once
// and adds a third processor instance, all under HTTP load. The ledger and every answer the
// clients got must hold up; the schedule the run printed must be the one `--plan` draws from the
// same seed, so a failing seed replays.
//
// No broker restart here: other test files run at the same time against the same broker, and
// restarting it would fail them. The campaign is given the test stack through KAFKA_BROKERS,
// which makes it skip broker restarts by itself (a broker named that way is not ours to restart)
// and say so; `npm run chaos` on the embedded stack restarts it.
import type { FaultCounts } from '../../scripts/chaos/faults.ts';
import { expect, inject, it } from 'vitest';
import { runScript } from '../support/cli.ts';

/** 20 s of load, up to 45 s of retries after a gateway restart, then settling and checking (about 60 s on a quiet host). */
const campaignTimeoutMs = 270_000;
const campaign = ['--runs', '1', '--duration', '20', '--seed', '21', '--kills', '1', '--stops', '1', '--crash-points', '1', '--rebalances', '1'];


interface CampaignReport {
  ok: boolean;
  brokerNote: string | null;
  totals: { runs: number; failedRuns: number; requests: number; violationCount: number; operationalErrors: number; faults: FaultCounts; finalStatus: Record<string, number> };
  runs: Array<{ schedule: string[]; violations: string[]; operationalError?: string; ledger?: { accounts: number; pendingCommands: number; inFlight: number }; queryAccountsChecked: number }>;
}

function runCampaign(args: string[]) {
  return runScript('scripts/chaos.ts', args, { KAFKA_BROKERS: inject('kafkaBrokers'), SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl') }, campaignTimeoutMs);
}

it('survives a crash point, freezes, SIGKILLs and a rebalance among processor instances with nothing lost, doubled or misreported', async () => {
  const planned = await runCampaign([...campaign, '--plan', '--json']);
  expect(planned.code, planned.stderr).toBe(0);
  const [plan] = (JSON.parse(planned.stdout) as { plans: Array<{ schedule: string[] }> }).plans;
  // The premises: what this seed's schedule holds.
  expect(plan?.schedule[0]).toBe('processors at start: processor-1, processor-2');
  expect(plan?.schedule).toContainEqual(expect.stringMatching(/restart processor-\d armed with LEDGER_CRASH_POINT=after-offsets:1$/));
  expect(plan?.schedule).toContainEqual(expect.stringMatching(/start processor-3 \(rebalance\)/));
  expect(plan?.schedule.filter((l) => /SIGSTOP/.test(l))).toHaveLength(3);

  const { code, stdout, stderr } = await runCampaign([...campaign, '--json']);
  const report = JSON.parse(stdout) as CampaignReport;
  const run = report.runs[0];
  expect(run?.operationalError, stderr).toBeUndefined();
  expect(run?.violations).toEqual([]);
  expect(code).toBe(0);
  expect(report.ok).toBe(true);
  expect(run?.schedule).toEqual(plan?.schedule);
  expect(report.brokerNote).toMatch(/KAFKA_BROKERS/);
  const faults = report.totals.faults;
  expect(report.totals).toMatchObject({ runs: 1, failedRuns: 0, violationCount: 0, operationalErrors: 0 });
  // The restart was armed; whether the armed instance reaches its point within the run depends on
  // when the rebalance hands it a partition with commands (the 100-run campaign reached 35 % of its
  // armed points; a full CI run on a busy box missed this one). Each point is driven every time by
  // crash-points.test.ts; here it is at most once, and when reached the ledger above is intact.
  expect(faults).toMatchObject({ crashPointArmed: { 'after-offsets': 1 }, instanceAdded: 1, instanceRemoved: 0, brokerRestart: 0 });
  expect(faults.crashPointReached['after-offsets'] ?? 0).toBeLessThanOrEqual(1);
  // Every kill and freeze carried out, or skipped (and counted) when its target was restarting.
  expect(faults.kill + faults.stop + faults.skipped).toBe(6);
  expect(faults.stop).toBeGreaterThanOrEqual(1);
  expect(report.totals.requests).toBeGreaterThan(50);
  expect((report.totals.finalStatus['200'] ?? 0) + (report.totals.finalStatus['201'] ?? 0)).toBeGreaterThan(20);
  expect(run?.ledger).toMatchObject({ pendingCommands: 0, inFlight: 0 });
  expect(run?.queryAccountsChecked).toBe(run?.ledger?.accounts);
}, campaignTimeoutMs + 60_000);
