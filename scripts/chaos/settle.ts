// After the load: wait (bounded) until the ledger is quiet — every command answered, no transfer
// in flight, nothing arriving — then ask the gateway about the requests left at 202, and check
// that the query processor, killed along the way, serves every account as the ledger folds it.
import type { AccountState } from '../../schemas/types.ts';
import type { AuditResult } from '../ledger/audit.ts';
import { finalAttempt, getJson, type RequestRecord } from './client.ts';

/** Settling gives up after this; the final (settled) check then reports whatever is still open. */
export const settleTimeoutMs = 180_000;
const settlePollMs = 1000;
/**
 * Asking the gateway about a 202 gives up after this. A gateway restarted late in the run may
 * answer 404 ("not known yet") until its outcome consumer has rejoined its group, which waits for
 * the killed instance's session to expire; a careful client keeps polling the Location meanwhile.
 */
const resolveTimeoutMs = 90_000;
/** The query views must have caught up with every checked account within this. */
const queryCatchUpTimeoutMs = 90_000;
/** Accounts compared with the query views per run (all of them in a normal run). */
export const queryAccountsCheckedMax = 500;
const retryPauseMs = 500;

export const pause = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitForQuiet(audit: () => Promise<AuditResult>, say: (line: string) => void): Promise<{ quiet: boolean; waitedMs: number }> {
  const startedMs = Date.now();
  for (;;) {
    let why: string;
    try {
      const { report, arrivedDuringRead } = await audit();
      const { pendingCommands, transfers } = report.totals;
      if (pendingCommands === 0 && transfers.pending === 0 && arrivedDuringRead === 0) return { quiet: true, waitedMs: Date.now() - startedMs };
      why = `${pendingCommands} commands unanswered, ${transfers.pending} transfers in flight, ${arrivedDuringRead} records arrived`;
    } catch (error) {
      why = `reading the ledger failed: ${(error as Error).message}`;
    }
    if (Date.now() - startedMs > settleTimeoutMs) {
      say(`not quiet after ${settleTimeoutMs} ms (${why}); checking anyway`);
      return { quiet: false, waitedMs: Date.now() - startedMs };
    }
    say(`settling: ${why}`);
    await pause(settlePollMs);
  }
}

/** GET /api/v1/commands/:id for every request the client left at 202; 404, 503 and no answer are retried. */
export async function resolvePending(records: RequestRecord[], gatewayUrl: string): Promise<{ looked: number; waitedMs: number }> {
  const pending = records.filter((r) => finalAttempt(r)?.status === 202);
  const startedMs = Date.now();
  const deadline = startedMs + resolveTimeoutMs;
  for (const record of pending) {
    for (;;) {
      const answer = await getJson(`${gatewayUrl}/api/v1/commands/${record.commandId}`);
      record.resolution = answer;
      if (answer.status === 200 || (answer.status !== 0 && answer.status !== 404 && answer.status < 500) || Date.now() > deadline) break;
      await pause(retryPauseMs);
    }
  }
  return { looked: pending.length, waitedMs: Date.now() - startedMs };
}

/** Each account's balance and version from the query processor (read-your-writes with ?minVersion) against the fold. */
/**
 * `ahead`: accounts whose view is at a later version than the audit read. Not a fault by itself:
 * hold expiry is time-driven, so the processor may write after the ledger was audited as quiet.
 */
export async function checkQueryViews(balances: Map<string, AccountState>, queryUrl: string): Promise<{ checked: number; violations: string[]; ahead: number }> {
  const violations: string[] = [];
  let ahead = 0;
  const accounts = [...balances.values()].slice(0, queryAccountsCheckedMax);
  const deadline = Date.now() + queryCatchUpTimeoutMs;
  for (const state of accounts) {
    for (;;) {
      const answer = await getJson(`${queryUrl}/api/v1/accounts/${state.accountId}/balance?minVersion=${state.version}`);
      const body = answer.body ?? {};
      if (answer.status === 200) {
        if (typeof body.version === 'number' && body.version > state.version) ahead += 1;
        if (body.balance !== state.balance || body.version !== state.version) violations.push(`query view of account ${state.accountId}: balance ${String(body.balance)} v${String(body.version)}, the ledger folds to ${state.balance} v${state.version}`);
        break;
      }
      // 503 VIEW_LAGGING, or no answer while it restarts: retried within the bound.
      if ((answer.status !== 0 && answer.status !== 503) || Date.now() > deadline) {
        violations.push(`query view of account ${state.accountId} (v${state.version}): ${answer.status || answer.error} ${JSON.stringify(body)}`);
        break;
      }
      await pause(retryPauseMs);
    }
  }
  return { checked: accounts.length, violations, ahead };
}
