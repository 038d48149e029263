// A short fault campaign, `npm run chaos -- --runs 1 --duration 20 --json`, as a child process:
// the processor, the gateway and the query processor are each SIGKILLed twice under HTTP load,
// and the ledger and every answer the clients got must hold up.
//
// No broker restart here: other test files run at the same time against the same broker, and
// restarting it would fail them. The campaign is given the test stack through KAFKA_BROKERS,
// which makes it skip broker restarts by itself (a broker named that way is not ours to restart)
// and say so; `npm run chaos` on the embedded stack restarts it.
import { expect, inject, it } from 'vitest';
import { runScript } from '../support/cli.ts';

/** 20 s of load, up to 45 s of retries after a gateway restart, then settling and checking. */
const campaignTimeoutMs = 270_000;

interface CampaignReport {
  ok: boolean;
  brokerNote: string | null;
  totals: { runs: number; failedRuns: number; requests: number; violationCount: number; operationalErrors: number; brokerRestarts: number; kills: Record<string, number>; finalStatus: Record<string, number> };
  runs: Array<{ violations: string[]; operationalError?: string; ledger?: { accounts: number; pendingCommands: number; inFlight: number }; queryAccountsChecked: number }>;
}

function runCampaign(args: string[]) {
  return runScript('scripts/chaos.ts', args, { KAFKA_BROKERS: inject('kafkaBrokers'), SCHEMA_REGISTRY_URL: inject('schemaRegistryUrl') }, campaignTimeoutMs);
}

it('survives SIGKILLs of the processor, the gateway and the query processor with nothing lost, doubled or misreported', async () => {
  const { code, stdout, stderr } = await runCampaign(['--runs', '1', '--duration', '20', '--seed', '4242', '--kills', '2', '--json']);
  const report = JSON.parse(stdout) as CampaignReport;
  const run = report.runs[0];
  expect(run?.operationalError, stderr).toBeUndefined();
  expect(run?.violations).toEqual([]);
  expect(code).toBe(0);
  expect(report.ok).toBe(true);
  expect(report.brokerNote).toMatch(/KAFKA_BROKERS/);
  expect(report.totals).toMatchObject({ runs: 1, failedRuns: 0, violationCount: 0, operationalErrors: 0, brokerRestarts: 0, kills: { processor: 2, gateway: 2, query: 2 } });
  expect(report.totals.requests).toBeGreaterThan(50);
  expect((report.totals.finalStatus['200'] ?? 0) + (report.totals.finalStatus['201'] ?? 0)).toBeGreaterThan(20);
  expect(run?.ledger).toMatchObject({ pendingCommands: 0, inFlight: 0 });
  expect(run?.queryAccountsChecked).toBe(run?.ledger?.accounts);
}, campaignTimeoutMs + 30_000);
