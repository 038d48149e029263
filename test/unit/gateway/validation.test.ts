// Nothing invalid reaches Kafka: every malformed request is refused at the edge with its code,
// as problem+json, and no command is produced for it.
import { moneyMax } from '../../../schemas/types.ts';
import { describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { accountA, accountB, harness, json, outcomeFor } from './harness.ts';

const accounts = '/api/v1/accounts';
const deposit = `${accounts}/${accountA}/deposit`;
const withdraw = `${accounts}/${accountA}/withdraw`;
const close = `${accounts}/${accountA}/close`;
const transfers = '/api/v1/transfers';
const open = { ownerName: 'Ada', currency: 'EUR' };
const move = { fromAccountId: accountA, toAccountId: accountB, amount: 5 };

const refused: [string, InjectOptions, number, string][] = [
  ['an unknown field on open', json(accounts, { ...open, nickname: 'x' }), 400, 'VALIDATION_FAILED'],
  ['a missing ownerName', json(accounts, { currency: 'EUR' }), 400, 'VALIDATION_FAILED'],
  ['an empty ownerName', json(accounts, { ...open, ownerName: '' }), 400, 'VALIDATION_FAILED'],
  ['a blank ownerName', json(accounts, { ...open, ownerName: '   ' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName of 201 characters', json(accounts, { ...open, ownerName: 'a'.repeat(201) }), 400, 'VALIDATION_FAILED'],
  ['a lower-case currency', json(accounts, { ...open, currency: 'eur' }), 400, 'VALIDATION_FAILED'],
  ['a four-letter currency', json(accounts, { ...open, currency: 'EURO' }), 400, 'VALIDATION_FAILED'],
  ['a negative initialBalance', json(accounts, { ...open, initialBalance: -1 }), 400, 'VALIDATION_FAILED'],
  ['a fractional initialBalance', json(accounts, { ...open, initialBalance: 0.5 }), 400, 'VALIDATION_FAILED'],
  ['an initialBalance past the safe range', json(accounts, `{"ownerName":"Ada","currency":"EUR","initialBalance":9007199254740992}`), 400, 'VALIDATION_FAILED'],
  ['a zero amount', json(deposit, { amount: 0 }), 400, 'VALIDATION_FAILED'],
  ['a negative amount', json(withdraw, { amount: -5 }), 400, 'VALIDATION_FAILED'],
  ['a fractional amount', json(deposit, { amount: 1.5 }), 400, 'VALIDATION_FAILED'],
  ['an amount as a string', json(deposit, { amount: '100' }), 400, 'VALIDATION_FAILED'],
  ['an amount of 1.0e20', json(deposit, '{"amount":1.0e20}'), 400, 'VALIDATION_FAILED'],
  ['an amount of MAX_SAFE_INTEGER, one past what Avro carries', json(deposit, '{"amount":9007199254740991}'), 400, 'VALIDATION_FAILED'],
  ['an amount of null', json(deposit, { amount: null }), 400, 'VALIDATION_FAILED'],
  ['a missing amount', json(deposit, {}), 400, 'VALIDATION_FAILED'],
  ['a reference of 501 characters', json(deposit, { amount: 1, reference: 'r'.repeat(501) }), 400, 'VALIDATION_FAILED'],
  ['an unknown field on deposit', json(deposit, { amount: 1, currency: 'EUR' }), 400, 'VALIDATION_FAILED'],
  ['a path id that is not a UUID', json(`${accounts}/not-a-uuid/deposit`, { amount: 1 }), 400, 'VALIDATION_FAILED'],
  ['a transfer without toAccountId', json(transfers, { fromAccountId: accountA, amount: 1 }), 400, 'VALIDATION_FAILED'],
  ['a transfer from a non-UUID', json(transfers, { ...move, fromAccountId: 'acc-1' }), 400, 'VALIDATION_FAILED'],
  ['a transfer with an unknown field', json(transfers, { ...move, memo: 'x' }), 400, 'VALIDATION_FAILED'],
  ['a close with a body', json(close, { reason: 'bye' }), 400, 'VALIDATION_FAILED'],
  ['malformed JSON', json(deposit, '{"amount": 1'), 400, 'VALIDATION_FAILED'],
  ['a JSON array body', json(deposit, '[1]'), 400, 'VALIDATION_FAILED'],
  ['an empty JSON body on open', json(accounts, ''), 400, 'VALIDATION_FAILED'],
  ['a __proto__ key', json(accounts, '{"ownerName":"Ada","currency":"EUR","__proto__":{"admin":true}}'), 400, 'VALIDATION_FAILED'],
  ['an empty Idempotency-Key', json(accounts, open, { 'idempotency-key': '' }), 400, 'VALIDATION_FAILED'],
  ['an Idempotency-Key of 256 characters', json(accounts, open, { 'idempotency-key': 'k'.repeat(256) }), 400, 'VALIDATION_FAILED'],
  ['a non-ASCII Idempotency-Key', json(deposit, { amount: 1 }, { 'idempotency-key': 'caf\u00e9' }), 400, 'VALIDATION_FAILED'],
  ['a text/plain body', { method: 'POST', url: deposit, payload: 'amount=1', headers: { 'content-type': 'text/plain' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a form body', { method: 'POST', url: accounts, payload: 'ownerName=Ada', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a body without a content type', { method: 'POST', url: deposit, payload: '{"amount":1}', headers: {} }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a body over 16 KiB', json(accounts, { ...open, ownerName: 'a'.repeat(16 * 1024) }), 413, 'PAYLOAD_TOO_LARGE'],
  ['an ownerName with NUL', json(accounts, { ...open, ownerName: 'Ada\u0000' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName with a C0 control (ESC)', json(accounts, { ...open, ownerName: 'Ada\u001b[31m' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName with a newline', json(accounts, { ...open, ownerName: 'Ada\nLovelace' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName with DEL', json(accounts, { ...open, ownerName: 'Ada\u007f' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName with a C1 control (NEL)', json(accounts, { ...open, ownerName: 'Ada\u0085' }), 400, 'VALIDATION_FAILED'],
  ['an ownerName with a C1 control (CSI)', json(accounts, { ...open, ownerName: 'Ada\u009b' }), 400, 'VALIDATION_FAILED'],
  ...['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'].map(
    (bidi): [string, InjectOptions, number, string] => [`an ownerName with the bidi control U+${bidi.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`, json(accounts, { ...open, ownerName: `${bidi}adA` }), 400, 'VALIDATION_FAILED'],
  ),
  ['an ownerName with a lone surrogate', json(accounts, '{"ownerName":"Ada\\ud800","currency":"EUR"}'), 400, 'VALIDATION_FAILED'],
  ['a reference with a bidi override', json(deposit, { amount: 1, reference: 'invoice \u202e9102' }), 400, 'VALIDATION_FAILED'],
  ['three upper-case letters that are no ISO 4217 code', json(accounts, { ...open, currency: 'ABC' }), 400, 'VALIDATION_FAILED'],
  ['the ISO 4217 "no currency" code', json(accounts, { ...open, currency: 'XXX' }), 400, 'VALIDATION_FAILED'],
  ['a currency in Cyrillic letters', json(accounts, { ...open, currency: '\u0415UR' }), 400, 'VALIDATION_FAILED'],
  ['an amount of 1e400 (Infinity)', json(deposit, '{"amount":1e400}'), 400, 'VALIDATION_FAILED'],
  ['invalid UTF-8 in a body', { ...json(accounts, ''), payload: Buffer.from([...Buffer.from('{"ownerName":"Ad'), 0xff, ...Buffer.from('a","currency":"EUR"}')]) }, 400, 'VALIDATION_FAILED'],
  ['a close with a JSON null body', json(close, 'null'), 400, 'VALIDATION_FAILED'],
  ['a latin1 body', json(accounts, open, { 'content-type': 'application/json; charset=latin1' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a UTF-16 body', json(accounts, open, { 'content-type': 'application/json; charset=utf-16' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a quoted ISO-8859-1 charset', json(deposit, { amount: 1 }, { 'content-type': 'application/json;charset="ISO-8859-1"' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
  ['a path id longer than the router allows', json(`${accounts}/${'a'.repeat(500)}/deposit`, { amount: 1 }), 400, 'VALIDATION_FAILED'],
  ['a path id with a bad percent escape', json(`${accounts}/%zz/deposit`, { amount: 1 }), 400, 'VALIDATION_FAILED'],
  ['a wrong method on a command route', { method: 'PUT', url: deposit, payload: '{}', headers: { 'content-type': 'application/json' } }, 404, 'ROUTE_NOT_FOUND'],
  ['an unknown route', { method: 'GET', url: '/api/v1/nothing' }, 404, 'ROUTE_NOT_FOUND'],
  ['a command id that is not a UUID', { method: 'GET', url: '/api/v1/commands/42' }, 400, 'VALIDATION_FAILED'],
];

describe('request validation', () => {
  it.each(refused)('refuses %s', async (_name, options, status, code) => {
    const gateway = harness();
    const response = await gateway.request(options);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, code, type: `/docs/errors#${code}` });
    expect(typeof response.body.title).toBe('string');
    expect(typeof response.body.detail).toBe('string');
    expect(gateway.sink.sent).toEqual([]);
  });

  it('accepts a printable Idempotency-Key of 255 characters with spaces', async () => {
    const gateway = harness();
    const response = await gateway.request(json(accounts, open, { 'idempotency-key': `a b${'k'.repeat(252)}` }));
    expect(response.status).toBe(202);
    expect(gateway.sink.sent).toHaveLength(1);
  });

  it('accepts the largest amount Avro can carry and an ownerName of 200 characters', async () => {
    const gateway = harness();
    await gateway.request(json(deposit, { amount: moneyMax, reference: 'r'.repeat(500) }));
    await gateway.request(json(accounts, { ...open, ownerName: 'é'.repeat(200) }));
    expect(gateway.sink.sent.map((c) => c.payload.type)).toEqual(['Deposit', 'OpenAccount']);
  });

  it.each([
    ['no body at all', { method: 'POST', url: close } as InjectOptions],
    ['an empty JSON body', json(close, '')],
    ['an empty object', json(close, {})],
  ])('accepts a close with %s', async (_name, options) => {
    const gateway = harness();
    const response = await gateway.request(options);
    expect(response.status).toBe(202);
    expect(gateway.sink.sent.map((c) => c.payload)).toEqual([{ type: 'CloseAccount' }]);
  });

  it('accepts ISO 4217 codes beyond the common ones, and names in any script', async () => {
    const gateway = harness();
    for (const currency of ['JPY', 'CHF', 'KWD', 'XOF']) await gateway.request(json(accounts, { ...open, currency }));
    for (const ownerName of ['Zoë Ôzil-Ñúñez', '\u674e\u5c0f\u9f99', '\u0645\u062d\u0645\u062f', 'Ada \u{1f680}', "O'Brien & Sons"]) {
      await gateway.request(json(accounts, { ...open, ownerName }));
    }
    expect(gateway.sink.sent).toHaveLength(9);
  });

  it('a charset refusal says what to send', async () => {
    const gateway = harness();
    const response = await gateway.request(json(accounts, open, { 'content-type': 'application/json; charset=latin1' }));
    expect(response.body.detail).toContain('UTF-8');
    expect(response.body.detail).toContain('latin1');
  });

  it('defaults initialBalance to 0 and a missing reference to null', async () => {
    const gateway = harness();
    await gateway.request(json(accounts, open));
    await gateway.request(json(deposit, { amount: 7 }));
    expect(gateway.sink.sent.map((c) => c.payload)).toEqual([
      { type: 'OpenAccount', ownerName: 'Ada', currency: 'EUR', initialBalance: 0, overdraftLimit: 0 },
      { type: 'Deposit', amount: 7, reference: null },
    ]);
  });

  it('accepts application/json with a charset', async () => {
    const gateway = harness();
    const response = await gateway.request(json(deposit, { amount: 1 }, { 'content-type': 'application/json; charset=utf-8' }));
    expect(response.status).toBe(202);
  });

  it('treats upper-case UUIDs as the same account', async () => {
    const gateway = harness();
    await gateway.request(json(`${accounts}/${accountA.toUpperCase()}/deposit`, { amount: 1 }, { 'idempotency-key': 'k' }));
    await gateway.request(json(deposit, { amount: 1 }, { 'idempotency-key': 'k' }));
    const [first, second] = gateway.sink.sent;
    expect(first?.accountId).toBe(accountA);
    expect(first?.commandId).toBe(second?.commandId);
  });

  it('lower-cases ids on every route: close, transfer ends, and the command lookup', async () => {
    const gateway = harness();
    await gateway.request(json(`${accounts}/${accountA.toUpperCase()}/close`, {}));
    await gateway.request(json(`${accounts}/${accountA.toUpperCase()}/withdraw`, { amount: 1 }));
    await gateway.request(json(transfers, { ...move, fromAccountId: accountA.toUpperCase(), toAccountId: accountA }));
    const [closed, withdrawn, moved] = gateway.sink.sent;
    expect([closed?.accountId, withdrawn?.accountId, moved?.accountId]).toEqual([accountA, accountA, accountA]);
    // The same account in two spellings is one account: the processor refuses SAME_ACCOUNT_TRANSFER.
    expect(moved?.payload).toMatchObject({ type: 'InitiateTransfer', toAccountId: accountA });
    gateway.outcomes.accept(outcomeFor(closed!), { replayed: false });
    const found = await gateway.request({ method: 'GET', url: `/api/v1/commands/${closed!.commandId.toUpperCase()}` });
    expect([found.status, found.body.commandId]).toEqual([200, closed!.commandId]);
  });
});
