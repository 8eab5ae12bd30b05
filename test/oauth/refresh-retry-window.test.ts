/**
 * SEC-REL-03 (retry-window semantics, as tightened) and SEC-OAUTH-19, black-box through the token,
 * introspection and userinfo endpoints, with a frozen clock:
 * - a rotated refresh token is honoured again only while its successor was never used, and then
 *   gets the first response again — the same successor and the same access token, `expires_in`
 *   counted down — so a retry mints nothing;
 * - once the successor is used, any ancestor presented inside the window is reuse: the grant is
 *   revoked (every refresh and access token of it, including the one a thief got) and audited;
 * - an expired refresh token (or a repeated access token that has expired) is never accepted
 *   inside the window; a retry asking for another scope is refused without revoking;
 * - the window is bounded (60 s) and can be 0: then any second presentation is reuse.
 * Every rule runs on the embedded database and on PostgreSQL, where a rotation of a token the
 * instance issued is its own one-statement path (store.ts rotateKnownRefreshToken).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import {
  API,
  assertActive,
  assertInactive,
  assertOAuthError,
  auditEvents,
  claims,
  createOAuthApp,
  fixtureClients,
  grantFor,
  grantRevoked,
  introspect,
  nativeSignIn,
  refresh,
  tokens,
  unrotatedRefreshTokens,
  type TokenResponse,
} from '../support/oauth.ts';

const START = 1_900_000_000_000;
const postgres = await probePostgres();
const BACKENDS = [
  { name: 'SQLite', postgres: false, skip: false as string | false },
  { name: 'PostgreSQL', postgres: true, skip: skipUnless(postgres) },
];

/** The OAuth app on the backend: SQLite in memory, or a scratch PostgreSQL database dropped on close. */
async function createApp(backend: (typeof BACKENDS)[number], options: Parameters<typeof createOAuthApp>[0] = {}): Promise<TestApp> {
  if (!backend.postgres) return createOAuthApp(options);
  const scratch = await createTestDatabase();
  const t = await createOAuthApp({ ...options, env: { ...options.env, GATEHOUSE_DATABASE_URL: scratch.url } });
  return { ...t, close: async () => { await t.close(); await scratch.drop(); } };
}

async function rotate(t: TestApp, clientId: string, refreshToken: string, params: Record<string, string> = {}): Promise<TokenResponse> {
  const body = tokens(await refresh(t, clientId, refreshToken, params));
  assert.equal(typeof body.refresh_token, 'string', 'every refresh returns a refresh token');
  return body;
}

async function refreshTokenRows(t: TestApp, grantId: string): Promise<number> {
  return (await t.storage.database.db.selectFrom('refresh_tokens').select('id').where('grant_id', '=', grantId).execute()).length;
}

async function userinfoStatus(t: TestApp, accessToken: string): Promise<number> {
  return (await t.app.inject({ method: 'GET', url: '/oauth/userinfo', headers: { authorization: `Bearer ${accessToken}` } })).statusCode;
}

for (const backend of BACKENDS) {
  describe(`SEC-REL-03: the retry window honours a retry, never a replay (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock = START;
    before(async () => {
      t = await createApp(backend, { now: () => clock });
    });
    after(() => t.close());

    /** The first refresh token of a grant of `clientId`: a native sign-in (public) or grey-box (confidential). */
    async function firstToken(clientId: 'mobile' | 'confrt', email: string): Promise<{ refreshToken: string; grantId: string }> {
      if (clientId === 'mobile') {
        const native = await nativeSignIn(t, email);
        return { refreshToken: native.refresh_token, grantId: native.gid };
      }
      const { grantId, refreshToken } = await grantFor(t, 'confrt', { scope: ['read', 'write'], now: () => clock });
      return { refreshToken, grantId };
    }

    for (const [clientId, kind] of [['confrt', 'confidential'], ['mobile', 'public']] as const) {
      it(`RT1→RT2, RT2→RT3, then RT1 inside the window → invalid_grant, the grant revoked: RT3 dead, AT3 inactive, reuse audited (${kind} client)`, async () => {
        const { refreshToken: rt1, grantId } = await firstToken(clientId, `replay-in-window-${kind}@example.com`);
        clock += 1000;
        const second = await rotate(t, clientId, rt1);
        clock += 1000;
        const third = await rotate(t, clientId, second.refresh_token!);
        assertActive(await introspect(t, third.access_token, 'rs'));
        clock += 1000; // 2 s after RT1 was rotated: well inside the 10 s window

        const replay = await refresh(t, clientId, rt1);
        assertOAuthError(replay, 'invalid_grant', 400, 'RT1 after its successor was used');
        assert.ok(!replay.body.includes(second.refresh_token!) && !replay.body.includes(third.refresh_token!), 'no token in the refusal');

        assertOAuthError(await refresh(t, clientId, third.refresh_token!), 'invalid_grant', 400, 'RT3 died with the grant');
        assertOAuthError(await refresh(t, clientId, second.refresh_token!), 'invalid_grant', 400, 'RT2 too');
        for (const [what, token] of [['AT2', second.access_token], ['AT3', third.access_token]] as const) {
          assertInactive(await introspect(t, token, 'rs'), what);
        }
        if (clientId === 'mobile') assert.equal(await userinfoStatus(t, third.access_token), 401, 'userinfo refuses AT3');
        assert.equal(await grantRevoked(t, grantId), true);
        const events = (await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === grantId);
        assert.equal(events.length, 1, 'one refresh-token-reuse event');
        assert.equal(events[0]!.detail.client_id, clientId);
        assert.ok(!JSON.stringify(events).includes(rt1), 'the audit trail never holds the token');
      });
    }

    it('a thief replaying RT1 before the owner uses RT2 gets the same pair as the owner; once RT2 is used, the thief’s next replay kills the tokens it got', async () => {
      const native = await nativeSignIn(t, 'thief@example.com');
      const owner = await rotate(t, 'mobile', native.refresh_token);
      clock += 2000;
      const thief = await rotate(t, 'mobile', native.refresh_token);
      assert.equal(thief.access_token, owner.access_token, 'nothing new was minted for the replay');
      clock += 1000;
      await rotate(t, 'mobile', owner.refresh_token!);
      clock += 1000;
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
      assertInactive(await introspect(t, thief.access_token, 'rs'), 'the access token the replay got');
      assertOAuthError(await refresh(t, 'mobile', thief.refresh_token!), 'invalid_grant');
    });

    it('a retry before the successor is used returns the identical token pair (expires_in counted down) and mints nothing', async () => {
      const native = await nativeSignIn(t, 'retry-same@example.com');
      const first = await rotate(t, 'mobile', native.refresh_token);
      const rows = await refreshTokenRows(t, native.gid);

      const duplicate = await rotate(t, 'mobile', native.refresh_token);
      assert.deepEqual(duplicate, first, 'a duplicate at the same instant gets the same response');

      clock += 4000;
      const retry = await rotate(t, 'mobile', native.refresh_token);
      assert.equal(retry.refresh_token, first.refresh_token, 'the same successor');
      assert.equal(retry.access_token, first.access_token, 'the same access token');
      assert.equal(retry.expires_in, first.expires_in - 4, 'its remaining lifetime');
      assert.equal(retry.scope, first.scope);
      assert.equal(claims(retry.access_token).jti, claims(first.access_token).jti);

      assert.equal(await refreshTokenRows(t, native.gid), rows, 'no refresh token was created by the retries');
      assert.equal(await unrotatedRefreshTokens(t, native.gid), 1, 'one live chain');
      assert.equal(await grantRevoked(t, native.gid), false);
      assertActive(await introspect(t, retry.access_token, 'rs'));
      // The successor works, and is the end of the chain.
      const next = await rotate(t, 'mobile', retry.refresh_token!);
      assert.notEqual(next.access_token, first.access_token);
    });

    it('a narrowed-scope retry repeats the narrowed response; a retry asking for another scope is refused without revoking', async () => {
      const native = await nativeSignIn(t, 'retry-scope@example.com');
      const narrow = await rotate(t, 'mobile', native.refresh_token, { scope: 'openid' });
      const again = await rotate(t, 'mobile', native.refresh_token, { scope: 'openid' });
      assert.equal(again.access_token, narrow.access_token, 'the same request → the same response');
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant', 400, 'a retry asking for the full scope');
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token, { scope: 'openid profile' }), 'invalid_grant', 400, 'a retry asking for another scope');
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token, { scope: 'openid admin' }), 'invalid_scope', 400, 'more than the grant');
      assert.equal(await grantRevoked(t, native.gid), false, 'a differing retry is not reuse');
      assertActive(await introspect(t, narrow.access_token, 'rs'));
      assert.equal(claims((await rotate(t, 'mobile', narrow.refresh_token!)).access_token).scope, 'openid profile email', 'the successor still works');
    });
  });
}

for (const backend of BACKENDS) {
  describe(`SEC-REL-03 / SEC-OAUTH-21: nothing expired is accepted inside the window (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock = START;
    before(async () => {
      t = await createApp(backend, {
        now: () => clock,
        env: { GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '60' },
        clients: fixtureClients({
          extra: [{ client_id: 'brief', name: 'Brief', type: 'public', grant_types: ['refresh_token'], scopes: ['openid'], audiences: [API], first_party: true, refresh_token_idle_ttl_seconds: 120, access_token_ttl_seconds: 30 }],
        }),
      });
    });
    after(() => t.close());

    it('a just-rotated token past its idle expiry → invalid_grant inside the window (no revocation: the successor is unused)', async () => {
      const native = await nativeSignIn(t, 'idle-window@example.com', { clientId: 'brief' });
      clock += 100_000;
      const next = await rotate(t, 'brief', native.refresh_token);
      clock += 21_000; // 121 s after issue: RT1 idle-expired, 21 s into the 60 s window; AT2 still live
      assertOAuthError(await refresh(t, 'brief', native.refresh_token), 'invalid_grant', 400, 'an expired token inside the window');
      assert.equal(await grantRevoked(t, native.gid), false);
      assertActive(await introspect(t, next.access_token, 'rs'));
      await rotate(t, 'brief', next.refresh_token!);
    });

    it('a retry whose access token has expired meanwhile → invalid_grant (never an expired token, never a new one)', async () => {
      const native = await nativeSignIn(t, 'at-expired-window@example.com', { clientId: 'brief' });
      const next = await rotate(t, 'brief', native.refresh_token);
      clock += 29_000;
      assert.equal((await rotate(t, 'brief', native.refresh_token)).expires_in, 1, 'one second left');
      clock += 1000;
      assertOAuthError(await refresh(t, 'brief', native.refresh_token), 'invalid_grant', 400, 'the repeated access token expired');
      assert.equal(await grantRevoked(t, native.gid), false);
      await rotate(t, 'brief', next.refresh_token!);
    });

    it('the window has a hard upper bound of 60 s', () => {
      assert.throws(() => loadConfig({ env: { GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '61', GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64') } }), /REFRESH_REUSE_WINDOW|refreshReuseWindowSeconds/);
      assert.equal(t.config.refreshReuseWindowSeconds, 60);
    });
  });
}

for (const backend of BACKENDS) {
  describe(`SEC-REL-03: a window of 0 — any second presentation is reuse (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    const clock = START;
    before(async () => {
      t = await createApp(backend, { now: () => clock, env: { GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '0' } });
    });
    after(() => t.close());

    it('the same token again, even at the same instant → invalid_grant, grant revoked, audited', async () => {
      const native = await nativeSignIn(t, 'zero-instant@example.com');
      const next = await rotate(t, 'mobile', native.refresh_token);
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
      assertOAuthError(await refresh(t, 'mobile', next.refresh_token!), 'invalid_grant', 400, 'the successor died with the grant');
      assertInactive(await introspect(t, next.access_token, 'rs'));
      assert.equal((await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid).length, 1);
    });

    it('SEC-REL-02 with grace 0: 50 parallel refreshes → at most one success, the rest invalid_grant, the grant revoked, no forked chain', async () => {
      const native = await nativeSignIn(t, 'zero-race@example.com');
      const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(t, 'mobile', native.refresh_token)));
      const ok = responses.filter((response) => response.statusCode === 200);
      assert.ok(ok.length <= 1, `${ok.length} successes`);
      for (const response of responses.filter((candidate) => candidate.statusCode !== 200)) assertOAuthError(response, 'invalid_grant');
      assert.ok(await unrotatedRefreshTokens(t, native.gid) <= 1, 'at most one child');
      assert.equal(await grantRevoked(t, native.gid), true, 'the concurrent losers are reuse (docs/tokens.md)');
      for (const response of ok) assertOAuthError(await refresh(t, 'mobile', (response.json() as TokenResponse).refresh_token!), 'invalid_grant');
    });
  });
}
