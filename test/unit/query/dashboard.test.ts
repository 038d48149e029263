// The dashboard's files and the health route behind its panel (DESIGN §12), asked through
// fastify's inject(): the page and its assets are public, typed, revalidated and confined to a
// fixed list; the health report turns offsets and applied positions into lag, dead letters and a
// rate, and still answers when Kafka does not.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../../processors/query/routes.ts';
import { dashboardFiles } from '../../../processors/query/routes-dashboard.ts';
import { SystemHealth, systemBounds, type PartitionOffsets, type SystemSources } from '../../../processors/query/system.ts';
import { VersionWaiters } from '../../../processors/query/waiters.ts';
import type { ProgressReport } from '../../../processors/query/progress.ts';
import { emptyViews } from './empty-views.ts';
import { adminHeaders, testDirectory } from '../../support/keys.ts';

let clock = 1_700_000_000_000;
let applied = 0;
let offsets: Record<string, PartitionOffsets[]> | Error = {};
let report: ProgressReport = { ready: true, partitions: [] };
const sources: SystemSources = {
  eventsTopic: 'bank.events', deadLetterTopic: 'bank.commands.dlq', partitions: 3,
  fetchOffsets: async (topic) => {
    if (offsets instanceof Error) throw offsets;
    return offsets[topic] ?? [];
  },
  progress: () => report, eventsApplied: () => applied, parkedEvents: () => 2, streams: () => 1, now: () => clock,
};
const app = buildApp({ views: emptyViews, waiters: new VersionWaiters(1), readiness: () => report, minVersionWaitMs: 1, keys: testDirectory(), system: new SystemHealth(sources) });
afterAll(() => app.close());

describe('dashboard files', () => {
  it('GET / is the page, without a key, with its type, a CSP, nosniff and an ETag that answers 304', async () => {
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<script type="module" src="/dashboard/app.js">');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');
    const again = await app.inject({ method: 'GET', url: '/', headers: { 'if-none-match': String(page.headers.etag) } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
  });

  it('serves every listed script, the stylesheet and Chart.js from node_modules, each with its type', async () => {
    for (const [url, { type }] of dashboardFiles) {
      const response = await app.inject({ method: 'GET', url });
      expect([url, response.statusCode, response.headers['content-type']]).toEqual([url, 200, type]);
    }
    const chart = await app.inject({ method: 'GET', url: '/dashboard/vendor/chart.umd.min.js' });
    expect(chart.body).toContain('Chart.js v4.6.1');
  });

  it('every script the page and its modules load is served, and none comes from another origin', async () => {
    const page = (await app.inject({ method: 'GET', url: '/' })).body;
    // In-page links (#/...) aside, every src and href of the page.
    const sources = [...page.matchAll(/(?:src|href)="([^"#][^"]*)"/g)].map((m) => m[1] as string).filter((url) => !url.startsWith('data:'));
    expect(sources.length).toBeGreaterThanOrEqual(3);
    for (const url of dashboardFiles.keys()) {
      if (!url.endsWith('.js') || url.includes('vendor')) continue;
      const text = readFileSync(dashboardFiles.get(url)!.file, 'utf8');
      for (const m of text.matchAll(/from '\.\/([a-z-]+\.js)'/g)) sources.push(`/dashboard/${m[1]}`);
      // Data reaches the DOM as text only.
      expect([url, /innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(text)]).toEqual([url, false]);
    }
    for (const url of sources) expect([url, dashboardFiles.has(url)]).toEqual([url, true]);
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
  });

  it('nothing outside the list is served: traversal, encoded or not, is a 404 ROUTE_NOT_FOUND', async () => {
    for (const url of ['/dashboard/../routes.ts', '/dashboard/%2e%2e/routes.ts', '/dashboard/..%2f..%2fpackage.json', '/dashboard/', '/dashboard/vendor/chart.js', '/index.html', '/dashboard/app.js/']) {
      const response = await app.inject({ method: 'GET', url });
      expect([url, response.statusCode, response.json().code]).toEqual([url, 404, 'ROUTE_NOT_FOUND']);
    }
  });
});

describe('GET /api/v1/system/health', () => {
  const get = async () => app.inject({ method: 'GET', url: '/api/v1/system/health', headers: adminHeaders });

  it('needs an API key, like every API route', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/system/health' })).statusCode).toBe(401);
  });

  it('reports lag per partition from the applied position and the log end, dead-letter offsets and events per second', async () => {
    report = {
      ready: false,
      partitions: [
        { partition: 0, phase: 'live', position: '120', target: '100', percent: 100 },
        { partition: 1, phase: 'catching-up', position: '40', target: '90', percent: 50 },
      ],
    };
    offsets = {
      'bank.events': [{ partition: 0, low: '0', high: '120' }, { partition: 1, low: '0', high: '95' }, { partition: 2, low: '0', high: '7' }],
      'bank.commands.dlq': [{ partition: 0, low: '3', high: '10' }, { partition: 1, low: '0', high: '2' }, { partition: 2, low: '0', high: '0' }],
    };
    applied = 1000;
    const first = (await get()).json();
    expect(first).toMatchObject({
      ready: false, eventsApplied: 1000, eventsPerSecond: null, parkedEvents: 2, streams: 1, problem: null,
      deadLetters: { topic: 'bank.commands.dlq', offsets: 9 },
      partitions: [
        { partition: 0, phase: 'live', appliedOffset: '120', logEndOffset: '120', lag: 0 },
        { partition: 1, phase: 'catching-up', appliedOffset: '40', logEndOffset: '95', lag: 55 },
        { partition: 2, phase: 'elsewhere', appliedOffset: null, logEndOffset: '7', lag: null },
      ],
    });
    clock += 5000;
    applied = 1500;
    expect((await get()).json().eventsPerSecond).toBe(100);
  });

  it('asks Kafka for the log ends at most every logEndCacheMs, and answers without them (naming why) when Kafka fails', async () => {
    offsets = { 'bank.events': [{ partition: 0, low: '0', high: '200' }] };
    const cached = (await get()).json();
    expect(cached.partitions[0].logEndOffset).toBe('120');
    clock += systemBounds.logEndCacheMs;
    offsets = new Error('broker down');
    const failed = (await get()).json();
    expect(failed).toMatchObject({ problem: 'broker down', deadLetters: { offsets: null }, partitions: [{ partition: 0, logEndOffset: null, lag: null, appliedOffset: '120' }, {}, {}] });
    offsets = { 'bank.events': [{ partition: 0, low: '0', high: '200' }], 'bank.commands.dlq': [] };
    expect((await get()).json()).toMatchObject({ problem: null, deadLetters: { offsets: 0 }, partitions: [{ logEndOffset: '200', lag: 80 }, {}, {}] });
  });
});
