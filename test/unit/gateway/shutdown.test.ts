// Graceful shutdown at the HTTP edge: once closing, new requests get 503 UNAVAILABLE with
// Connection: close (problem+json, Retry-After), while a request already waiting still finishes.
import { describe, expect, it } from 'vitest';
import { accountA, harness, json, outcomeFor } from './harness.ts';

const deposit = `/api/v1/accounts/${accountA}/deposit`;

describe('a closing gateway', () => {
  it('answers requests that arrive while closing with 503 and Connection: close, and lets waiting ones finish', async () => {
    const gateway = harness({ commandTimeoutMs: 300 });
    const waiting = gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'before-close' }));
    await gateway.app.ready();
    const closed = gateway.app.close();
    const late = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'after-close' }));
    expect(late.status).toBe(503);
    expect(late.body).toMatchObject({ code: 'UNAVAILABLE', detail: 'the gateway is shutting down' });
    expect(late.headers.connection).toBe('close');
    expect(late.headers['retry-after']).toBe('1');
    expect((await waiting).status).toBe(202);
    await closed;
    expect(gateway.sink.sent.map((c) => c.commandId)).toHaveLength(1);
  });

  it('serves normally before closing', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 10 }) }];
    expect((await gateway.request(json(deposit, { amount: 10 }))).status).toBe(200);
  });
});
