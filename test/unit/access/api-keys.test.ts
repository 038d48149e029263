// API keys without I/O: their format, what is stored, the bootstrap key's bounds, the edge's
// settings (127.0.0.1 unless HOST, RATE_LIMIT_PER_SECOND, CORS_ORIGINS).
import { describe, expect, it } from 'vitest';
import { ApiKeyDirectory, bearerToken, bootstrapKeyProblem, mintApiKey, sha256Hex } from '../../../processors/http/api-keys.ts';
import { loadEdgeConfig } from '../../../processors/http/config.ts';
import { loadGatewaySettings } from '../../../gateway/config.ts';
import { loadQueryConfig } from '../../../processors/query/config.ts';

describe('API keys', () => {
  it('are lk_<keyId>_<secret> with a 16-character keyId and 32 random bytes, and the record holds only the SHA-256', () => {
    const { key, record } = mintApiKey('n', ['read'], 5);
    expect(key).toMatch(/^lk_[a-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(record).toEqual({ keyId: key.slice(3, 19), name: 'n', scopes: ['read'], secretHash: sha256Hex(key), createdAt: 5, revokedAt: null });
    expect(mintApiKey('n', ['read'], 5).key).not.toBe(key);
  });

  it('authenticate: the right key only, never a revoked one; the bootstrap key is admin `bootstrap`', () => {
    const directory = new ApiKeyDirectory('b'.repeat(32));
    const { key, record } = mintApiKey('n', ['write'], 1);
    expect(directory.authenticate(key)).toBeUndefined();
    directory.apply(record);
    expect(directory.authenticate(key)).toEqual({ keyId: record.keyId, scopes: ['write'] });
    expect(directory.authenticate(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(directory.authenticate('b'.repeat(32))).toEqual({ keyId: 'bootstrap', scopes: ['admin'] });
    directory.apply({ ...record, revokedAt: 2 });
    expect(directory.authenticate(key)).toBeUndefined();
  });

  it('the directory is bounded: past keysMax new keys are ignored and counted', () => {
    const directory = new ApiKeyDirectory(undefined, 2);
    for (let n = 0; n < 3; n += 1) directory.apply(mintApiKey(`k${n}`, ['read'], n).record);
    expect([directory.size, directory.ignored, directory.full()]).toEqual([2, 1, true]);
  });

  it('LEDGER_ADMIN_KEY must be 32–255 printable characters', () => {
    expect(bootstrapKeyProblem('x'.repeat(31))).toContain('32 to 255');
    expect(bootstrapKeyProblem('x'.repeat(256))).toContain('32 to 255');
    expect(bootstrapKeyProblem(`${'x'.repeat(32)}\n`)).toContain('printable');
    expect(bootstrapKeyProblem('x'.repeat(32))).toBeUndefined();
    expect(() => loadEdgeConfig({ LEDGER_ADMIN_KEY: 'short' })).toThrow(/LEDGER_ADMIN_KEY/);
  });

  it('bearerToken reads `Bearer <key>` only', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer abc')).toBe('abc');
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Token abc')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});

describe('edge settings', () => {
  it('both services listen on 127.0.0.1 unless HOST says otherwise', () => {
    expect(loadGatewaySettings({}).gateway.host).toBe('127.0.0.1');
    expect(loadQueryConfig({}).query.host).toBe('127.0.0.1');
    expect(loadGatewaySettings({ HOST: '0.0.0.0' }).gateway.host).toBe('0.0.0.0');
    expect(loadQueryConfig({ HOST: '0.0.0.0' }).query.host).toBe('0.0.0.0');
  });

  it('RATE_LIMIT_PER_SECOND defaults to 5000 (0: off); CORS is off unless CORS_ORIGINS lists origins', () => {
    expect(loadEdgeConfig({})).toMatchObject({ rateLimitPerSecond: 5000, corsOrigins: [], adminKey: undefined });
    expect(loadEdgeConfig({ RATE_LIMIT_PER_SECOND: '0', CORS_ORIGINS: 'https://a.example, http://localhost:3000' })).toMatchObject({
      rateLimitPerSecond: 0, corsOrigins: ['https://a.example', 'http://localhost:3000'],
    });
    expect(() => loadEdgeConfig({ CORS_ORIGINS: '*' })).toThrow(/CORS_ORIGINS/);
  });
});
