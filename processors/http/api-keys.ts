// API keys of DESIGN §9, without I/O: their format (`lk_<keyId>_<secret>`), their hash, scopes,
// and the in-memory directory every gateway and query instance keeps of <prefix>api-keys. Only a
// SHA-256 of the whole key is ever stored or held; a presented key is hashed and compared with
// crypto.timingSafeEqual, so the time an answer takes says nothing about how much of a key matched.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord } from '../../schemas/api-key.ts';

export const scopes = ['read', 'write', 'admin'] as const;
export type Scope = (typeof scopes)[number];

/** Named bounds of the key directory and of keys. */
export const apiKeyBounds = {
  /** keyIds minted here: 16 characters of [a-z0-9] (DESIGN: 12 or more). */
  keyIdLength: 16,
  keyIdLengthMin: 12,
  /** A keyId is a record key and a log field: long enough, never unbounded. */
  keyIdLengthMax: 64,
  /** Random bytes of a secret (DESIGN: at least 32), base64url in the key. */
  secretBytes: 32,
  nameLengthMin: 1,
  nameLengthMax: 200,
  /**
   * Keys (live and revoked) one instance holds at most; about 300 bytes each. A topic with more
   * is a misuse: the extra keys are ignored and logged, and the admin route refuses new ones.
   */
  keysMax: 100_000,
  /** LEDGER_ADMIN_KEY: any 32–255 printable characters (DESIGN §9). */
  bootstrapKeyLengthMin: 32,
  bootstrapKeyLengthMax: 255,
  /** The longest Authorization header value worth hashing; longer is malformed. */
  presentedKeyLengthMax: 512,
} as const;

/** The keyId of LEDGER_ADMIN_KEY: an admin key on every service, never stored. */
export const bootstrapKeyId = 'bootstrap';

const keyIdPattern = /^[a-z0-9]{12,64}$/;
const keyPattern = /^lk_([a-z0-9]{12,64})_([A-Za-z0-9_-]{43,})$/;
const printable = /^[\x20-\x7E]+$/;

export const sha256Hex = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

export const isKeyId = (text: string): boolean => keyIdPattern.test(text);

/** A fresh key: its id, the whole key (shown once) and the record that stores only its hash. */
export function mintApiKey(name: string, keyScopes: Scope[], nowMs: number): { key: string; record: ApiKeyRecord } {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  // 36 symbols from bytes < 252 (= 7 × 36): no modulo bias.
  let keyId = '';
  while (keyId.length < apiKeyBounds.keyIdLength) {
    for (const byte of randomBytes(apiKeyBounds.keyIdLength)) {
      if (byte < 252 && keyId.length < apiKeyBounds.keyIdLength) keyId += alphabet[byte % 36];
    }
  }
  const key = `lk_${keyId}_${randomBytes(apiKeyBounds.secretBytes).toString('base64url')}`;
  return { key, record: { keyId, name, scopes: [...keyScopes], secretHash: sha256Hex(key), createdAt: nowMs, revokedAt: null } };
}

/** The bootstrap key's problem, or undefined when LEDGER_ADMIN_KEY is acceptable. */
export function bootstrapKeyProblem(key: string): string | undefined {
  const { bootstrapKeyLengthMin: min, bootstrapKeyLengthMax: max } = apiKeyBounds;
  if (key.length < min || key.length > max) return `LEDGER_ADMIN_KEY must be ${min} to ${max} characters (it has ${key.length})`;
  if (!printable.test(key)) return 'LEDGER_ADMIN_KEY must be printable ASCII characters only';
  return undefined;
}

/** Who a request is: the key's id and what it may do. */
export interface Principal {
  keyId: string;
  scopes: readonly Scope[];
}

export function allows(principal: Principal, needed: Scope): boolean {
  return principal.scopes.includes('admin') || principal.scopes.includes(needed);
}

const knownScopes = (values: readonly string[]): Scope[] => values.filter((v): v is Scope => (scopes as readonly string[]).includes(v));

/** The `Authorization` header's key, or undefined when it is missing or not `Bearer <key>`. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length > apiKeyBounds.presentedKeyLengthMax + 7) return undefined;
  const match = /^Bearer ([\x21-\x7E]+)$/i.exec(header);
  return match?.[1];
}

interface Entry {
  record: ApiKeyRecord;
  hash: Buffer;
  scopes: Scope[];
}

/**
 * The keys this instance knows: the topic's latest record per keyId, plus the bootstrap key.
 * Fed by the topic consumer (and by the admin route right after its own write, so a new key
 * works at once on the instance that made it); asked by every authenticated request.
 */
export class ApiKeyDirectory {
  private readonly entries = new Map<string, Entry>();
  private readonly bootstrapHash: Buffer | undefined;
  /** Records ignored because the directory was full (keysMax). */
  ignored = 0;

  constructor(bootstrapKey?: string, private readonly keysMax: number = apiKeyBounds.keysMax) {
    if (bootstrapKey !== undefined) {
      const problem = bootstrapKeyProblem(bootstrapKey);
      if (problem !== undefined) throw new Error(problem);
      this.bootstrapHash = Buffer.from(sha256Hex(bootstrapKey), 'hex');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  full(): boolean {
    return this.entries.size >= this.keysMax;
  }

  /** A record from the topic (creation or revocation): the latest one per keyId wins. */
  apply(record: ApiKeyRecord): void {
    if (!isKeyId(record.keyId)) return; // not one a key can name; `bootstrap` is never stored
    if (!this.entries.has(record.keyId) && this.full()) {
      this.ignored += 1;
      return;
    }
    this.entries.set(record.keyId, { record, hash: Buffer.from(record.secretHash, 'hex'), scopes: knownScopes(record.scopes) });
  }

  get(keyId: string): ApiKeyRecord | undefined {
    return this.entries.get(keyId)?.record;
  }

  list(): ApiKeyRecord[] {
    return [...this.entries.values()].map((e) => e.record).sort((a, b) => a.createdAt - b.createdAt || a.keyId.localeCompare(b.keyId));
  }

  /** The principal a presented key is, or undefined when it is malformed, unknown or revoked. */
  authenticate(key: string): Principal | undefined {
    if (key.length > apiKeyBounds.presentedKeyLengthMax) return undefined;
    const presented = Buffer.from(sha256Hex(key), 'hex');
    if (this.bootstrapHash !== undefined && timingSafeEqual(presented, this.bootstrapHash)) {
      return { keyId: bootstrapKeyId, scopes: ['admin'] };
    }
    const match = keyPattern.exec(key);
    if (match === null) return undefined;
    const entry = this.entries.get(match[1] ?? '');
    if (entry === undefined || entry.hash.length !== presented.length) return undefined;
    // Both sides are fixed-length digests: equal length always, compared in constant time.
    if (!timingSafeEqual(presented, entry.hash) || entry.record.revokedAt !== null) return undefined;
    return { keyId: entry.record.keyId, scopes: entry.scopes };
  }
}
