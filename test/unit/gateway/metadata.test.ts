// Metadata at the HTTP edge (DESIGN §10): accepted within its bounds on every route that takes it
// and carried on the command; refused with 400 VALIDATION_FAILED naming the bound past them, with
// nothing sent to Kafka; part of the request's meaning, so a retry with other metadata is
// IDEMPOTENCY_KEY_REUSED.
import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { accountA, accountB, harness, json, outcomeFor } from './harness.ts';

const accounts = '/api/v1/accounts';
const routes: Array<[string, string, Record<string, unknown>]> = [
  ['open', accounts, { ownerName: 'Ada', currency: 'EUR' }],
  ['deposit', `${accounts}/${accountA}/deposit`, { amount: 5 }],
  ['withdraw', `${accounts}/${accountA}/withdraw`, { amount: 5 }],
  ['transfer', '/api/v1/transfers', { fromAccountId: accountA, toAccountId: accountB, amount: 5 }],
  ['hold', `${accounts}/${accountA}/holds`, { amount: 5 }],
];

const keys = (count: number, length = 8): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${String(i).padStart(length - 1, '0')}`, 'v']));

const atTheBounds: Array<[string, Record<string, string>]> = [
  ['32 keys', keys(32)],
  ['a key of 40 characters', { ['k'.repeat(40)]: 'v' }],
  ['a key of one character', { k: 'v' }],
  ['every key character', { 'Az09_.-': 'v' }],
  ['a value of 500 characters', { note: 'x'.repeat(500) }],
  ['a value of 500 emoji (characters, not UTF-16 units)', { note: '😀'.repeat(500) }],
  ['an empty value', { note: '' }],
  ['no keys', {}],
];

const pastTheBounds: Array<[string, unknown, RegExp]> = [
  ['33 keys', keys(33), /must NOT have more than 32 properties/],
  ['a key of 41 characters', { ['k'.repeat(41)]: 'v' }, /must NOT have more than 40 characters, body\/metadata property name/],
  ['an empty key', { '': 'v' }, /must NOT have fewer than 1 characters, body\/metadata property name/],
  ['a key with a space', { 'order id': 'v' }, /must match pattern "\^\[A-Za-z0-9_.-\]\+\$", body\/metadata property name/],
  ['a key with a slash', { 'a/b': 'v' }, /property name must be valid/],
  ['a key with a non-ASCII letter', { 'café': 'v' }, /property name must be valid/],
  ['a value of 501 characters', { note: 'x'.repeat(501) }, /must NOT have more than 500 characters/],
  ['a numeric value', { note: 7 }, /must be string/],
  ['a null value', { note: null }, /must be string/],
  ['an object value', { note: { deep: 'x' } }, /must be string/],
  ['a lone surrogate in a value (UTF-8 cannot carry it)', { note: '\ud800' }, /must match pattern/],
  ['an array', ['a', 'b'], /must be object/],
  ['a string', 'tags', /must be object/],
];

describe('metadata at the gateway', () => {
  describe.each(routes)('on %s', (_name, url, body) => {
    it.each(atTheBounds)('accepts %s and puts it on the command', async (_case, metadata) => {
      const gateway = harness();
      const response = await gateway.request(json(url, { ...body, metadata }));
      expect(response.status).toBe(202);
      expect(gateway.sink.sent).toHaveLength(1);
      expect(gateway.sink.sent[0]?.metadata).toEqual(metadata);
    });

    it.each(pastTheBounds)('refuses %s with 400 naming the bound, and sends nothing', async (_case, metadata, detail) => {
      const gateway = harness();
      const response = await gateway.request(json(url, { ...body, metadata }));
      expect(response).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
      expect(response.body.detail).toMatch(/metadata/);
      expect(response.body.detail).toMatch(detail);
      expect(gateway.sink.sent).toEqual([]);
    });

    it('carries no metadata ({}) when none is given', async () => {
      const gateway = harness();
      await gateway.request(json(url, body));
      expect(gateway.sink.sent[0]?.metadata).toEqual({});
    });
  });

  it('counts metadata in the fingerprint: a retry with other metadata is IDEMPOTENCY_KEY_REUSED, in any key order the same', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { version: 2, balance: 10 }) }];
    const send = (metadata: Record<string, string> | undefined): Promise<{ status: number; body: Record<string, unknown> }> =>
      gateway.request(json(`${accounts}/${accountA}/deposit`, { amount: 5, ...(metadata === undefined ? {} : { metadata }) }, { 'idempotency-key': 'dep-1' }) as InjectOptions);
    expect((await send({ a: '1', b: '2' })).status).toBe(200);
    expect((await send({ b: '2', a: '1' })).status).toBe(200);
    expect(await send({ a: '1', b: '3' })).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    expect(await send(undefined)).toMatchObject({ status: 409, body: { code: 'IDEMPOTENCY_KEY_REUSED' } });
    // The first was sent; the replays were answered from its outcome.
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('keeps the fingerprint of a request without metadata as it was before metadata existed', async () => {
    const gateway = harness();
    const withNone = await gateway.request(json(`${accounts}/${accountA}/deposit`, { amount: 5 }, { 'idempotency-key': 'k' }));
    const withEmpty = harness();
    await withEmpty.request(json(`${accounts}/${accountA}/deposit`, { amount: 5, metadata: {} }, { 'idempotency-key': 'k' }));
    expect(withNone.status).toBe(202);
    expect(gateway.sink.sent[0]?.fingerprint).toBe(withEmpty.sink.sent[0]?.fingerprint);
  });
});
