// The gateway's admin routes (DESIGN §9) with an in-memory key topic: create shows the key once
// and stores only its hash, list, revoke (404 for an unknown key), bad input 400 creating
// nothing; and the OpenAPI document declares the bearer scheme and every new code.
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../processors/http/api-keys.ts';
import { UnavailableError } from '../../../processors/http/errors.ts';
import { harness, json } from '../gateway/harness.ts';
import { bearer } from '../../support/keys.ts';

const keysUrl = '/api/v1/api-keys';

describe('admin routes', () => {
  it('POST creates a key shown once: lk_<keyId>_<secret>, only its SHA-256 written, and it works at once', async () => {
    const gateway = harness();
    const created = await gateway.request(json(keysUrl, { name: 'reporting', scopes: ['read', 'write'] }));
    expect(created.status).toBe(201);
    const { keyId, key, name, scopes, createdAt } = created.body as Record<string, string>;
    expect(key).toMatch(/^lk_[a-z0-9]{12,}_[A-Za-z0-9_-]{43,}$/);
    expect(key!.startsWith(`lk_${keyId}_`)).toBe(true);
    expect([name, scopes, typeof createdAt]).toEqual(['reporting', ['read', 'write'], 'string']);
    expect(gateway.keyAdmin.published).toEqual([{ keyId, name: 'reporting', scopes: ['read', 'write'], secretHash: sha256Hex(key!), createdAt: Date.parse(createdAt!), revokedAt: null }]);
    expect(JSON.stringify(gateway.keyAdmin.published)).not.toContain(key!.slice(20));
    const listed = await gateway.request({ method: 'GET', url: keysUrl, headers: bearer(key) });
    expect(listed.status).toBe(403); // read+write, not admin
    const used = await gateway.request({ method: 'GET', url: '/api/v1/commands/6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f', headers: bearer(key) });
    expect(used.status).toBe(404);
  });

  it('GET lists keys with their revocation and never a key or hash; DELETE revokes, and the key is refused', async () => {
    const gateway = harness();
    const created = await gateway.request(json(keysUrl, { name: 'ci', scopes: ['read'] }));
    const { keyId, key } = created.body as Record<string, string>;
    const revoked = await gateway.request({ method: 'DELETE', url: `${keysUrl}/${keyId!.toUpperCase()}` });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toEqual({ keyId, revokedAt: expect.any(String) });
    expect(gateway.keyAdmin.published.map((r) => r.revokedAt === null)).toEqual([true, false]);
    const listed = await gateway.request({ method: 'GET', url: keysUrl });
    expect(listed.body).toEqual({ items: [{ keyId, name: 'ci', scopes: ['read'], createdAt: expect.any(String), revokedAt: revoked.body.revokedAt }] });
    expect((await gateway.request({ method: 'GET', url: '/api/v1/commands/6f1c0b1e-2a3d-4c5b-8e9f-0a1b2c3d4e5f', headers: bearer(key) })).status).toBe(401);
    // Revoking again answers the first revocation and writes nothing.
    const again = await gateway.request({ method: 'DELETE', url: `${keysUrl}/${keyId}` });
    expect([again.status, again.body.revokedAt, gateway.keyAdmin.published.length]).toEqual([200, revoked.body.revokedAt, 2]);
  });

  it.each([
    ['an unknown keyId', 'abcdefghijkl9999'],
    ['the bootstrap key, which is never stored', 'bootstrap'],
  ])('DELETE of %s is 404 API_KEY_NOT_FOUND', async (_case, keyId) => {
    const gateway = harness();
    const response = await gateway.request({ method: 'DELETE', url: `${keysUrl}/${keyId}` });
    expect([response.status, response.body.code]).toEqual([404, 'API_KEY_NOT_FOUND']);
    expect(gateway.keyAdmin.published).toEqual([]);
  });

  it.each([
    ['an unknown scope', { name: 'x', scopes: ['read', 'superuser'] }],
    ['no scope', { name: 'x', scopes: [] }],
    ['a repeated scope', { name: 'x', scopes: ['read', 'read'] }],
    ['an empty name', { name: '', scopes: ['read'] }],
    ['a blank name', { name: '   ', scopes: ['read'] }],
    ['a 10,000-character name', { name: 'n'.repeat(10_000), scopes: ['read'] }],
    ['a name with a control character', { name: 'a\u0000b', scopes: ['read'] }],
    ['no name', { scopes: ['read'] }],
    ['an unknown field', { name: 'x', scopes: ['read'], admin: true }],
  ])('POST with %s is 400 VALIDATION_FAILED and creates nothing', async (_case, body) => {
    const gateway = harness();
    const response = await gateway.request(json(keysUrl, body));
    expect([response.status, response.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(gateway.keyAdmin.published).toEqual([]);
    expect((await gateway.request({ method: 'GET', url: keysUrl })).body).toEqual({ items: [] });
  });

  it('a create Kafka does not take is 503 UNAVAILABLE, and the key does not exist', async () => {
    const gateway = harness();
    gateway.keyAdmin.failure = new UnavailableError('Kafka is down');
    const response = await gateway.request(json(keysUrl, { name: 'x', scopes: ['read'] }));
    expect([response.status, response.body.code]).toEqual([503, 'UNAVAILABLE']);
    expect((await gateway.request({ method: 'GET', url: keysUrl })).body).toEqual({ items: [] });
  });
});

describe('OpenAPI', () => {
  it('/docs declares the bearer scheme, the admin routes and every access code', async () => {
    const gateway = harness();
    const document = (await gateway.app.inject({ method: 'GET', url: '/docs' })).json();
    expect(document.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.security).toEqual([{ apiKey: [] }]);
    expect(document.paths['/health'].get.security).toEqual([]);
    expect(Object.keys(document.paths['/api/v1/api-keys']).sort()).toEqual(['get', 'post']);
    expect(Object.keys(document.paths['/api/v1/api-keys/{keyId}'])).toEqual(['delete']);
    for (const [code, status] of [['UNAUTHENTICATED', 401], ['FORBIDDEN', 403], ['RATE_LIMITED', 429], ['API_KEY_NOT_FOUND', 404]] as const) {
      expect([code, document['x-error-codes'][code]?.status]).toEqual([code, status]);
    }
    expect(document.paths['/api/v1/api-keys/{keyId}'].delete.responses['404'].description).toContain('API_KEY_NOT_FOUND');
  });
});
