/**
 * Revocation reaches the kit within a second, with no call per request: a token (or session
 * cookie) the kit accepted is refused soon after it is revoked at Gatehouse — session signed out,
 * refresh token revoked (its grant), access token revoked (its jti), client deleted. Polls up to
 * a bound; no other timing assertions. Then the stream going down: reconnect with Last-Event-ID,
 * and after the grace either fail closed (503) or introspect, as configured.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { basic, clientToken, nativeSignIn, revoke } from '../support/oauth.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { API, SECRETS, assertOk, assertRefused, bearer, closeKits, eventually, kitFor, setRoles, startGatehouse, streamProxy, type Gatehouse, type StreamProxy } from './support.ts';
import type { Authenticator, KitEvent } from '../../packages/middleware/src/index.ts';

/** The promise: refused within a second of the revocation. */
const WITHIN_MS = 1000;

const refused = (kit: Authenticator, headers: Record<string, string>) => async () => !(await kit.authenticate(headers)).ok;

describe('revocations reach the kit within a second', () => {
  let g: Gatehouse;
  let kit: Authenticator;
  let proxy: StreamProxy;
  before(async () => {
    g = await startGatehouse();
    // Every call the kit makes goes through this proxy, which counts them.
    proxy = await streamProxy(g.base);
    kit = kitFor(g.base, { serverUrl: proxy.url });
    await kit.ready();
  });
  after(async () => {
    await closeKits();
    await proxy.close();
    await g.close();
  });

  it('verifying a bearer token makes no call to Gatehouse', async () => {
    const token = await clientToken(g.t, 'svc', { scope: 'read' });
    const calls = () => [...proxy.hits.values()].reduce((sum, count) => sum + count, 0);
    const before = calls();
    for (let i = 0; i < 50; i++) assertOk(await kit.authenticate(bearer(token)));
    assert.equal(calls(), before, 'no request per authentication');
  });

  it('signing a first-party session out refuses its access token (kind session)', async () => {
    const native = await nativeSignIn(g.t, 'rev-session@example.com');
    assert.equal(assertOk(await kit.authenticate(bearer(native.access_token))).sessionId, native.sid);
    const deleted = await fetch(`${g.base}/api/auth/sessions/${native.sid}`, { method: 'DELETE', headers: { cookie: native.cookie, origin: g.base } });
    assert.equal(deleted.status, 204);
    assert.ok(await eventually(refused(kit, bearer(native.access_token)), WITHIN_MS), 'refused within a second');
    assertRefused(await kit.authenticate(bearer(native.access_token)), 401, 'invalid_token');
  });

  it('revoking a refresh token refuses the access tokens of its grant (kind grant)', async () => {
    const native = await nativeSignIn(g.t, 'rev-grant@example.com');
    assertOk(await kit.authenticate(bearer(native.access_token)));
    const revoked = await fetch(`${g.base}/oauth/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: native.refresh_token, client_id: 'mobile' }) });
    assert.equal(revoked.status, 200);
    assert.ok(await eventually(refused(kit, bearer(native.access_token)), WITHIN_MS), 'refused within a second');
  });

  it('revoking an access token refuses it (kind jti); its siblings stay valid', async () => {
    const token = await clientToken(g.t, 'svc', { scope: 'read' });
    const sibling = await clientToken(g.t, 'svc', { scope: 'read' });
    assertOk(await kit.authenticate(bearer(token)));
    assert.equal((await revoke(g.t, token, 'svc')).statusCode, 200);
    assert.ok(await eventually(refused(kit, bearer(token)), WITHIN_MS), 'refused within a second');
    assertOk(await kit.authenticate(bearer(sibling)), 'another token of the same client');
  });

  it('deleting a client refuses every token it had (kind client); a client re-created under that id later is not affected', async () => {
    const admin = await registerAndSignIn(g.t, 'rev-admin@example.com');
    await setRoles(g.t, 'rev-admin@example.com', ['admin']);
    const adminCall = (method: string, path: string, body?: unknown) =>
      fetch(`${g.base}${path}`, { method, headers: { cookie: admin, origin: g.base, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const metadata = { client_id: 'short-lived', name: 'Short-lived', type: 'confidential', grant_types: ['client_credentials'], scopes: ['read'], audiences: [API] };
    const tokenOf = async (secret: string): Promise<string> => {
      const response = await fetch(`${g.base}/oauth/token`, { method: 'POST', headers: { authorization: basic('short-lived', secret), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=read' });
      assert.equal(response.status, 200, await response.clone().text());
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const created = await adminCall('POST', '/api/admin/clients', metadata);
    assert.equal(created.status, 201, await created.clone().text());
    const token = await tokenOf(((await created.json()) as { client_secret: string }).client_secret);
    assert.equal(assertOk(await kit.authenticate(bearer(token))).kind, 'client');
    assert.equal((await adminCall('DELETE', '/api/admin/clients/short-lived')).status, 204);
    assert.ok(await eventually(refused(kit, bearer(token)), WITHIN_MS), 'refused within a second');

    // revoked_at has second precision: a token of the re-created client from a later second lives.
    const deletedAt = Math.floor(Date.now() / 1000);
    await eventually(() => Math.floor(Date.now() / 1000) > deletedAt, 2000);
    const again = await adminCall('POST', '/api/admin/clients', metadata);
    assert.equal(again.status, 201);
    const newer = await tokenOf(((await again.json()) as { client_secret: string }).client_secret);
    assertOk(await kit.authenticate(bearer(newer)), 'the re-created client’s new token');
    assertRefused(await kit.authenticate(bearer(token)), 401, 'invalid_token', 'the old token stays refused');
  });

  it('a session cookie is refused once the session is signed out (within the session cache time, 1 s by default)', async () => {
    const cookie = await registerAndSignIn(g.t, 'rev-cookie@example.com');
    const principal = assertOk(await kit.authenticate({ cookie: `theme=dark; ${cookie}; other=1` }));
    assert.equal(principal.via, 'session');
    assert.equal(principal.clientId, null);
    assert.equal(principal.user?.email, 'rev-cookie@example.com');
    const signOut = await fetch(`${g.base}/api/auth/sign-out`, { method: 'POST', headers: { cookie, origin: g.base, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(signOut.status, 204);
    assert.ok(await eventually(refused(kit, { cookie }), WITHIN_MS + 500), 'refused within the cache time');
    assertRefused(await kit.authenticate({ cookie }), 401, 'invalid_token');
  });
});

describe('the stream goes down', () => {
  let g: Gatehouse;
  before(async () => {
    g = await startGatehouse();
  });
  after(async () => {
    await closeKits();
    await g.close();
  });

  async function downKit(whenUnavailable: 'fail-closed' | 'introspect') {
    const proxy = await streamProxy(g.base);
    const events: KitEvent[] = [];
    const kit = kitFor(g.base, { serverUrl: proxy.url, revocations: { clientId: 'rs', clientSecret: SECRETS.rs!, graceMs: 300, whenUnavailable, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } } }, events);
    await kit.ready();
    return { proxy, kit, events };
  }

  it('fail-closed: after the grace, bearer tokens get 503 temporarily_unavailable; on reconnect, what was revoked meanwhile arrives (Last-Event-ID)', async () => {
    const { proxy, kit, events } = await downKit('fail-closed');
    try {
      const token = await clientToken(g.t, 'svc', { scope: 'read' });
      const revokedMeanwhile = await clientToken(g.t, 'svc', { scope: 'read' });
      assertOk(await kit.authenticate(bearer(token)));
      proxy.blockStream(true);
      assert.ok(await eventually(() => events.some((event) => event.type === 'revocations-down'), 5000), 'the kit noticed');
      assert.ok(await eventually(async () => {
        const result = await kit.authenticate(bearer(token));
        return !result.ok && result.status === 503;
      }, 5000), '503 after the grace');
      const unavailable = await kit.authenticate(bearer(token));
      assert.ok(!unavailable.ok);
      assert.equal(unavailable.error, 'temporarily_unavailable');
      assert.equal(unavailable.code, 'revocations_unavailable');
      assert.equal(unavailable.headers['retry-after'], '5');
      assert.equal(unavailable.wwwAuthenticate, undefined);
      assertRefused(await kit.authenticate(bearer('x.y.z')), 401, 'invalid_token', 'a bad token is still a 401');

      assert.equal((await revoke(g.t, revokedMeanwhile, 'svc')).statusCode, 200);
      proxy.blockStream(false);
      assert.ok(await eventually(async () => (await kit.authenticate(bearer(token))).ok, 5000), 'accepted again once the stream is back');
      assertRefused(await kit.authenticate(bearer(revokedMeanwhile)), 401, 'invalid_token', 'the revocation made while down arrived');
      assert.ok((proxy.hits.get('/api/revocations/stream') ?? 0) >= 2, 'it reconnected');
      assert.equal(proxy.hits.get('/oauth/introspect'), undefined, 'fail-closed never introspects');
    } finally {
      await proxy.close();
    }
  });

  it('introspect: after the grace, each bearer token is checked at /oauth/introspect; revoked ones are refused, and no answer means 503', async () => {
    const { proxy, kit, events } = await downKit('introspect');
    try {
      const token = await clientToken(g.t, 'svc', { scope: 'read' });
      const revokedMeanwhile = await clientToken(g.t, 'svc', { scope: 'read' });
      assertOk(await kit.authenticate(bearer(token)));
      assertOk(await kit.authenticate(bearer(revokedMeanwhile)));
      proxy.blockStream(true);
      assert.ok(await eventually(() => events.some((event) => event.type === 'revocations-down'), 5000));
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal((await revoke(g.t, revokedMeanwhile, 'svc')).statusCode, 200);
      assertOk(await kit.authenticate(bearer(token)), 'an active token passes through introspection');
      assert.ok((proxy.hits.get('/oauth/introspect') ?? 0) >= 1, 'introspection was asked');
      const answer = await kit.authenticate(bearer(revokedMeanwhile));
      assertRefused(answer, 401, 'invalid_token', 'introspection says inactive');
      assert.ok(!answer.ok && answer.code === 'inactive');

      await proxy.close();
      const other = await clientToken(g.t, 'svc', { scope: 'read' });
      assert.ok(await eventually(async () => {
        const result = await kit.authenticate(bearer(other));
        return !result.ok && result.status === 503;
      }, 5000), 'no introspection answer → 503');
    } finally {
      await proxy.close().catch(() => {});
    }
  });

  it('ready() rejects when Gatehouse refuses the stream credentials, and when the stream cannot be reached in time', async () => {
    const wrong = kitFor(g.base, { revocations: { clientId: 'rs', clientSecret: 'wrong-secret', reconnect: { initialDelayMs: 50, maxDelayMs: 100 } } });
    await assert.rejects(wrong.ready({ timeoutMs: 5000 }), /refused the revocation stream credentials of client rs/);
    assertRefused(await wrong.authenticate(bearer(await clientToken(g.t, 'svc', { scope: 'read' }))), 503, 'temporarily_unavailable', 'never synced: fail closed');
    const proxy = await streamProxy(g.base);
    proxy.blockStream(true);
    try {
      const blocked = kitFor(g.base, { serverUrl: proxy.url });
      await assert.rejects(blocked.ready({ timeoutMs: 300 }), /not ready after 300 ms/);
    } finally {
      await proxy.close();
    }
  });

  it('revocations: false accepts tokens until they expire (no stream, documented opt-out)', async () => {
    const kit = kitFor(g.base, { revocations: false });
    await kit.ready();
    const token = await clientToken(g.t, 'svc', { scope: 'read' });
    assert.equal((await revoke(g.t, token, 'svc')).statusCode, 200);
    assertOk(await kit.authenticate(bearer(token)), 'without the stream the kit cannot know');
  });
});
