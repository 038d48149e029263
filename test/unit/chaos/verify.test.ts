// The campaign's comparison of what clients were told with what the ledger holds, on ledgers
// made by the processor's pure core: true answers pass, and each kind of lie is reported.
import { describe, expect, it } from 'vitest';
import { accountIdForKey, commandIdForKey, reversalIdForCommand, transferIdForCommand } from '../../../schemas/ids.ts';
import type { CommandPayload } from '../../../schemas/types.ts';
import type { Attempt, Operation, RequestRecord } from '../../../scripts/chaos/client.ts';
import { clientStats, compareWithClients } from '../../../scripts/chaos/verify.ts';
import { command, ledgerOf } from '../ledger/given.ts';

const A = accountIdForKey('bootstrap', 'open-a');
const B = accountIdForKey('bootstrap', 'open-b');
const missing = accountIdForKey('bootstrap', 'never-opened');

/** A request the gateway would make of this key, and the command it becomes. */
function request(op: Operation, key: string, accountId: string, body: Record<string, unknown> | undefined, payload?: CommandPayload) {
  const commandId = commandIdForKey('bootstrap', accountId, key);
  const transferId = op === 'transfer' ? transferIdForCommand(commandId) : undefined;
  const record: RequestRecord = { op, key, path: '/', body, accountId, commandId, ...(transferId ? { transferId } : {}), attempts: [] };
  const resolvedPayload = payload?.type === 'InitiateTransfer' ? { ...payload, transferId: transferId ?? '' } : payload;
  return { record, command: resolvedPayload === undefined ? undefined : command(accountId, resolvedPayload, commandId) };
}

const answered = (record: RequestRecord, ...attempts: Array<[number, Record<string, unknown>?]>): RequestRecord => ({
  ...record,
  attempts: attempts.map(([status, body]): Attempt => ({ status, body, atMs: 0 })),
});

const openA = request('open', 'open-a', A, { ownerName: 'Ada', currency: 'EUR', initialBalance: 1000 }, { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 1000, overdraftLimit: 0 });
const openB = request('open', 'open-b', B, { ownerName: 'Bo', currency: 'USD', initialBalance: 0 }, { type: 'OpenAccount', ownerName: 'Bo', currency: 'USD', initialBalance: 0, overdraftLimit: 0 });
const depositA = request('deposit', 'deposit-a', A, { amount: 250 }, { type: 'Deposit', amount: 250, reference: null });
const overdraw = request('withdraw', 'overdraw-b', B, { amount: 5 }, { type: 'Withdraw', amount: 5, reference: null });
const toMissing = request('transfer', 'to-missing', A, { fromAccountId: A, toAccountId: missing, amount: 100 }, { type: 'InitiateTransfer', transferId: '', toAccountId: missing, amount: 100, reference: null });
const invalid = request('invalid', 'invalid-a', A, { amount: 0 });
const snapshot = ledgerOf([openA, openB, depositA, overdraw, toMissing].flatMap((r) => (r.command ? [r.command] : [])));

const truthful = [
  answered(openA.record, [201, { accountId: A, balance: 1000, version: 1, commandId: openA.record.commandId }]),
  answered(depositA.record, [0], [503], [202, { commandId: depositA.record.commandId }], [200, { accountId: A, balance: 1250, version: 2, commandId: depositA.record.commandId }]),
  answered(overdraw.record, [422, { code: 'INSUFFICIENT_FUNDS', commandId: overdraw.record.commandId }]),
  answered(toMissing.record, [404, { code: 'ACCOUNT_NOT_FOUND', status: 'failed', transferId: toMissing.record.transferId, commandId: toMissing.record.commandId }]),
  answered(invalid.record, [400, { code: 'VALIDATION_FAILED' }]),
];

describe('comparing answers with the ledger', () => {
  it('finds nothing when every answer is true', () => {
    expect(compareWithClients(truthful, snapshot)).toEqual([]);
    expect(clientStats(truthful)).toMatchObject({ requests: 5, attempts: 8, retried: 1, pendingAnswers: 1, finalStatus: { '200': 1, '201': 1, '400': 1, '404': 1, '422': 1 } });
  });

  it('reports a 200 whose balance or version the ledger does not have', () => {
    const lie = answered(depositA.record, [200, { accountId: A, balance: 1300, version: 2, commandId: depositA.record.commandId }]);
    const violations = compareWithClients([lie], snapshot);
    expect(violations).toContainEqual(expect.stringMatching(/^deposit deposit-a .* answered 200: not exactly one MoneyDeposited of 250 at version 2 leaving 1300/));
    expect(violations).toContainEqual(expect.stringMatching(/answered 200: the outcome says v2 balance 1250/));
  });

  it('reports a 200 for a command the ledger never accepted', () => {
    const ghost = request('deposit', 'ghost', A, { amount: 1 });
    expect(compareWithClients([answered(ghost.record, [200, { balance: 1251, version: 3 }])], snapshot)).toEqual([expect.stringMatching(/answered 200: the ledger has no outcome$/)]);
  });

  it('reports a 4xx that left a trace, or whose code is not the outcome’s', () => {
    const wrongCode = answered(overdraw.record, [409, { code: 'ACCOUNT_CLOSED' }]);
    const traced = answered(depositA.record, [404, { code: 'ACCOUNT_NOT_FOUND' }]);
    const violations = compareWithClients([wrongCode, traced], snapshot);
    expect(violations).toContainEqual(expect.stringMatching(/refused ACCOUNT_CLOSED, but the ledger's outcome is REJECTED INSUFFICIENT_FUNDS/));
    expect(violations).toContainEqual(expect.stringMatching(/a refused command left events: MoneyDeposited@2/));
  });

  it('reports a failed transfer that was not refunded as the answer says', () => {
    const wrong = answered(toMissing.record, [409, { code: 'ACCOUNT_CLOSED', status: 'failed', transferId: toMissing.record.transferId }]);
    expect(compareWithClients([wrong], snapshot)).toEqual([expect.stringMatching(/failed with ACCOUNT_CLOSED, but the transfer's record says failed ACCOUNT_NOT_FOUND/)]);
  });

  it('reports a 202 that never resolved, and one the gateway reports differently', () => {
    const ghost = request('deposit', 'ghost', A, { amount: 1 });
    const unresolved = answered(ghost.record, [202, {}]);
    const misreported = { ...answered(depositA.record, [202, {}]), resolution: { status: 404, body: { code: 'COMMAND_NOT_FOUND' }, atMs: 0 } };
    const resolved = { ...answered(depositA.record, [202, {}]), resolution: { status: 200, body: { status: 'ACCEPTED', version: 2 }, atMs: 0 } };
    const violations = compareWithClients([unresolved, misreported, resolved], snapshot);
    expect(violations).toHaveLength(2);
    expect(violations[0]).toMatch(/gave up on a 202, and the command never got an outcome/);
    expect(violations[1]).toMatch(/GET \/api\/v1\/commands\/.* answered 404/);
  });

  it("takes a 202 resolved to any record of the command, as a reversal's record changes when it lands", () => {
    // A transfer reversal its destination cannot pay: the reversal's record is re-emitted with the
    // source's version after the failure, and a GET after a 202 answers whichever record is latest.
    const A2 = accountIdForKey('bootstrap', 'open-a2');
    const B2 = accountIdForKey('bootstrap', 'open-b2');
    const openA2 = request('open', 'open-a2', A2, {}, { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 1000, overdraftLimit: 0 });
    const openB2 = request('open', 'open-b2', B2, {}, { type: 'OpenAccount', ownerName: 'Bo', currency: 'EUR', initialBalance: 0, overdraftLimit: 0 });
    const sent = request('transfer', 'sent', A2, {}, { type: 'InitiateTransfer', transferId: '', toAccountId: B2, amount: 300, reference: null });
    const spent = request('withdraw', 'spent', B2, {}, { type: 'Withdraw', amount: 300, reference: null });
    const reversalCommandId = commandIdForKey('bootstrap', A2, 'reverse-sent');
    const reverse = request('reverse', 'reverse-sent', A2, {}, { type: 'ReverseTransaction', reversalId: reversalIdForCommand(reversalCommandId), reversedCommandId: sent.record.commandId, reason: null });
    const ledger = ledgerOf([openA2, openB2, sent, spent, reverse].flatMap((r) => (r.command ? [r.command] : [])), { followUpsFirst: true });
    const records = ledger.outcomes.filter((l) => l.key === reversalCommandId).map((l) => l.value);
    expect(records.map((r) => r.reversalStatus)).toEqual(['pending', 'failed']);
    expect(records[1]?.version).not.toBe(records[0]?.version);
    const resolvedTo = (version: number | undefined) => ({ ...answered(reverse.record, [202, {}]), resolution: { status: 200, body: { status: 'ACCEPTED', version }, atMs: 0 } });
    expect(compareWithClients([resolvedTo(records[0]?.version), resolvedTo(records[1]?.version)], ledger)).toEqual([]);
    expect(compareWithClients([resolvedTo(99)], ledger)).toEqual([expect.stringMatching(/GET \/api\/v1\/commands\/.* answered 200 .*, the outcomes topic has ACCEPTED v\d+/)]);
  });

  it('reports an invalid request that was accepted, and a valid one refused as invalid', () => {
    const accepted = answered(invalid.record, [200, { balance: 1250, version: 2 }]);
    const refused = answered(depositA.record, [400, { code: 'VALIDATION_FAILED' }]);
    const violations = compareWithClients([accepted, refused], snapshot);
    expect(violations).toContainEqual(expect.stringMatching(/answered 200: the ledger has no outcome/));
    expect(violations).toContainEqual(expect.stringMatching(/deposit deposit-a .* answered 400: unexpected/));
  });
});
