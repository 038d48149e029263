// An OpenAPI 3.1 document built from the same route specs fastify validates with (3.1 schemas are
// JSON Schema, so they are embedded as they are), plus the error registry: no second source.
import { errorRegistry } from '../processors/http/errors.ts';
import { problemSchema } from './http-schemas.ts';
import type { RouteSpec } from './routes.ts';
import { isPublicRoute } from '../processors/http/plugin.ts';

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
  schema: RouteSpec['schema'];
  responses: RouteSpec['responses'];
  emptyBodyAllowed?: boolean;
}

function parameters(schema: object | undefined, location: 'path' | 'header'): JsonObject[] {
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
  for (const [status, [description, schema]] of Object.entries(route.responses)) {
    const mediaType = Number(status) >= 400 ? 'application/problem+json' : 'application/json';
    responses[status] = schema === undefined ? { description } : { description, content: { [mediaType]: { schema } } };
  }
  const op: JsonObject = {
    operationId: route.operationId,
    summary: route.summary,
    // DESIGN §9: every route but the public ones needs a bearer API key.
    ...(isPublicRoute(route.url) ? { security: [] } : {}),
    parameters: [...parameters(route.schema.params, 'path'), ...parameters(route.schema.headers, 'header')],
    responses,
  };
  if (route.schema.body !== undefined) {
    op.requestBody = { required: route.emptyBodyAllowed !== true, content: { 'application/json': { schema: route.schema.body } } };
  }
  return op;
}

export function openApiDocument(routes: DocumentedRoute[]): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'kafka-ledger gateway',
      version: '1',
      description:
        'Commands in, outcomes out. Money is integer minor units. Send an Idempotency-Key on every POST to make retries safe; ' +
        'a replayed answer carries Idempotent-Replayed: true. Errors are application/problem+json; their codes are listed under x-error-codes and at /docs/errors.',
    },
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
