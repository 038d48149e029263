// Seeded random bad input over the HTTP edge of both services: every POST route the gateway's
// own /docs/openapi.json lists, and every GET route of the query service. Whatever is wrong with a
// request, the answer is a 4xx application/problem+json whose code is in the one registry: never
// a 5xx, never fastify's own body. FUZZ_SEED=<n> replays another seed.
import { describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { errorRegistry } from '../../../processors/http/errors.ts';
import { buildApp as buildQueryApp } from '../../../processors/query/routes.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { emptyViews } from '../query/empty-views.ts';
import { harness, withKey } from '../gateway/harness.ts';
import { testDirectory } from '../../support/keys.ts';
import { badPostRequests, badQueryRequests, Dice, postRoutes, seededRandom, type BadRequest } from './bad-requests.ts';

const seed = Number(process.env.FUZZ_SEED ?? 20_251_130);
const gatewayRequests = 600;
const queryRequests = 300;
/** Hundreds of injects on a shared 2-core machine: a bound against a hang, not a speed check. */
const fuzzTimeoutMs = 120_000;

/** Every answer that is not a 4xx problem+json with a registered code, described. */
async function wrongAnswers(app: FastifyInstance, requests: BadRequest[]): Promise<string[]> {
  const wrong: string[] = [];
  for (const { why, options } of requests) {
    const response = await app.inject(withKey(options));
    const type = String(response.headers['content-type'] ?? '');
    let body: { code?: unknown; status?: unknown } = {};
    try {
      body = response.json();
    } catch {
      // not JSON: reported below
    }
    const ok =
      response.statusCode >= 400 && response.statusCode < 500 &&
      type.startsWith('application/problem+json') &&
      typeof body.code === 'string' && Object.hasOwn(errorRegistry, body.code) &&
      body.status === response.statusCode;
    if (!ok) wrong.push(`${why} -> ${response.statusCode} ${type} ${response.body.slice(0, 160)}`);
  }
  return wrong;
}

describe(`malformed requests answer 4xx problem+json with a known code (seed ${seed})`, () => {
  it(`${gatewayRequests} bad requests over every POST route of the gateway's openapi.json`, async () => {
    const gateway = harness({ commandTimeoutMs: 1 });
    const routes = postRoutes((await gateway.app.inject({ method: 'GET', url: '/docs/openapi.json' })).json());
    expect(routes.map((r) => r.path).sort()).toEqual(['/api/v1/accounts', '/api/v1/accounts/{id}/close', '/api/v1/accounts/{id}/deposit', '/api/v1/accounts/{id}/holds', '/api/v1/accounts/{id}/holds/{holdId}/capture', '/api/v1/accounts/{id}/holds/{holdId}/void', '/api/v1/accounts/{id}/overdraft-limit', '/api/v1/accounts/{id}/reversals', '/api/v1/accounts/{id}/withdraw', '/api/v1/api-keys', '/api/v1/transfers']);
    const wrong = await wrongAnswers(gateway.app, badPostRequests(new Dice(seededRandom(seed)), routes, gatewayRequests));
    expect(wrong, `${wrong.length} wrong answers:\n${wrong.slice(0, 30).join('\n')}`).toEqual([]);
    expect(gateway.sink.sent).toEqual([]);
    expect(gateway.keyAdmin.published).toEqual([]);
    await gateway.app.close();
  }, fuzzTimeoutMs);

  it(`${queryRequests} bad requests over every GET route of the query service`, async () => {
    const views = emptyViews;
    const app = buildQueryApp({ views, waiters: new VersionWaiters(10), readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 1, keys: testDirectory() });
    const wrong = await wrongAnswers(app, badQueryRequests(new Dice(seededRandom(seed + 1)), queryRequests));
    expect(wrong, `${wrong.length} wrong answers:\n${wrong.slice(0, 30).join('\n')}`).toEqual([]);
    await app.close();
  }, fuzzTimeoutMs);
});
