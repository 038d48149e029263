// The admin routes of DESIGN §9 (scope `admin`): create, list and revoke API keys. A key is
// shown once, in the 201 of its creation; <prefix>api-keys stores only its SHA-256. Each write
// is applied to this instance's directory as soon as Kafka acknowledged it, so the new key (or
// the revocation) works here at once; the other instances follow the topic within seconds.
import type { FastifyRequest } from 'fastify';
import type { ApiKeyRecord } from '../schemas/api-key.ts';
import { apiKeyBounds, mintApiKey, scopes, type ApiKeyDirectory, type Scope } from '../processors/http/api-keys.ts';
import { HttpProblem, UnavailableError, isRetriable, kafkaUnavailable, problemSchema } from '../processors/http/errors.ts';
import type { Reply } from './replies.ts';

/** Writes API key records (latest per keyId wins) to the key topic. */
export interface ApiKeyAdmin {
  /** Resolves once Kafka acknowledged the record; rejects (retriable) when it cannot. */
  publish(record: ApiKeyRecord): Promise<void>;
}

export interface ApiKeyRouteDeps {
  keys: ApiKeyDirectory;
  keyAdmin: ApiKeyAdmin;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** Printable text, at least one non-blank character; no control or bidi characters (as ownerName). */
const namePattern = '^(?!\\s*$)[^\\p{Cc}\\p{Cs}\\u061C\\u200E\\u200F\\u202A-\\u202E\\u2066-\\u2069\\u2028\\u2029]+$';

export const createApiKeyBody = {
  type: 'object',
  required: ['name', 'scopes'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: apiKeyBounds.nameLengthMin, maxLength: apiKeyBounds.nameLengthMax, pattern: namePattern, description: 'who or what uses the key' },
    scopes: {
      type: 'array', minItems: 1, maxItems: scopes.length, uniqueItems: true, items: { enum: scopes },
      description: 'read (GET routes), write (POST command routes), admin (key management; implies read and write)',
    },
  },
} as const;

export const keyIdParams = {
  type: 'object',
  required: ['keyId'],
  additionalProperties: false,
  properties: { keyId: { type: 'string', pattern: '^[A-Za-z0-9]{1,64}$', description: 'the key\'s id (lk_<keyId>_...)' } },
} as const;

const timestamp = { type: ['string', 'null'], format: 'date-time' } as const;
const keySummary = {
  type: 'object',
  properties: { keyId: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } }, createdAt: timestamp, revokedAt: timestamp },
} as const;

export interface ApiKeyRouteSpec {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  operationId: string;
  summary: string;
  schema: { body?: object; params?: object };
  responses: Record<number, [string, object?]>;
  handle(request: FastifyRequest, deps: ApiKeyRouteDeps): Promise<Reply>;
}

async function publish(deps: ApiKeyRouteDeps, record: ApiKeyRecord): Promise<void> {
  try {
    await deps.keyAdmin.publish(record);
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    if (isRetriable(error)) throw kafkaUnavailable(error);
    throw error;
  }
  deps.keys.apply(record);
}

async function createKey(request: FastifyRequest, deps: ApiKeyRouteDeps): Promise<Reply> {
  const body = request.body as { name: string; scopes: Scope[] };
  if (deps.keys.full()) throw new HttpProblem('VALIDATION_FAILED', `the ledger already holds ${deps.keys.size} API keys, the most it allows`);
  const { key, record } = mintApiKey(body.name, body.scopes, Date.now());
  await publish(deps, record);
  return { status: 201, body: { keyId: record.keyId, key, name: record.name, scopes: record.scopes, createdAt: iso(record.createdAt) }, headers: {} };
}

async function listKeys(_request: FastifyRequest, deps: ApiKeyRouteDeps): Promise<Reply> {
  const items = deps.keys.list().map((k) => ({ keyId: k.keyId, name: k.name, scopes: k.scopes, createdAt: iso(k.createdAt), revokedAt: iso(k.revokedAt) }));
  return { status: 200, body: { items }, headers: {} };
}

/** Revoking twice answers the first revocation's time: the key stays revoked, nothing is rewritten. */
async function revokeKey(request: FastifyRequest, deps: ApiKeyRouteDeps): Promise<Reply> {
  const keyId = (request.params as { keyId: string }).keyId.toLowerCase();
  const known = deps.keys.get(keyId);
  if (known === undefined) throw new HttpProblem('API_KEY_NOT_FOUND', `no API key has the id ${keyId}`);
  let revokedAt = known.revokedAt;
  if (revokedAt === null) {
    revokedAt = Date.now();
    await publish(deps, { ...known, revokedAt });
  }
  return { status: 200, body: { keyId, revokedAt: iso(revokedAt) }, headers: {} };
}

const problem = (codes: string): [string, object] => [`problem+json: ${codes}`, problemSchema];
const guarded = { 401: problem('UNAUTHENTICATED'), 403: problem('FORBIDDEN (the admin scope is needed)'), 429: problem('RATE_LIMITED') };

export const apiKeyRoutes: ApiKeyRouteSpec[] = [
  {
    method: 'POST', url: '/api/v1/api-keys', operationId: 'createApiKey', summary: 'Create an API key (admin); the key is shown only in this answer',
    schema: { body: createApiKeyBody },
    responses: {
      201: ['created', { type: 'object', properties: { ...keySummary.properties, key: { type: 'string', description: 'lk_<keyId>_<secret>: keep it, it is never shown again' } } }],
      400: problem('VALIDATION_FAILED'), ...guarded, 503: problem('UNAVAILABLE'),
    },
    handle: createKey,
  },
  {
    method: 'GET', url: '/api/v1/api-keys', operationId: 'listApiKeys', summary: 'List API keys, revoked ones included (admin)',
    schema: {},
    responses: { 200: ['the keys', { type: 'object', properties: { items: { type: 'array', items: keySummary } } }], ...guarded },
    handle: listKeys,
  },
  {
    method: 'DELETE', url: '/api/v1/api-keys/:keyId', operationId: 'revokeApiKey', summary: 'Revoke an API key (admin); every instance refuses it within 5 s',
    schema: { params: keyIdParams },
    responses: {
      200: ['revoked', { type: 'object', properties: { keyId: { type: 'string' }, revokedAt: timestamp } }],
      400: problem('VALIDATION_FAILED'), 404: problem('API_KEY_NOT_FOUND'), ...guarded, 503: problem('UNAVAILABLE'),
    },
    handle: revokeKey,
  },
];
