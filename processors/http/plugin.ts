// The one HTTP edge both services (gateway :8080, query processor :8081) install: every answer
// as problem+json from the one registry (errors.ts, edge.ts), API-key authentication and scopes,
// rate limits (@fastify/rate-limit), optional CORS, and the /metrics glue (route + request
// timing). DESIGN §9: every route but the public ones needs `Authorization: Bearer <key>`.
//
// Order per request, all in onRequest: routing; who is asking (the key, or nobody); the rate
// limit, per key, or per client address when the key is missing or wrong (20/s, so guessing keys
// is slow); then 401/403. So a 429 comes before a 401, and all of them before the body is even
// read (no 413/415 to a stranger).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { allows, bearerToken, type ApiKeyDirectory, type Principal, type Scope } from './api-keys.ts';
import { edgeServerOptions, problemFor, quotedUrl } from './edge.ts';
import { HttpProblem, problemContentType } from './errors.ts';
import { metricsContentType } from '../metrics.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The API key's principal once authenticated; null on public routes and failed authentication. */
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** The scope the route needs; by default `read` for GET/HEAD, `write` otherwise. */
    scope?: Scope;
  }
}

/** Named bounds and constants of the edge's access control (DESIGN §9). */
export const accessBounds = {
  /** Requests with a missing, unknown or revoked key, per client address and second. */
  failedAuthPerSecond: 20,
  /** RATE_LIMIT_PER_SECOND's default: requests per API key and second. */
  perKeyPerSecondDefault: 5000,
  /** Rate-limit buckets remembered (keys and addresses, LRU): memory stays bounded under a flood. */
  bucketsMax: 10_000,
  windowMs: 1000,
} as const;

export const authenticateHeader = 'Bearer realm="kafka-ledger"';

/** Seconds a client should wait before retrying a 503 (either service). */
export const retryAfterSeconds = 1;

/** Routes anyone may call: liveness, readiness, metrics, the API's own documentation and the dashboard's static files (it asks for a key itself). */
export function isPublicRoute(url: string): boolean {
  return url === '/health' || url === '/ready' || url === '/metrics' || url === '/docs' || url.startsWith('/docs/') || url === '/' || url.startsWith('/dashboard/');
}

export interface EdgeMetrics {
  registry: { render(): string };
  httpRequestSeconds: { observe(labels: readonly string[], value: number): void };
}

export interface EdgeOptions {
  /** The request body limit the services' parsers enforce (named in the 413 detail). */
  bodyBytesMax: number;
  keys: ApiKeyDirectory;
  /** Per API key and second; 0 turns the per-key limit off (failed authentication stays limited). */
  rateLimitPerSecond: number;
  /** Browser origins allowed to call (CORS_ORIGINS); none: CORS stays off. */
  corsOrigins?: readonly string[];
  /** Serves GET /metrics and times every request by route template when given. */
  metrics?: EdgeMetrics;
  /** A service's own mapping of some errors (before the shared one). */
  mapError?: (error: FastifyError) => HttpProblem | undefined;
  /** Logging of problems (500s, 503s); the edge only answers. */
  onProblem?: (request: FastifyRequest, problem: HttpProblem, cause: unknown) => void;
}

/** Answers a problem: the registered status, problem+json, and the headers its code calls for. */
export function sendProblem(options: Pick<EdgeOptions, 'onProblem'>, request: FastifyRequest, reply: FastifyReply, problem: HttpProblem, cause?: unknown): FastifyReply {
  options.onProblem?.(request, problem, cause);
  if (problem.status === 503) reply.header('retry-after', String(retryAfterSeconds));
  if (problem.code === 'UNAUTHENTICATED') reply.header('www-authenticate', authenticateHeader);
  return reply.code(problem.status).type(problemContentType).send(problem.toProblem());
}

/** The Fastify server options of the edge (they cannot be set by a plugin). */
export const serverOptionsFor = (options: Pick<EdgeOptions, 'onProblem'>) =>
  edgeServerOptions((request, reply, problem, cause) => sendProblem(options, request, reply, problem, cause));

const statusClasses = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

const neededScope = (request: FastifyRequest): Scope =>
  request.routeOptions.config.scope ?? (request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');

/** 403 unless the key has the route's scope. */
function authorize(request: FastifyRequest, principal: Principal): void {
  const scope = neededScope(request);
  if (!allows(principal, scope)) throw new HttpProblem('FORBIDDEN', `API key ${principal.keyId} lacks the "${scope}" scope this route needs`);
}

const guarded = (request: FastifyRequest): boolean => {
  const url = request.routeOptions.url;
  // No route: the not-found handler answers 404 whoever asks (the routes are public in /docs).
  return url !== undefined && !isPublicRoute(url);
};

async function edge(app: FastifyInstance, options: EdgeOptions): Promise<void> {
  const send = (request: FastifyRequest, reply: FastifyReply, problem: HttpProblem, cause?: unknown) => sendProblem(options, request, reply, problem, cause);
  app.setErrorHandler((error: FastifyError, request, reply) => send(request, reply, options.mapError?.(error) ?? problemFor(error, options.bodyBytesMax), error));
  app.setNotFoundHandler((request, reply) => send(request, reply, new HttpProblem('ROUTE_NOT_FOUND', `no route ${request.method} ${quotedUrl(request.url)}`)));

  if (options.corsOrigins !== undefined && options.corsOrigins.length > 0) installCors(app, options.corsOrigins);

  app.decorateRequest('principal', null);
  // Callback style: this runs for every request, and a promise per request is waste.
  app.addHook('onRequest', (request, _reply, done) => {
    if (guarded(request)) {
      const token = bearerToken(request.headers.authorization);
      request.principal = token === undefined ? null : (options.keys.authenticate(token) ?? null);
    }
    done();
  });
  const perKey = options.rateLimitPerSecond;
  // The limiter's store and counting, called from our own hook (not its per-route hooks, which
  // only reach routes registered after it), so the order above holds on every route.
  await app.register(rateLimit, { global: false, timeWindow: accessBounds.windowMs, cache: accessBounds.bucketsMax });
  const limit = app.createRateLimit({
    timeWindow: accessBounds.windowMs,
    keyGenerator: (request) => (request.principal === null ? `address:${request.ip}` : `key:${request.principal.keyId}`),
    max: (request) => (request.principal === null ? accessBounds.failedAuthPerSecond : perKey),
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!guarded(request)) return;
    const principal = request.principal;
    // RATE_LIMIT_PER_SECOND=0: an authenticated key is not limited; failed authentication always is.
    if (principal !== null && perKey === 0) return authorize(request, principal);
    const state = await limit(request);
    if (!state.isAllowed) {
      reply.header('ratelimit-limit', state.max).header('ratelimit-remaining', state.remaining).header('ratelimit-reset', state.ttlInSeconds);
      if (state.isExceeded) {
        reply.header('retry-after', state.ttlInSeconds);
        const who = principal === null
          ? `more than ${state.max} requests a second from this address without a valid API key`
          : `more than ${state.max} requests a second with API key ${principal.keyId} (RATE_LIMIT_PER_SECOND)`;
        throw new HttpProblem('RATE_LIMITED', `${who}; retry in ${state.ttlInSeconds} s`);
      }
    }
    if (principal === null) {
      const detail = request.headers.authorization === undefined ? 'send Authorization: Bearer <api key>' : 'the API key is malformed, unknown or revoked';
      throw new HttpProblem('UNAUTHENTICATED', detail);
    }
    authorize(request, principal);
  });

  const metrics = options.metrics;
  if (metrics !== undefined) {
    app.get('/metrics', async (_request, reply) => reply.type(metricsContentType).send(metrics.registry.render()));
    // By route template, never the raw URL, so the series stay bounded.
    app.addHook('onResponse', (request, reply, done) => {
      const status = statusClasses[Math.floor(reply.statusCode / 100)] ?? 'other';
      metrics.httpRequestSeconds.observe([request.routeOptions.url ?? 'unmatched', request.method, status], reply.elapsedTime / 1000);
      done();
    });
  }
}

/**
 * CORS for the listed origins only (CORS_ORIGINS): the allow headers on their answers, and the
 * preflight answered here (204) before routing needs a route for OPTIONS. Other origins get no
 * CORS headers, so browsers refuse to hand them the answers.
 */
function installCors(app: FastifyInstance, origins: readonly string[]): void {
  const allowed = new Set(origins);
  app.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin)) return done();
    reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
      reply
        .header('access-control-allow-methods', 'GET, POST, DELETE')
        .header('access-control-allow-headers', 'Authorization, Content-Type, Idempotency-Key')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
      return;
    }
    reply.header('access-control-expose-headers', 'Location, Retry-After, Idempotent-Replayed, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset');
    done();
  });
}

// Not encapsulated (what fastify-plugin does): the handlers and hooks apply to the whole app.
(edge as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
(edge as unknown as Record<symbol, string>)[Symbol.for('fastify.display-name')] = 'ledger-edge';

export const ledgerEdge = edge;
