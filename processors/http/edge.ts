// What both HTTP services (gateway, query processor) share at the edge, so that every answer,
// the framework's own included, is problem+json with a code from the one registry: the mapping
// of fastify's errors, the answers fastify gives before any route runs (router limits,
// undecodable URLs) and the ones Node's HTTP parser gives on the raw socket; and the one spelling
// of ids before they are hashed to a partition or looked up.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { HttpProblem, problemContentType, type ErrorCode } from './errors.ts';

/** UUIDs are case-insensitive; ids are keys (partitions, stores), so one spelling only. */
export const canonicalId = (id: string): string => id.toLowerCase();

/** Named bounds of the edge itself. */
export const edgeBounds = {
  /**
   * Longest path segment the router matches (fastify's default). Every path id is a UUID (36
   * characters), so anything longer is a bad id, answered 400 VALIDATION_FAILED.
   */
  pathParamLengthMax: 100,
  /** How much of a client's URL a detail quotes back: enough to recognise it, never 4 KB of it. */
  echoedUrlLengthMax: 120,
} as const;

/** The request's URL as a detail may quote it: shortened, and JSON-safe by construction. */
export function quotedUrl(url: string): string {
  return url.length <= edgeBounds.echoedUrlLengthMax ? url : `${url.slice(0, edgeBounds.echoedUrlLengthMax)}… (${url.length} characters)`;
}

/** fastify's errors and ours, as one of the registry's codes. 4xx stay 4xx; nothing else is a 500 by accident. */
export function problemFor(error: FastifyError, bodyBytesMax: number): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error.validation !== undefined) return new HttpProblem('VALIDATION_FAILED', error.message);
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || status === 413) {
    return new HttpProblem('PAYLOAD_TOO_LARGE', `the body is larger than ${bodyBytesMax} bytes`);
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || status === 415) {
    return new HttpProblem('UNSUPPORTED_MEDIA_TYPE', 'send the body as Content-Type: application/json (UTF-8)');
  }
  if (status === 404) return new HttpProblem('ROUTE_NOT_FOUND', error.message);
  if (status >= 400 && status < 500) return new HttpProblem('VALIDATION_FAILED', error.message);
  return new HttpProblem('INTERNAL_ERROR', 'the service failed unexpectedly; the error is logged');
}

/** Answers fastify gives before routing (its `frameworkErrors` option), as problems. */
export function frameworkProblem(error: FastifyError): HttpProblem {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpProblem('VALIDATION_FAILED', `a path id is longer than ${edgeBounds.pathParamLengthMax} characters; ids are UUIDs`);
    case 'FST_ERR_BAD_URL':
      return new HttpProblem('VALIDATION_FAILED', 'the URL path is not valid percent-encoded UTF-8');
    default:
      return new HttpProblem('INTERNAL_ERROR', 'the service failed unexpectedly; the error is logged');
  }
}

export type SendProblem = (request: FastifyRequest, reply: FastifyReply, problem: HttpProblem, cause?: unknown) => FastifyReply;

/** Server options both services take: router limits and the framework's own answers as problems. */
export function edgeServerOptions(sendProblem: SendProblem): Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler' | 'routerOptions'> {
  return {
    routerOptions: { maxParamLength: edgeBounds.pathParamLengthMax },
    frameworkErrors: (error, request, reply) => void sendProblem(request, reply, frameworkProblem(error), error),
    clientErrorHandler: answerClientError,
  };
}

/** A refusal the HTTP parser makes, with the code and detail the client gets. */
function clientErrorProblem(error: NodeJS.ErrnoException): { code: ErrorCode; detail: string } {
  if (error.code === 'HPE_HEADER_OVERFLOW') return { code: 'VALIDATION_FAILED', detail: 'the request headers are too large' };
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return { code: 'VALIDATION_FAILED', detail: 'the request did not arrive in time' };
  return { code: 'VALIDATION_FAILED', detail: 'the request is not valid HTTP/1.1' };
}

/**
 * Node's HTTP parser refused the request before fastify saw it (a control character in a
 * header, a broken request line): answer on the raw socket, as fastify's default does, but with
 * a problem body. Nothing was routed, so nothing is logged beyond what the parser knows.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has no one to answer (fastify's default does the same).
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const { code, detail } = clientErrorProblem(error);
    const problem = new HttpProblem(code, detail);
    const body = JSON.stringify(problem.toProblem());
    socket.write(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status]}\r\nConnection: close\r\nContent-Type: ${problemContentType}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/**
 * The charset of a JSON body: RFC 8259 §8.1 says JSON between systems is UTF-8. A body that
 * declares any other charset is refused rather than decoded as UTF-8 (which would silently turn
 * latin1 "é" into U+FFFD) or transcoded (one more decoder to trust). Returns the declared
 * charset when it is not UTF-8, undefined when the body is acceptable.
 */
export function foreignCharset(contentType: string | undefined): string | undefined {
  if (contentType === undefined) return undefined;
  for (const parameter of contentType.split(';').slice(1)) {
    const [name = '', ...rest] = parameter.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = rest.join('=').trim().replace(/^"(.*)"$/, '$1');
    if (!utf8Names.has(charset.toLowerCase())) return charset;
  }
  return undefined;
}

/** The IANA name and its common alias. */
const utf8Names = new Set(['utf-8', 'utf8']);

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The body's text, or undefined when its bytes are not valid UTF-8 (never replaced by U+FFFD). */
export function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}
