// The operations dashboard (DESIGN §12): GET / and a fixed set of files under /dashboard/, read
// from processors/query/dashboard/ (plain HTML, CSS and ES modules: no build step) and Chart.js
// from node_modules, so nothing comes from the internet. Every file is a route of its own with a
// literal path: no part of a request URL ever reaches the file system, so no path can climb out.
// Public (processors/http/plugin.ts): the page asks for the API key itself and sends it only in
// the Authorization header of its API calls.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

const dashboardDir = fileURLToPath(new URL('./dashboard/', import.meta.url));
/** Chart.js's self-contained (UMD) build, wherever npm put the package. */
const chartFile = join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');

const html = 'text/html; charset=utf-8';
const javascript = 'text/javascript; charset=utf-8';
const css = 'text/css; charset=utf-8';

/** URL path → file and content type: the whole of what is served. */
export const dashboardFiles: ReadonlyMap<string, { file: string; type: string }> = new Map([
  ['/', { file: join(dashboardDir, 'index.html'), type: html }],
  ['/dashboard/dashboard.css', { file: join(dashboardDir, 'dashboard.css'), type: css }],
  ...['app.js', 'api.js', 'format.js', 'feed.js', 'health.js', 'accounts.js', 'account.js'].map(
    (name): [string, { file: string; type: string }] => [`/dashboard/${name}`, { file: join(dashboardDir, name), type: javascript }],
  ),
  ['/dashboard/vendor/chart.umd.min.js', { file: chartFile, type: javascript }],
]);

/**
 * Scripts and styles from this origin only, API calls to it only, no framing. Chart.js sizes its
 * canvas through the CSSOM, which a style-src without 'unsafe-inline' allows.
 */
export const contentSecurityPolicy = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:", "connect-src 'self'",
  "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Revalidated on every load (a 304 when unchanged): an upgraded service never runs yesterday's script. */
const cacheControl = 'no-cache';

async function serve(request: FastifyRequest, reply: FastifyReply, file: string, type: string) {
  const body = await readFile(file);
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  reply
    .header('cache-control', cacheControl)
    .header('etag', etag)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', contentSecurityPolicy);
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.type(type).send(body);
}

export function registerDashboard(app: FastifyInstance): void {
  for (const [url, { file, type }] of dashboardFiles) app.get(url, async (request, reply) => serve(request, reply, file, type));
}
