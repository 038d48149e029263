// POST /accounts/:id/reversals: an account-level reversal answers from its one outcome; a
// transfer reversal waits for the destination's debit (failed: its code, status "failed") and
// the source's credit (completed, with the balance and version after it), within one timeout.
import { describe, expect, it } from 'vitest';
import { commandIdForKey, reversalCreditCommandId, reversalDebitCommandId, reversalIdForCommand } from '../../../schemas/ids.ts';
import type { Command, CommandOutcome } from '../../../schemas/types.ts';
import { accountA, accountB, harness, json, outcomeFor, rejectedFor, type Harness } from './harness.ts';

const url = `/api/v1/accounts/${accountA}/reversals`;
const reversed = '0d9c8b7a-6f5e-4d3c-8b2a-1f0e9d8c7b6a';
const commandId = commandIdForKey('bootstrap', accountA, 'r-1');
const reversalId = reversalIdForCommand(commandId);
const post = (gateway: Harness, body: object = { commandId: reversed, reason: 'duplicate' }) => gateway.request(json(url, body, { 'idempotency-key': 'r-1' }));

/** The reversal's outcome at the source: its request event is sequence 4 of accountA. */
function requested(command: Command, fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return outcomeFor(command, { balance: 0, version: 4, eventSequences: [4], reversalId, reversedCommandId: reversed, amount: 300, reversalStatus: 'pending', ...fields });
}

const debitId = reversalDebitCommandId(`${accountA}:4`);
const leg = (id: string, accountId: string, fields: Partial<CommandOutcome>): CommandOutcome => ({
  ...outcomeFor({ commandId: id, accountId, issuedAt: 0, fingerprint: `fp-${id}`, payload: { type: 'CloseAccount' } }),
  ...fields,
});

describe('POST /api/v1/accounts/:id/reversals', () => {
  it('sends ReverseTransaction to the account, its reversalId derived from the command', async () => {
    const gateway = harness({ commandTimeoutMs: 20 });
    await post(gateway, { commandId: reversed.toUpperCase() });
    expect(gateway.sink.sent).toEqual([
      expect.objectContaining({ commandId, accountId: accountA, payload: { type: 'ReverseTransaction', reversalId, reversedCommandId: reversed, reason: null } }),
    ]);
  });

  it('answers 201 completed for an account-level reversal', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: requested(c, { reversalStatus: 'completed', balance: 200, version: 5, eventSequences: [5] }) }];
    const response = await post(gateway);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ reversalId, accountId: accountA, reversedCommandId: reversed, amount: 300, status: 'completed', balance: 200, version: 5, commandId });
  });

  it('answers a transfer reversal 201 once the destination paid and the source was credited, with the balance after the credit', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [
      { outcome: requested(c) },
      { outcome: leg(debitId, accountB, { balance: 0 }) },
      { outcome: leg(reversalCreditCommandId(debitId), accountA, { balance: 300, version: 5 }) },
    ];
    const response = await post(gateway);
    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'completed', balance: 300, version: 5, amount: 300, reversalId });
  });

  it.each([
    ['INSUFFICIENT_FUNDS', 422],
    ['ACCOUNT_CLOSED', 409],
  ] as const)('answers a destination that cannot pay (%s) with %i and status "failed"', async (code, status) => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: requested(c) }, { outcome: { ...leg(debitId, accountB, {}), status: 'REJECTED', code, message: `refused: ${code}` } }];
    const response = await post(gateway);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code, status: 'failed', reversalId, reversedCommandId: reversed, commandId, detail: `refused: ${code}` });
  });

  it('answers a retry from the reversal record once it failed, at any age', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: requested(c, { reversalStatus: 'failed', reversalCode: 'INSUFFICIENT_FUNDS' }), replayed: true }];
    const response = await post(gateway);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ code: 'INSUFFICIENT_FUNDS', status: 'failed', reversalId });
    expect(response.headers['idempotent-replayed']).toBe('true');
  });

  it('answers 202 pending with the reversalId while the destination has not answered', async () => {
    const gateway = harness({ commandTimeoutMs: 50 });
    gateway.sink.react = (c) => [{ outcome: requested(c) }];
    const response = await post(gateway);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ commandId, reversalId, status: 'pending' });
  });

  it.each([
    ['TRANSACTION_NOT_FOUND', 404],
    ['NOT_REVERSIBLE', 422],
    ['ALREADY_REVERSED', 409],
  ] as const)('answers %s with %i as problem+json', async (code, status) => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, code) }];
    const response = await post(gateway);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code, status });
  });

  it.each([
    ['no commandId', {}],
    ['a commandId that is no UUID', { commandId: 'deposit-1' }],
    ['an unknown field', { commandId: reversed, amount: 5 }],
    ['a reason with a control character', { commandId: reversed, reason: 'a\u0000b' }],
    ['a reason over 500 characters', { commandId: reversed, reason: 'x'.repeat(501) }],
  ])('refuses %s with 400 and sends nothing', async (_why, body) => {
    const gateway = harness();
    const response = await post(gateway, body);
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(gateway.sink.sent).toEqual([]);
  });
});
