// The latency breakdown of issue 13: a command's answer says where its time went (Server-Timing),
// when the operator asks for it, and never otherwise.
import { describe, expect, it } from 'vitest';
import { parseServerTiming, serverTiming } from '../../../gateway/server-timing.ts';
import { accountA, harness, json, outcomeFor } from './harness.ts';

const deposit = `/api/v1/accounts/${accountA}/deposit`;

describe('Server-Timing stages', () => {
  it('splits a request at its marks, in the order a request meets them', () => {
    const header = serverTiming({ arrivedAt: 1000, ackedAt: 1004, outcome: { fetchedAt: 1010, sentAt: 1012, readAt: 1030 }, answeredAt: 1031 });
    expect(header).toBe('produce;dur=4, queue;dur=6, decide;dur=2, commit;dur=18, reply;dur=1, total;dur=31');
    expect(parseServerTiming(header)).toEqual({ produce: 4, queue: 6, decide: 2, commit: 18, reply: 1, total: 31 });
  });

  it('leaves out what the marks cannot give, and never reports a negative stage (clocks of two hosts)', () => {
    expect(serverTiming({ arrivedAt: 1000, answeredAt: 1002 })).toBe('total;dur=2');
    expect(serverTiming({ arrivedAt: 1000, ackedAt: 1010, outcome: { fetchedAt: 1008, sentAt: 1009, readAt: 1009 }, answeredAt: 1011 })).toBe('produce;dur=10, queue;dur=0, decide;dur=1, commit;dur=0, reply;dur=2, total;dur=11');
  });

  it('parses only well-formed stages', () => {
    expect(parseServerTiming('a;dur=1.5, broken, b;desc="x";dur=2, c;dur=-1, d;dur=3')).toEqual({ a: 1.5, d: 3 });
    expect(parseServerTiming(undefined)).toEqual({});
  });
});

describe('the gateway answers with Server-Timing', () => {
  const timing = () => {
    const now = Date.now();
    return { fetchedAt: now, sentAt: now + 1, readAt: now + 2 };
  };

  it('when GATEWAY_SERVER_TIMING is on: every stage of an answered command', async () => {
    const gateway = harness({ serverTiming: true });
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 10, version: 2 }), timing: timing() }];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'st-1' }));
    expect(response.status).toBe(200);
    expect(Object.keys(parseServerTiming(response.headers['server-timing'] as string))).toEqual(['produce', 'queue', 'decide', 'commit', 'reply', 'total']);
  });

  it('and not by default', async () => {
    const gateway = harness();
    gateway.sink.react = (c) => [{ outcome: outcomeFor(c, { balance: 10, version: 2 }), timing: timing() }];
    const response = await gateway.request(json(deposit, { amount: 10 }, { 'idempotency-key': 'st-2' }));
    expect(response.status).toBe(200);
    expect(response.headers['server-timing']).toBeUndefined();
  });
});
