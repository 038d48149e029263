// An OpenAPI 3.1 document built from the same route specs fastify validates with (3.1 schemas are
// JSON Schema, so they are embedded as they are), plus the error registry: no second source.
// Both HTTP services use it: the gateway's commands and the query processor's reads (their own
// title and description; processors/query/openapi.ts).
import type { FastifyInstance } from 'fastify';
import { errorRegistry } from '../processors/http/errors.ts';
import { isPublicRoute } from '../processors/http/plugin.ts';
import { problemSchema } from './http-schemas.ts';
import type { RouteSpec } from './routes.ts';

type JsonObject = Record<string, unknown>;

interface ObjectSchema {
  properties?: Record<string, object>;
  required?: readonly string[];
}

/** Routes without a handler spec of their own (health, readiness, docs), documented alike. */
export interface DocumentedRoute {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  description?: string;
  schema: RouteSpec['schema'] & { querystring?: object };
  /** Status → [description, schema, media types of a success (default application/json)]. */
  responses: Record<number, [string, object?, string[]?]>;
  emptyBodyAllowed?: boolean;
}

export interface ApiInfo {
  title: string;
  description: string;
}

const gatewayInfo: ApiInfo = {
  title: 'kafka-ledger gateway',
  description:
    'Commands in, outcomes out. Money is integer minor units. Send an Idempotency-Key on every POST to make retries safe; ' +
    'a replayed answer carries Idempotent-Replayed: true. Errors are application/problem+json; their codes are listed under x-error-codes and at /docs/errors.',
};

function parameters(schema: object | undefined, location: 'path' | 'header' | 'query'): JsonObject[] {
  const { properties = {}, required = [] } = (schema ?? {}) as ObjectSchema;
  return Object.entries(properties).map(([name, property]) => ({
    name: location === 'header' ? headerName(name) : name,
    in: location,
    required: location === 'path' || required.includes(name),
    schema: property,
  }));
}

/** `idempotency-key` → `Idempotency-Key`, as clients write it. */
const headerName = (name: string): string => name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());

function operation(route: DocumentedRoute): JsonObject {
  const responses: JsonObject = {};
  for (const [status, [description, schema, mediaTypes = ['application/json']]] of Object.entries(route.responses)) {
    const types = Number(status) >= 400 ? ['application/problem+json'] : mediaTypes;
    responses[status] = schema === undefined ? { description } : { description, content: Object.fromEntries(types.map((type) => [type, { schema }])) };
  }
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    // DESIGN §9: every route but the public ones needs a bearer API key.
    ...(isPublicRoute(route.url) ? { security: [] } : {}),
    parameters: [...parameters(route.schema.params, 'path'), ...parameters(route.schema.querystring, 'query'), ...parameters(route.schema.headers, 'header')],
    responses,
  };
  if (route.schema.body !== undefined) {
    op.requestBody = { required: route.emptyBodyAllowed !== true, content: { 'application/json': { schema: route.schema.body } } };
  }
  return op;
}

export function openApiDocument(routes: DocumentedRoute[], info: ApiInfo = gatewayInfo): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: { title: info.title, version: '1', description: info.description },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer lk_<keyId>_<secret> (or LEDGER_ADMIN_KEY). Missing, malformed, unknown or revoked: 401 UNAUTHENTICATED; ' +
            'a key without the route\'s scope (read: GET, write: POST commands, admin: API keys): 403 FORBIDDEN; over the rate limit: 429 RATE_LIMITED',
        },
      },
    },
    security: [{ apiKey: [] }],
    'x-error-codes': errorRegistry,
  };
}

/**
 * GET /docs and /docs/openapi.json (the document), /docs/errors (every code with its status and
 * title): the same on both services, and public (isPublicRoute). /metrics is served by the edge.
 */
export function serveDocs(app: FastifyInstance, document: JsonObject): void {
  app.get('/docs', async () => document);
  app.get('/docs/openapi.json', async () => document);
  app.get('/docs/errors', async () => ({
    codes: Object.entries(errorRegistry).map(([code, { status, title }]) => ({ code, status, title })),
  }));
}

/** The operational routes both services document alike. */
export const docsRoutes: DocumentedRoute[] = [
  { method: 'GET', url: '/metrics', operationId: 'metrics', summary: 'Prometheus metrics (text format 0.0.4)', schema: {}, responses: { 200: ['metrics'] } },
  { method: 'GET', url: '/docs', operationId: 'openApi', summary: 'This OpenAPI document (also at /docs/openapi.json)', schema: {}, responses: { 200: ['OpenAPI 3.1'] } },
  { method: 'GET', url: '/docs/errors', operationId: 'errorCodes', summary: 'Every error code with its status and title', schema: {}, responses: { 200: ['codes'] } },
];
