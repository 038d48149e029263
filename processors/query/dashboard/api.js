// The dashboard's one door to the query API. Every call carries the API key in the Authorization
// header: never in a URL (which ends up in logs and history), never logged. A 401 or 403 forgets
// the key and asks for one again (the handler app.js installs).

const keyName = 'kafka-ledger.apiKey';
/** A call that takes longer than this is abandoned with a message, not left spinning. */
export const requestTimeoutMs = 15_000;

export class ApiError extends Error {
  constructor(status, code, detail) {
    super(`${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

/** A 401 (no valid key) or 403 (the key lacks the scope). */
export class AuthError extends ApiError {}

export const storedKey = () => sessionStorage.getItem(keyName);
export const storeKey = (key) => sessionStorage.setItem(keyName, key);
export const forgetKey = () => sessionStorage.removeItem(keyName);

let refused = () => undefined;
/** `handler(error)` runs when the service refuses the key. */
export function onRefused(handler) {
  refused = handler;
}

export const authHeaders = () => ({ authorization: `Bearer ${storedKey() ?? ''}` });

async function problemOf(response) {
  try {
    const body = await response.json();
    return { code: String(body.code ?? response.status), detail: String(body.detail ?? body.title ?? '') };
  } catch {
    return { code: String(response.status), detail: response.statusText };
  }
}

/** Throws AuthError for 401/403 (after telling the handler), ApiError for any other refusal. */
export async function checked(response) {
  if (response.ok) return response;
  const { code, detail } = await problemOf(response);
  if (response.status === 401 || response.status === 403) {
    const error = new AuthError(response.status, code, detail);
    refused(error);
    throw error;
  }
  throw new ApiError(response.status, code, detail);
}

export async function request(path, { accept = 'application/json' } = {}) {
  if (storedKey() === null) throw new AuthError(401, 'UNAUTHENTICATED', 'no API key given');
  const response = await fetch(path, { headers: { ...authHeaders(), accept }, cache: 'no-store', signal: AbortSignal.timeout(requestTimeoutMs) });
  return checked(response);
}

export const getJson = async (path) => (await request(path)).json();

/** A query string from the defined values only. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}
