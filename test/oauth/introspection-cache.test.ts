/**
 * Caches added for issue 8 (benchmarks) must never keep a dead credential alive:
 * - the server's JWT verifier remembers tokens whose signature verified (src/keys/jwt.ts);
 * - revocation lookups reuse "not revoked" for a second (src/features/tokens/revocation.ts);
 * - client authentication reuses looked-up clients for two seconds (src/features/clients/authenticate.ts).
 * Each test uses a credential first, so the next answer would come from the cache, then kills it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeProtectedHeader } from 'jose';
import type { TestApp } from '../support/app.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { REVOCATION_CHANNEL } from '../../src/features/tokens/revocation.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { assertActive, assertInactive, basic, clientToken, introspect, listeningApp, revoke, serverKeys } from '../support/oauth.ts';

describe('verified-signature cache of the server verifier', () => {
  let t: TestApp;
  let clock = Date.now();
  const now = () => clock;
  before(async () => {
    ({ t } = await listeningApp({ now }));
  });
  after(() => t.close());

  it('a token introspected before its key was unpublished is inactive right after (SEC-REL-13)', async () => {
    const token = await clientToken(t, 'svc');
    assertActive(await introspect(t, token, 'rs'), 'before');
    assertActive(await introspect(t, token, 'rs'), 'cached');
    const keys = await serverKeys(t, now);
    await keys.retire(decodeProtectedHeader(token).kid!, { unpublish: true });
    let response = await introspect(t, token, 'rs');
    // The app follows keys:changed asynchronously.
    for (let i = 0; i < 50 && response.json().active === true; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      response = await introspect(t, token, 'rs');
    }
    assertInactive(response, 'after the key was unpublished');
    await keys.stop();
  });

  it('a cached token is inactive once expired (beyond the leeway)', async () => {
    const token = await clientToken(t, 'svc');
    assertActive(await introspect(t, token, 'rs'), 'fresh');
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const saved = clock;
    clock = (exp + 31) * 1000;
    try {
      assertInactive(await introspect(t, token, 'rs'), 'expired');
    } finally {
      clock = saved;
    }
    assertActive(await introspect(t, token, 'rs'), 'the clock back: the cache did not forget the signature, the claims decide');
  });

  it('a cached token is inactive once revoked (RFC 7009)', async () => {
    const token = await clientToken(t, 'svc');
    assertActive(await introspect(t, token, 'rs'), 'fresh');
    assert.equal((await revoke(t, token, 'svc')).statusCode, 200);
    assertInactive(await introspect(t, token, 'rs'), 'revoked');
  });
});

describe('"not revoked" cache of revocation lookups', () => {
  let t: TestApp;
  before(async () => {
    ({ t } = await listeningApp());
  });
  after(() => t.close());

  it('a revocation made by another instance (durable row + message on the channel) is seen at once', async () => {
    const token = await clientToken(t, 'svc');
    assertActive(await introspect(t, token, 'rs'), 'fresh');
    assertActive(await introspect(t, token, 'rs'), 'cached');
    // What another instance does: the durable row, then the message on the shared ephemeral store.
    const { jti, exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { jti: string; exp: number };
    const revocation = { kind: 'jti', value: jti, revokedAt: Date.now(), expiresAt: exp * 1000 + 30_000 };
    await t.storage.database.db.insertInto('revocations').values({ kind: revocation.kind, value: revocation.value, revoked_at: revocation.revokedAt, expires_at: revocation.expiresAt }).execute();
    await t.storage.ephemeral.publish(REVOCATION_CHANNEL, JSON.stringify(revocation));
    let response = await introspect(t, token, 'rs');
    for (let i = 0; i < 50 && response.json().active === true; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      response = await introspect(t, token, 'rs');
    }
    assertInactive(response, 'revoked elsewhere');
  });
});

describe('client cache of client authentication', () => {
  let t: TestApp;
  let admin: string;
  before(async () => {
    ({ t } = await listeningApp());
    admin = await registerAndSignIn(t, 'cache-admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    await users.setRoles((await users.findByEmail('cache-admin@example.com'))!.id, ['admin'], Date.now());
  });
  after(() => t.close());

  const adminRequest = (method: 'POST' | 'DELETE', url: string, body?: unknown) =>
    t.app.inject({ method, url, headers: { origin: new URL(t.config.publicUrl).origin, cookie: admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });

  const token = (clientId: string, secret: string) =>
    t.app.inject({ method: 'POST', url: '/oauth/token', headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' }, payload: 'grant_type=client_credentials' });
  async function created(clientId: string): Promise<string> {
    const response = await adminRequest('POST', '/api/admin/clients', { client_id: clientId, name: clientId, type: 'confidential', grant_types: ['client_credentials'] });
    assert.equal(response.statusCode, 201, response.body);
    return response.json().client_secret as string;
  }

  it('a secret rotated without grace is refused on the very next request', async () => {
    const secret = await created('cached-rotated');
    assert.equal((await token('cached-rotated', secret)).statusCode, 200, 'the old secret works (and its client is cached)');
    const rotated = await adminRequest('POST', '/api/admin/clients/cached-rotated/secret', {});
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal((await token('cached-rotated', secret)).statusCode, 401, 'the old secret is refused at once');
    assert.equal((await token('cached-rotated', rotated.json().client_secret as string)).statusCode, 200, 'the new one works');
  });

  it('a deleted client is refused on the very next request; a client created after a probe of its id works at once', async () => {
    const secret = await created('cached-deleted');
    assert.equal((await token('cached-deleted', secret)).statusCode, 200, 'it works (and is cached)');
    const deleted = await adminRequest('DELETE', '/api/admin/clients/cached-deleted');
    assert.ok(deleted.statusCode === 204 || deleted.statusCode === 200, deleted.body);
    assert.equal((await token('cached-deleted', secret)).statusCode, 401);
    assert.equal((await token('cached-later', 'guess')).statusCode, 401, 'unknown (and remembered as unknown)');
    assert.equal((await token('cached-later', await created('cached-later'))).statusCode, 200);
  });
});
