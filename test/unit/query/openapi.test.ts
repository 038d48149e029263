// The query service documents itself like the gateway: /docs is an OpenAPI 3.1 document of every
// route it serves, with its query parameters, and /docs/errors lists the error codes.
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../../processors/query/routes.ts';
import { queryRoutes } from '../../../processors/query/openapi.ts';
import { EventStream } from '../../../processors/query/event-stream.ts';
import { emptyViews } from './empty-views.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import { Progress } from '../../../processors/query/progress.ts';
import { QueryMetrics } from '../../../processors/query/metrics.ts';
import { testDirectory } from '../../support/keys.ts';
import { SystemHealth } from '../../../processors/query/system.ts';

const views = emptyViews;

describe('query service OpenAPI', () => {
  it('GET /docs documents every route, and every documented route is served', async () => {
    const waiters = new VersionWaiters(1);
    const app = buildApp({
      views, waiters, readiness: () => ({ ready: true, partitions: [] }), minVersionWaitMs: 1,
      metrics: new QueryMetrics(new Progress({ info: () => undefined, warn: () => undefined, error: () => undefined }), waiters, () => []),
      events: new EventStream('t', 1, () => null), keys: testDirectory(),
      system: new SystemHealth({
        eventsTopic: 'e', deadLetterTopic: 'd', partitions: 1, fetchOffsets: async () => [], progress: () => ({ ready: true, partitions: [] }),
        eventsApplied: () => 0, parkedEvents: () => 0, streams: () => 0,
      }),
    });
    const response = await app.inject({ method: 'GET', url: '/docs' });
    expect(response.statusCode).toBe(200);
    const document = response.json();
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'kafka-ledger query processor' } });
    for (const route of queryRoutes) expect([route.url, app.hasRoute({ method: route.method, url: route.url })]).toEqual([route.url, true]);
    const statement = document.paths['/api/v1/accounts/{id}/statement'].get;
    expect(statement.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`)).toEqual(['path:id', 'query:minVersion', 'query:from', 'query:to', 'query:format']);
    expect(Object.keys(statement.responses[200].content)).toEqual(['application/json', 'text/csv']);
    expect(document['x-error-codes'].VALIDATION_FAILED.status).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/docs/errors' })).json().codes).toContainEqual({ code: 'VIEW_LAGGING', status: 503, title: expect.any(String) });
    await app.close();
  });
});
