// Transfers answer with the whole saga when it finishes in time: the source's debit, then the
// destination's credit (completed) or refusal (failed, with the destination's code and status).
import { describe, expect, it } from 'vitest';
import { commandIdForKey, creditCommandId, refundCommandId, transferIdForCommand } from '../../../schemas/ids.ts';
import type { Command, CommandOutcome } from '../../../schemas/types.ts';
import { accountA, accountB, harness, json, outcomeFor, rejectedFor, type Harness } from './harness.ts';

const transfers = '/api/v1/transfers';
const body = { fromAccountId: accountA, toAccountId: accountB, amount: 30, reference: 'lunch' };
const commandId = commandIdForKey('bootstrap', accountA, 't-1');
const transferId = transferIdForCommand(commandId);

function debited(command: Command, fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return outcomeFor(command, { balance: 70, version: 3, eventSequences: [3], transferId, transferStatus: 'pending', ...fields });
}

/** The credit is caused by the source's TransferDebited event (sequence 3 of accountA). */
const creditId = creditCommandId(`${accountA}:3`);

function credit(fields: Partial<CommandOutcome> = {}): CommandOutcome {
  return {
    ...outcomeFor({ commandId: creditId, accountId: accountB, issuedAt: 0, fingerprint: 'credit-fp', payload: { type: 'CloseAccount' } }),
    transferId,
    ...fields,
  };
}

const post = (gateway: Harness) => gateway.request(json(transfers, body, { 'idempotency-key': 't-1' }));

describe('POST /api/v1/transfers', () => {
  it('sends InitiateTransfer keyed by the source, with ids derived from the key', async () => {
    const gateway = harness({ commandTimeoutMs: 20 });
    await post(gateway);
    expect(gateway.sink.sent).toEqual([
      expect.objectContaining({
        commandId,
        accountId: accountA,
        payload: { type: 'InitiateTransfer', transferId, toAccountId: accountB, amount: 30, reference: 'lunch' },
      }),
    ]);
  });

  it('answers 201 completed when the destination credits', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: debited(c) }, { outcome: credit() }];
    const response = await post(gateway);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ transferId, status: 'completed', commandId });
  });

  it('completes even when the credit arrives before the gateway starts waiting for it', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: credit() }, { outcome: debited(c) }];
    const response = await post(gateway);
    expect(response.status).toBe(201);
  });

  it.each([
    ['ACCOUNT_NOT_FOUND', 404],
    ['ACCOUNT_CLOSED', 409],
    ['CURRENCY_MISMATCH', 422],
    ['AMOUNT_TOO_LARGE', 422],
  ] as const)('answers a destination refusal %s with %i, the transferId and status "failed"', async (code, status) => {
    const gateway = harness();
    gateway.sink.react = (c) => [
      { outcome: debited(c) },
      { outcome: credit({ status: 'REJECTED', code, message: `destination refused: ${code}` }) },
      { outcome: outcomeFor({ ...c, commandId: refundCommandId(creditId), fingerprint: 'refund-fp' }, { transferId, balance: 100 }) },
    ];
    const response = await post(gateway);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toEqual({
      type: `/docs/errors#${code}`,
      title: expect.any(String),
      status: 'failed',
      code,
      detail: `destination refused: ${code}`,
      transferId,
      commandId,
    });
  });

  it('answers a refusal at the source as an ordinary problem (the transfer never started)', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: rejectedFor(c, 'INSUFFICIENT_FUNDS') }];
    const response = await post(gateway);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ status: 422, code: 'INSUFFICIENT_FUNDS' });
  });

  it('answers 202 pending with Location when the source has not answered in time', async () => {
    const gateway = harness({ commandTimeoutMs: 30 });
    const response = await post(gateway);
    expect(response.status).toBe(202);
    expect(response.headers.location).toBe(`/api/v1/commands/${commandId}`);
    expect(response.body).toEqual({ commandId, transferId, status: 'pending' });
  });

  it('answers 202 pending when the source debited but the destination has not answered in time', async () => {
    const gateway = harness({ commandTimeoutMs: 30 });
    gateway.sink.react = (c) => [{ outcome: debited(c) }];
    const response = await post(gateway);
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ commandId, transferId, status: 'pending' });
    expect(gateway.outcomes.size.waiting).toBe(0);
  });

  it('replays a completed transfer without sending it again', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: debited(c) }, { outcome: credit() }];
    await post(gateway);
    const retry = await post(gateway);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('refuses the same key for another transfer with 409', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: debited(c) }, { outcome: credit() }];
    await post(gateway);
    const reuse = await gateway.request(json(transfers, { ...body, amount: 31 }, { 'idempotency-key': 't-1' }));
    expect(reuse.status).toBe(409);
    expect(reuse.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it("a retry after the credit left the gateway's memory answers the final status the source recorded", async () => {
    const gateway = harness();
    // The processor replays the initiation's record, which its settlement marked completed; no credit outcome is around.
    gateway.sink.react = (c) => [{ outcome: debited(c, { transferStatus: 'completed' }), replayed: true }];
    const response = await post(gateway);
    expect(response.status).toBe(201);
    expect(response.body).toEqual({ transferId, status: 'completed', commandId });
  });

  it('a retry of a refunded transfer answers failed with the destination code, from the source record alone', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: debited(c, { transferStatus: 'failed', transferCode: 'ACCOUNT_CLOSED' }), replayed: true }];
    const response = await post(gateway);
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ status: 'failed', code: 'ACCOUNT_CLOSED', transferId, commandId });
  });

  it('GET of a transfer whose credit outcome is unknown shows the final status once the source records it', async () => {
    const gateway = harness({ commandTimeoutMs: 30 });
    gateway.sink.react = (c) => [{ outcome: debited(c) }];
    await post(gateway);
    const url = `/api/v1/commands/${commandId}`;
    expect((await gateway.request({ method: 'GET', url })).body.transfer).toEqual({ transferId, status: 'pending' });
    const sent = gateway.sink.sent[0]!;
    gateway.outcomes.accept(debited(sent, { transferStatus: 'completed' }));
    expect((await gateway.request({ method: 'GET', url })).body.transfer).toEqual({ transferId, status: 'completed' });
  });

  it("shows the transfer's progress on its command", async () => {
    const gateway = harness({ commandTimeoutMs: 30 });
    gateway.sink.react = (c) => [{ outcome: debited(c) }];
    await post(gateway);
    const url = `/api/v1/commands/${commandId}`;
    expect((await gateway.request({ method: 'GET', url })).body.transfer).toEqual({ transferId, status: 'pending' });
    gateway.outcomes.accept(credit({ status: 'REJECTED', code: 'ACCOUNT_CLOSED' }));
    expect((await gateway.request({ method: 'GET', url })).body.transfer).toEqual({ transferId, status: 'failed', code: 'ACCOUNT_CLOSED' });
  });
});
