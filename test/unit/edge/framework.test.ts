// Answers the framework gives before any route runs (router limits, undecodable URLs, wrong
// methods, requests Node's HTTP parser refuses) are problem+json with a registered code too, on
// both services.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp as buildQueryApp } from '../../../processors/query/routes.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { emptyViews } from '../query/empty-views.ts';
import { harness, withKey } from '../gateway/harness.ts';
import { testDirectory } from '../../support/keys.ts';


const services: [string, () => FastifyInstance, string][] = [
  ['gateway', () => harness().app, '/api/v1/accounts/{id}/deposit'],
  ['query', () => buildQueryApp({ views: emptyViews, waiters: new VersionWaiters(10), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 1, keys: testDirectory() }), '/api/v1/accounts/{id}/balance'],
];

const uuid = '6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f';

/** Sends raw bytes to a listening app and returns the raw answer. */
async function raw(app: FastifyInstance, bytes: string): Promise<string> {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = new URL(address);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe.each(services)('%s: framework answers are problem+json', (_name, build, route) => {
  const post = (url: string) => ({
    method: route.startsWith('/api/v1/accounts/{id}/deposit') ? ('POST' as const) : ('GET' as const),
    url,
    payload: route.endsWith('deposit') ? '{"amount":1}' : undefined,
    headers: route.endsWith('deposit') ? { 'content-type': 'application/json' } : {},
  });

  it.each([
    ['a path id longer than the router allows (fastify answered 414 with its own body)', 'a'.repeat(101)],
    ['a path id of 4,000 characters', uuid.repeat(111)],
    ['an undecodable percent escape', '%zz'],
    ['an escaped lone surrogate', '%ED%A0%80'],
  ])('%s is 400 VALIDATION_FAILED', async (_case, id) => {
    const app = build();
    const response = await app.inject(withKey(post(route.replace('{id}', id))));
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', type: '/docs/errors#VALIDATION_FAILED' });
    // The detail does not echo a 4,000-character path back.
    expect(response.json().detail.length).toBeLessThan(300);
    await app.close();
  });

  it('an unknown route or a wrong method is 404 ROUTE_NOT_FOUND', async () => {
    const app = build();
    for (const [method, url] of [['DELETE', route.replace('{id}', uuid)], ['GET', `/nothing/${'x'.repeat(3000)}`]] as const) {
      const response = await app.inject({ method, url });
      expect([response.statusCode, response.headers['content-type'], response.json().code]).toEqual([404, 'application/problem+json; charset=utf-8', 'ROUTE_NOT_FOUND']);
      expect(response.json().detail.length).toBeLessThan(300);
    }
    await app.close();
  });

  it("a request Node's HTTP parser refuses is 400 problem+json on the socket", async () => {
    const app = build();
    const answer = await raw(app, 'GET /health HTTP/1.1\r\nHost: x\r\nBad Header: \u0001\r\n\r\n');
    await app.close();
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(head.toLowerCase()).toContain('content-type: application/problem+json');
    expect(JSON.parse(body)).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
  });
});
