// An OpenAPI 3.1 document built from the same route specs fastify validates with (3.1 schemas are
// JSON Schema, so they are embedded as they are), plus the error registry: no second source.
import { errorRegistry } from '../processors/http/errors.ts';
import { problemSchema } from './http-schemas.ts';
import type { RouteSpec } from './routes.ts';

type JsonObject = Record<string, unknown>;

interface ObjectSchema {
  properties?: Record<string, object>;
  required?: readonly string[];
}

/** Routes without a handler spec of their own (health, readiness, docs), documented alike. */
export interface DocumentedRoute {
  method: 'GET' | 'POST';
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
    components: { schemas: { Problem: problemSchema } },
    'x-error-codes': errorRegistry,
  };
}
