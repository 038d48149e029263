// Seeded malformed requests for the HTTP edge of both services: every request made here is
// wrong in at least one way (bad JSON, wrong types, huge or odd path ids, odd headers, wrong
// content types, unicode oddities, too large bodies, wrong methods, bad query strings), so every
// answer must be a 4xx problem+json with a registered code. The same seed makes the same
// requests, so a failure names the seed that replays it.
import type { InjectOptions } from 'fastify';

/** mulberry32: small, fast and good enough to spread inputs; not for anything secret. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Dice {
  constructor(readonly random: () => number) {}
  int(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.random() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

export interface BadRequest {
  /** What is wrong with it, for the failure message. */
  why: string;
  options: InjectOptions;
}

const uuid = '6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f';

/** Path ids that are not UUIDs: too long for the router, badly escaped, unicode, near misses. */
export function oddPathId(dice: Dice): { id: string; why: string } {
  const choices: [string, () => string][] = [
    ['longer than the router allows', () => 'a'.repeat(dice.int(101, 4000))],
    ['a UUID over the router length', () => uuid.repeat(dice.int(3, 60))],
    ['a UUID with a trailing character', () => `${uuid}${dice.pick(['x', '0', '-', '%20', '%00'])}`],
    ['a bad percent escape', () => dice.pick(['%zz', '%', '%E2%82', `${uuid.slice(0, 30)}%g1`, '%C0%AF'])],
    ['an escaped NUL or slash', () => dice.pick(['%00', `${uuid}%00`, '..%2F..', '%2F', '%2e%2e'])],
    ['a UUID with a Cyrillic letter', () => encodeURIComponent(uuid.replace('a', '\u0430'))],
    ['a UUID behind a bidi override', () => encodeURIComponent(`\u202e${uuid}`)],
    ['fullwidth digits', () => encodeURIComponent('\uff16f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f')],
    ['an emoji', () => encodeURIComponent('\u{1f4b8}'.repeat(dice.int(1, 40)))],
    ['a lone surrogate, escaped', () => '%ED%A0%80'],
    ['an empty segment', () => ''],
    ['a braced UUID', () => `%7B${uuid}%7D`],
  ];
  const [why, make] = dice.pick(choices);
  return { id: make(), why: `path id: ${why}` };
}

/** What openapi.json says a POST route takes, enough to build a valid body to spoil. */
export interface PostRoute {
  path: string;
  body: { properties: Record<string, JsonSchema>; required: string[] };
  /** Every method the path has a route for. */
  methods?: string[];
}

interface JsonSchema {
  type?: string;
  pattern?: string;
  enum?: unknown[];
  minimum?: number;
  minLength?: number;
}

export function postRoutes(openApi: { paths: Record<string, Record<string, unknown>> }): PostRoute[] {
  const routes: PostRoute[] = [];
  for (const [path, operations] of Object.entries(openApi.paths)) {
    const post = operations.post as { requestBody?: { content: Record<string, { schema: PostRoute['body'] }> } } | undefined;
    if (post === undefined) continue;
    const schema = post.requestBody?.content['application/json']?.schema ?? { properties: {}, required: [] };
    routes.push({ path, body: { properties: schema.properties ?? {}, required: schema.required ?? [] }, methods: Object.keys(operations).map((m) => m.toUpperCase()) });
  }
  return routes;
}

function validValue(schema: JsonSchema): unknown {
  if (schema.enum !== undefined) return schema.enum.includes('EUR') ? 'EUR' : schema.enum[0];
  if (schema.type === 'integer') return Math.max(1, schema.minimum ?? 1);
  if (schema.pattern?.includes('[0-9a-fA-F]{8}')) return uuid;
  if (schema.pattern?.includes('[A-Z]{3}')) return 'EUR';
  return 'Ada';
}

export function validBody(route: PostRoute): Record<string, unknown> {
  return Object.fromEntries(Object.entries(route.body.properties).map(([name, schema]) => [name, validValue(schema)]));
}

const wrongForInteger = ['1', 1.5, -1, null, true, [], {}, 1e300, 'NaN', -0.5, 9007199254740993];
const wrongForString = [1, null, true, [], {}, 0.5, ['Ada']];
const oddText = [
  'Ada\u0000', '\u0000', 'A\u0007da', 'Ada\u001b[31m', 'Ada\u007f', 'Ada\u0085', 'Ada\u009b', '\u202eadA', 'Ada\u200f',
  'Ada\u061c', '\u2066Ada\u2069', 'Ada\u202a', 'A\nda', 'Ada\r', 'Ada\t', '\ud800Ada', 'Ada\udfff', '\u2028', 'Ada\u2029',
];
const oddCurrency = ['\u0415UR', '\uff25\uff35\uff32', 'EUR\u0000', 'eur', 'EUR ', 'E\u200fUR', 'XYZ', 'ABC', 'QQQ', 'EU', 'EURO'];

/** A well-formed hold id: only the account id (or the body, or the headers) is what is wrong. */
const holdUuid = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const pathWith = (route: PostRoute, id: string): string => route.path.replace('{id}', id).replace('{holdId}', holdUuid);

function jsonRequest(url: string, payload: string | Buffer, headers: Record<string, string> = {}, method: InjectOptions['method'] = 'POST'): InjectOptions {
  return { method, url, payload, headers: { 'content-type': 'application/json', 'idempotency-key': 'fuzz', ...headers } };
}

type Mutation = (dice: Dice, route: PostRoute, body: Record<string, unknown>) => BadRequest;

const badJson: Mutation = (dice, route, body) => {
  const text = JSON.stringify(body);
  const spoilers: [string, () => string][] = [
    ['truncated JSON', () => text.slice(0, dice.int(1, text.length - 1))],
    ['trailing garbage', () => `${text}${dice.pick(['}', ',', 'x', ' []', '\u0000'])}`],
    ['single quotes', () => (text.includes('"') ? text.replace(/"/g, "'") : "{'x':1}")],
    ['a trailing comma', () => text.replace(/}$/, ',}')],
    ['a comment', () => `/* c */${text}`],
    ['NaN', () => '{"amount":NaN}'],
    ['a bare word', () => dice.pick(['undefined', 'True', 'nul', '{a:1}'])],
    ['a byte-order mark', () => `\ufeff${text}`],
    ['random bytes', () => String.fromCharCode(...Array.from({ length: dice.int(1, 64) }, () => dice.int(0, 255)))],
    ['a JSON scalar', () => dice.pick(['1', '"text"', 'null', 'true', '[]', '[{}]'])],
  ];
  const [why, make] = dice.pick(spoilers);
  return { why, options: jsonRequest(pathWith(route, uuid), make()) };
};

const wrongType: Mutation = (dice, route, body) => {
  const names = Object.keys(route.body.properties);
  const choice = dice.int(0, 2);
  if (names.length === 0 || choice === 0) {
    const extra = dice.pick(['x', 'admin', 'constructor', '\u202e', 'amount ']);
    return { why: `an unknown field ${JSON.stringify(extra)}`, options: jsonRequest(pathWith(route, uuid), JSON.stringify({ ...body, [extra]: 1 })) };
  }
  const name = dice.pick(names);
  if (choice === 1 && route.body.required.includes(name)) {
    const { [name]: _dropped, ...rest } = body;
    return { why: `missing ${name}`, options: jsonRequest(pathWith(route, uuid), JSON.stringify(rest)) };
  }
  const value = dice.pick(route.body.properties[name]?.type === 'integer' ? wrongForInteger : wrongForString);
  return { why: `${name} = ${JSON.stringify(value)}`, options: jsonRequest(pathWith(route, uuid), JSON.stringify({ ...body, [name]: value })) };
};

const oddPath: Mutation = (dice, route, body) => {
  if (!route.path.includes('{id}')) {
    const suffix = dice.pick(['/x', `/${'a'.repeat(dice.int(100, 3000))}`, '/%zz', '%00', '/..%2Faccounts']);
    return { why: `a path past the route: ${suffix.slice(0, 20)}`, options: jsonRequest(`${route.path}${suffix}`, JSON.stringify(body)) };
  }
  const { id, why } = oddPathId(dice);
  return { why, options: jsonRequest(pathWith(route, id), JSON.stringify(body)) };
};

const oddHeaders: Mutation = (dice, route, body) => {
  const spoilers: [string, Record<string, string>][] = [
    ['an empty Idempotency-Key', { 'idempotency-key': '' }],
    ['a long Idempotency-Key', { 'idempotency-key': 'k'.repeat(dice.int(256, 4000)) }],
    ['a non-ASCII Idempotency-Key', { 'idempotency-key': dice.pick(['caf\u00e9', '\u202ekey', 'k\u0085', 'clé']) }],
    ['a control character in the Idempotency-Key', { 'idempotency-key': dice.pick(['k\u0001', '\u007f', 'a\tb']) }],
    ['a latin1 charset', { 'content-type': dice.pick(['application/json; charset=latin1', 'application/json; charset=ISO-8859-1', 'application/json;charset=windows-1252']) }],
    ['a UTF-16 charset', { 'content-type': dice.pick(['application/json; charset=utf-16', 'application/json; charset=UTF-16LE']) }],
    ['a bogus charset', { 'content-type': dice.pick(['application/json; charset=', 'application/json; charset=klingon', 'application/json; charset="utf-7"']) }],
  ];
  const [why, headers] = dice.pick(spoilers);
  return { why, options: jsonRequest(pathWith(route, uuid), JSON.stringify(body), headers) };
};

const wrongContentType: Mutation = (dice, route, body) => {
  const type = dice.pick(['text/plain', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/jsonx', 'application/json-seq', '*/*', 'json', 'text/json', 'application/problem+json', '']);
  const options = jsonRequest(pathWith(route, uuid), JSON.stringify(body));
  const headers = { ...(options.headers as Record<string, string>) };
  if (type === '') delete headers['content-type'];
  else headers['content-type'] = type;
  return { why: `content type ${JSON.stringify(type)}`, options: { ...options, headers } };
};

const unicodeOddity: Mutation = (dice, route, body) => {
  const strings = Object.entries(route.body.properties).filter(([, schema]) => schema.type === 'string').map(([name]) => name);
  if (strings.length === 0 || dice.int(0, 3) === 0) {
    // Invalid UTF-8 inside a JSON string: it must not turn into U+FFFD silently.
    const text = JSON.stringify({ ...body, ...(strings.length > 0 ? { [strings[0]!]: 'Ada' } : { x: 'Ada' }) });
    const cut = text.indexOf('Ada') + 1;
    const bytes = Buffer.concat([Buffer.from(text.slice(0, cut)), Buffer.from([dice.pick([0xff, 0xc0, 0xed, 0x80, 0xfe])]), Buffer.from(text.slice(cut))]);
    return { why: 'invalid UTF-8 bytes in a string', options: jsonRequest(pathWith(route, uuid), bytes) };
  }
  const name = dice.pick(strings);
  const schema = route.body.properties[name]!;
  const value = schema.pattern?.includes('[0-9a-fA-F]{8}') ? uuid.replace('e', dice.pick(['\u0435', '\u0000', '\u202e', '\uff45'])) : name === 'currency' ? dice.pick(oddCurrency) : dice.pick(oddText);
  return { why: `${name} = ${JSON.stringify(value)}`, options: jsonRequest(pathWith(route, uuid), JSON.stringify({ ...body, [name]: value })) };
};

const tooLarge: Mutation = (dice, route, body) => {
  const padding = 'p'.repeat(dice.int(16 * 1024, 64 * 1024));
  return { why: 'a body over 16 KiB', options: jsonRequest(pathWith(route, uuid), JSON.stringify({ ...body, padding })) };
};

const wrongMethod: Mutation = (dice, route, body) => {
  // Only methods the path has no route for (POST /api-keys shares its path with GET).
  const method = dice.pick((['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'GET'] as const).filter((m) => !(route.methods ?? []).includes(m)));
  return { why: `method ${method}`, options: jsonRequest(pathWith(route, uuid), method === 'GET' ? '' : JSON.stringify(body), {}, method) };
};

const mutations: Mutation[] = [badJson, wrongType, oddPath, oddHeaders, wrongContentType, unicodeOddity, tooLarge, wrongMethod];

/** `count` malformed requests spread over the POST routes. */
export function badPostRequests(dice: Dice, routes: PostRoute[], count: number): BadRequest[] {
  return Array.from({ length: count }, (_, n) => {
    const route = routes[n % routes.length]!;
    const { why, options } = dice.pick(mutations)(dice, route, validBody(route));
    return { why: `${route.path}: ${why}`, options };
  });
}

/** The query service's GET routes (DESIGN §6), with `{id}` where an account or transfer id goes. */
export const queryGetRoutes = ['/api/v1/accounts', '/api/v1/accounts/{id}', '/api/v1/accounts/{id}/balance', '/api/v1/accounts/{id}/history', '/api/v1/accounts/{id}/statement', '/api/v1/transfers/{id}'];

const badQueries: Record<string, string[]> = {
  limit: ['0', '1001', 'abc', '2.5', '-1', '', '1e3x', '99999999999999999999', '%zz', '1&limit=2'],
  minVersion: ['0', '-1', 'x', '1.5', '1e400', '', '%00', '9007199254740993', '1&minVersion=2'],
  cursor: ['!!!', 'a'.repeat(5000), '%zz', '', 'eyJ2IjoxfQ==', '\u202e'],
  asOf: ['yesterday', '2024-02-30', '2024-01-01T24:00:00Z', '2024-01-01T10:00', '', '%zz', '1e400', '0', '1969-12-31', '2024-01-01&asOf=2024-01-02'],
  from: ['soon', '2024-13-01', '%00', '2024-01-01T00:00:00+25:00', '9999999-01-01', '2024-02-01&to=2024-01-01'],
  type: ['Deposit', 'MoneyDeposited,', ',', 'moneydeposited', '%zz', 'A'.repeat(3000), 'MoneyDeposited&type=AccountOpened'],
  ownerName: ['', 'x'.repeat(201), 'a&ownerName=b'],
  status: ['open', 'ACTIVE', '', 'OPEN&status=CLOSED'],
  currency: ['EURO', 'E1R', '', '€€€'],
  'metadata.': ['x', ''],
  'metadata.k': ['v'.repeat(501), 'a&metadata.k=b'],
  format: ['xml', 'CSV', ''],
};

/** `count` malformed GETs over the query routes: odd path ids, bad query strings, wrong methods. */
export function badQueryRequests(dice: Dice, count: number): BadRequest[] {
  return Array.from({ length: count }, (_, n) => {
    const route = queryGetRoutes[n % queryGetRoutes.length]!;
    const hasId = route.includes('{id}');
    const kind = dice.int(0, 2);
    if (kind === 0 && hasId) {
      const { id, why } = oddPathId(dice);
      const headers = dice.int(0, 1) === 0 ? {} : { 'content-type': dice.pick(['text/plain', 'application/json; charset=latin1', 'x/y']) };
      return { why: `${route}: ${why}`, options: { method: 'GET', url: route.replace('{id}', id), headers } };
    }
    if (kind === 1 || !hasId) {
      const names = route.endsWith('/history') ? ['limit', 'minVersion', 'cursor', 'from', 'type']
        : route === '/api/v1/accounts' ? ['limit', 'cursor', 'ownerName', 'status', 'currency', 'metadata.', 'metadata.k']
        : route.endsWith('/balance') ? ['minVersion', 'asOf']
        : route.endsWith('/statement') ? ['minVersion', 'from', 'format']
        : route.endsWith('transfers/{id}') ? [] : ['minVersion'];
      if (names.length > 0) {
        const name = dice.pick(names);
        const value = dice.pick(badQueries[name]!);
        const url = `${route.replace('{id}', uuid)}?${name}=${value.startsWith('%') || value.includes('&') ? value : encodeURIComponent(value)}`;
        return { why: `${route}: ${name}=${value.slice(0, 20)}`, options: { method: 'GET', url } };
      }
    }
    const method = dice.pick(['POST', 'PUT', 'DELETE', 'PATCH'] as const);
    const payload = dice.pick(['{"a":1}', '{bad', 'x'.repeat(dice.int(0, 2048))]);
    const headers = { 'content-type': dice.pick(['application/json', 'text/plain', 'application/json; charset=latin1']) };
    return { why: `${route}: method ${method}`, options: { method, url: route.replace('{id}', uuid), payload, headers } };
  });
}
