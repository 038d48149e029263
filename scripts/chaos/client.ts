// A careful HTTP client of the gateway, as the fault campaign's users: every POST carries an
// Idempotency-Key, and a 5xx, a network error or a 202 is retried with the SAME key (the same
// command, applied at most once) with jittered backoff, within a bounded window. What it was
// finally told, and every attempt on the way, is recorded for the comparison with the ledger.

import { randomBytes } from 'node:crypto';

/**
 * The campaign's API key (DESIGN §9): the services it starts get it as LEDGER_ADMIN_KEY (keyId
 * `bootstrap`, so ids derive from that keyId) with RATE_LIMIT_PER_SECOND=0, so the limit never
 * shapes the load under test; every request carries it.
 */
export const chaosApiKey = process.env.LEDGER_ADMIN_KEY || `chaos-${randomBytes(32).toString('base64url')}`;
export const chaosKeyId = 'bootstrap';

/** Each HTTP attempt gives up after this long (the gateway answers within COMMAND_TIMEOUT_MS). */
export const attemptTimeoutMs = 15_000;
/** A request is retried at most this many times... */
export const attemptsMax = 25;
/** ...and not after this long since its first attempt: it stays unanswered. */
export const retryWindowMs = 45_000;
const backoffInitialMs = 100;
const backoffMaxMs = 2000;

export type Operation = 'open' | 'deposit' | 'withdraw' | 'transfer' | 'close' | 'hold' | 'capture' | 'void' | 'limit' | 'reverse' | 'invalid';

export interface Attempt {
  /** HTTP status, or 0 for a network error or timeout. */
  status: number;
  body: Record<string, unknown> | undefined;
  error?: string;
  atMs: number;
}

export interface RequestRecord {
  op: Operation;
  key: string;
  path: string;
  body: Record<string, unknown> | undefined;
  /** The ids the gateway derives from the key (gateway/README.md "Idempotency"). */
  accountId: string;
  commandId: string;
  transferId?: string;
  attempts: Attempt[];
  /** After settling, for a request left at 202: what GET /api/v1/commands/:id said. */
  resolution?: Attempt;
}

export const finalAttempt = (record: RequestRecord): Attempt | undefined => record.attempts[record.attempts.length - 1];

/** Retried: the gateway did not give a final answer (5xx, 202) or could not be reached. */
export const isRetriable = (status: number): boolean => status === 0 || status === 202 || status >= 500;

async function attempt(url: string, init: RequestInit): Promise<Attempt> {
  const atMs = Date.now();
  try {
    const headers = { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${chaosApiKey}` };
    const response = await fetch(url, { ...init, headers, signal: AbortSignal.timeout(attemptTimeoutMs) });
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text.length > 0 ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      body = { unparsable: text.slice(0, 200) };
    }
    return { status: response.status, body, atMs };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return { status: 0, body: undefined, error: cause ?? (error as Error).name, atMs };
  }
}

export interface ClientContext {
  /** The gateway's base URL, e.g. http://127.0.0.1:40123. */
  baseUrl: string;
  random: () => number;
}

/** Sends the request and retries it as a careful client would; returns it with its attempts. */
export async function sendCarefully(context: ClientContext, record: RequestRecord): Promise<RequestRecord> {
  const init: RequestInit = {
    method: 'POST',
    headers: { 'idempotency-key': record.key, ...(record.body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(record.body === undefined ? {} : { body: JSON.stringify(record.body) }),
  };
  const firstMs = Date.now();
  for (let n = 0; n < attemptsMax; n += 1) {
    const result = await attempt(`${context.baseUrl}${record.path}`, init);
    record.attempts.push(result);
    if (!isRetriable(result.status)) break;
    if (Date.now() - firstMs > retryWindowMs) break;
    const backoffMs = Math.min(backoffMaxMs, backoffInitialMs * 2 ** n);
    await new Promise((resolve) => setTimeout(resolve, backoffMs / 2 + context.random() * (backoffMs / 2)));
  }
  return record;
}

/** GET a URL as JSON within the attempt bound (status 0 when unreachable). */
export function getJson(url: string): Promise<Attempt> {
  return attempt(url, { method: 'GET' });
}
