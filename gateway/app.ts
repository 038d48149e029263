// buildApp(deps): the gateway's HTTP surface without listening, so tests drive it with inject().
// Every error leaves as problem+json with a code from the one registry, including fastify's own
// (body too large, media type, malformed JSON, schema validation, router limits, undecodable
// URLs, requests Node's HTTP parser refuses), and every route but the public ones needs an API
// key: the edge both services share (processors/http: errors.ts, edge.ts, plugin.ts).
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { decodeUtf8, foreignCharset } from '../processors/http/edge.ts';
import { HttpProblem, UnavailableError, problemContentType } from '../processors/http/errors.ts';
import type { ApiKeyDirectory } from '../processors/http/api-keys.ts';
import { ledgerEdge, serverOptionsFor, type EdgeOptions } from '../processors/http/plugin.ts';
import { apiKeyRoutes, type ApiKeyAdmin } from './api-key-routes.ts';
import { GatewayMetrics } from './metrics.ts';
import { docsRoutes, openApiDocument, serveDocs, type DocumentedRoute } from './openapi.ts';
import { commandRoutes, type RouteDeps } from './routes.ts';
import type { Reply } from './replies.ts';

export interface AppDeps extends Omit<RouteDeps, 'metrics'> {
  /** fastify's logger option: false in tests, pino options (JSON lines) in main. */
  log?: FastifyServerOptions['logger'];
  /** Shared with the adapters that record into it; a fresh one when absent. */
  metrics?: GatewayMetrics;
  /** The API keys this instance knows (DESIGN §9). */
  keys: ApiKeyDirectory;
  /** Writes API key records to <prefix>api-keys (the admin routes). */
  keyAdmin: ApiKeyAdmin;
}

export function buildApp(appDeps: AppDeps): FastifyInstance {
  const deps: RouteDeps = { ...appDeps, metrics: appDeps.metrics ?? new GatewayMetrics() };
  const edgeOptions: EdgeOptions = {
    bodyBytesMax: deps.config.bodyBytesMax,
    keys: appDeps.keys,
    rateLimitPerSecond: deps.config.rateLimitPerSecond,
    corsOrigins: deps.config.corsOrigins,
    metrics: deps.metrics,
    onProblem: logProblem,
  };
  const app = Fastify({
    logger: appDeps.log ?? false,
    logController: new RequestLogController(),
    bodyLimit: deps.config.bodyBytesMax,
    // We answer requests that arrive while closing ourselves, as problem+json (see onRequest).
    return503OnClosing: false,
    ...serverOptionsFor(edgeOptions),
    ajv: {
      // Reject, never repair: unknown fields are errors, "100" is not 100.
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false },
    },
  });
  installJsonParser(app, deps.config.bodyBytesMax);
  // Problems, authentication, rate limits and /metrics: the edge both services share.
  app.register(ledgerEdge, edgeOptions);
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Callback style, not async: this runs for every request, and a promise per request is waste.
  app.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    reply.header('connection', 'close');
    done(new UnavailableError('the gateway is shutting down'));
  });

  for (const route of commandRoutes) {
    app.route({
      method: route.method,
      url: route.url,
      schema: route.schema,
      // Only an absent body counts as {}: a JSON `null` is a body, and not an object.
      ...(route.emptyBodyAllowed ? { preValidation: async (request: FastifyRequest) => { if (request.body === undefined) request.body = {}; } } : {}),
      handler: async (request, reply) => write(reply, await route.handle(request, deps)),
    });
  }
  for (const route of apiKeyRoutes) {
    app.route({ method: route.method, url: route.url, schema: route.schema, config: { scope: 'admin' }, handler: async (request, reply) => write(reply, await route.handle(request, appDeps)) });
  }
  registerOperationalRoutes(app, deps);
  countTimeouts(app, deps.metrics);
  return app;
}

/** Requests answered 202 (no outcome in time), by route template (never the raw URL). */
function countTimeouts(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode === 202) metrics.commandTimeouts.inc([request.routeOptions.url ?? 'unmatched']);
    done();
  });
}

/**
 * fastify's per-request lines ("incoming request", "request completed") at debug instead of info:
 * at info they were two synchronous writes to stdout per request, the gateway's largest single
 * cost under load. /metrics counts and times every request instead; failed requests still log
 * at error, 503s at warn (sendProblem), and LOG_LEVEL=debug brings the access lines back.
 */
class RequestLogController extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (error) super.requestCompleted(error, request, reply);
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

/**
 * application/json only (anything else is 415), in UTF-8 only: a declared charset other than
 * UTF-8 is 415 too (edge.ts says why), and bytes that are not UTF-8 are 400, never U+FFFD.
 * An empty body is "no body".
 */
function installJsonParser(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (request, bytes, done) => {
    const charset = foreignCharset(request.headers['content-type']);
    if (charset !== undefined) {
      const detail = `the body declares charset=${charset.slice(0, 40)}; JSON is accepted in UTF-8 only (Content-Type: application/json; charset=utf-8)`;
      return done(new HttpProblem('UNSUPPORTED_MEDIA_TYPE', detail), undefined);
    }
    const text = decodeUtf8(bytes as Buffer);
    if (text === undefined) return done(new HttpProblem('VALIDATION_FAILED', 'the body is not valid UTF-8'), undefined);
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text, rejectPrototypeKeys));
    } catch (error) {
      done(new HttpProblem('VALIDATION_FAILED', `the body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
}

function rejectPrototypeKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new Error('the key "__proto__" is not allowed');
  return value;
}

function logProblem(request: FastifyRequest, problem: HttpProblem, cause: unknown): void {
  if (problem.code === 'INTERNAL_ERROR') request.log.error({ err: cause }, 'request failed');
  else if (problem.code === 'UNAVAILABLE') request.log.warn({ err: cause ?? problem }, 'answering 503');
}

function write(reply: FastifyReply, answer: Reply): FastifyReply {
  reply.code(answer.status).headers(answer.headers);
  if (answer.status >= 400) reply.type(problemContentType);
  return reply.send(answer.body);
}

const operationalRoutes: DocumentedRoute[] = [
  { method: 'GET', url: '/health', operationId: 'health', summary: 'The process is up', schema: {}, responses: { 200: ['up'] } },
  {
    method: 'GET', url: '/ready', operationId: 'ready', summary: 'The producer is connected and the outcome consumer runs',
    schema: {}, responses: { 200: ['ready'], 503: ['problem+json UNAVAILABLE, with checks'] },
  },
  ...docsRoutes,
];

function registerOperationalRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const document = openApiDocument([...commandRoutes, ...apiKeyRoutes, ...operationalRoutes]);
  app.get('/health', async () => ({ status: 'up' }));
  app.get('/ready', async (request, reply) => {
    const checks = { producer: deps.commandSink.ready(), outcomes: deps.outcomes.ready() };
    if (checks.producer && checks.outcomes) return { status: 'ready', checks };
    const waiting = Object.entries(checks).filter(([, ok]) => !ok).map(([name]) => name);
    const problem = new UnavailableError(`not ready: ${waiting.join(' and ')} not connected`);
    return reply.code(problem.status).type(problemContentType).send({ ...problem.toProblem(), checks });
  });
  serveDocs(app, document);
}
