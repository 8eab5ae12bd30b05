/**
 * Refresh tokens, revocation and introspection, black-box through the token, revocation and
 * introspection endpoints (a frozen clock drives windows and lifetimes):
 * - rotation with reuse detection (SEC-OAUTH-19), the same response (successor and access
 *   token) within the reuse window and revocation after it (SEC-REL-03; the rest of SEC-REL-03 is
 *   in refresh-retry-window.test.ts), 50 parallel refreshes → one answer, one chain (SEC-REL-02)
 *   on SQLite and PostgreSQL;
 * - binding to the client (SEC-OAUTH-20), idle and absolute expiry (SEC-OAUTH-21), scope that
 *   only narrows (SEC-OAUTH-18);
 * - RFC 7009 revocation (SEC-OAUTH-23) and RFC 7662 introspection (SEC-OAUTH-24).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import {
  API,
  FILES,
  assertActive,
  assertInactive,
  assertOAuthError,
  auditEvents,
  basic,
  claims,
  clientToken,
  createOAuthApp,
  fixtureClients,
  grantFor,
  grantRevoked,
  introspect,
  nativeSignIn,
  postAs,
  postForm,
  refresh,
  revoke,
  tokens,
  unrotatedRefreshTokens,
  type TokenResponse,
} from '../support/oauth.ts';

const postgres = await probePostgres();

/** A refresh that must succeed; returns the token response. */
async function rotate(t: TestApp, clientId: string, refreshToken: string, params: Record<string, string> = {}): Promise<TokenResponse> {
  const body = tokens(await refresh(t, clientId, refreshToken, params));
  assert.equal(typeof body.refresh_token, 'string', 'every refresh returns a refresh token');
  return body;
}

/**
 * SEC-REL-02/-03: `count` refreshes of one token at once, chained `rounds` times (the successor
 * of each round is raced next). Every request succeeds with the same answer — one successor and
 * one access token (a racing duplicate mints nothing) — exactly one refresh token of the grant is
 * left unrotated, the grant is not revoked.
 */
async function raceRefreshes(t: TestApp, clientId: string, start: string, options: { count: number; rounds: number }): Promise<void> {
  const first = tokens(await refresh(t, clientId, start));
  const gid = String(claims(first.access_token).gid);
  let current = first.refresh_token!;
  for (let round = 0; round < options.rounds; round++) {
    const responses = await Promise.all(Array.from({ length: options.count }, () => refresh(t, clientId, current)));
    const statuses = responses.map((response) => response.statusCode);
    assert.deepEqual(statuses.filter((status) => status !== 200), [], `round ${round}: every racer succeeds (no spurious revocation): ${responses.find((r) => r.statusCode !== 200)?.body}`);
    const successors = new Set(responses.map((response) => (response.json() as TokenResponse).refresh_token));
    assert.equal(successors.size, 1, `round ${round}: one successor for all ${options.count} racers`);
    const [successor] = [...successors] as [string];
    assert.notEqual(successor, current);
    const accessTokens = new Set(responses.map((response) => (response.json() as TokenResponse).access_token));
    assert.equal(accessTokens.size, 1, `round ${round}: one access token for all ${options.count} racers (SEC-REL-03)`);
    assert.equal(await unrotatedRefreshTokens(t, gid), 1, `round ${round}: exactly one live refresh token in the grant (no forked chain)`);
    assert.equal(await grantRevoked(t, gid), false, `round ${round}: the honest race did not revoke the grant`);
    current = successor;
  }
  // The end of the chain works.
  await rotate(t, clientId, current);
  assert.equal(await unrotatedRefreshTokens(t, gid), 1);
  const reuse = (await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === gid);
  assert.deepEqual(reuse, [], 'no reuse event for an honest race');
}

describe('rotation and reuse detection (SEC-OAUTH-19, SEC-REL-03)', () => {
  let t: TestApp;
  let clock = 1_900_000_000_000;
  const now = () => clock;
  before(async () => {
    t = await createOAuthApp({ now });
  });
  after(() => t.close());

  it('every refresh returns a new refresh token (256-bit, opaque) and keeps the grant, sid and subject', async () => {
    const native = await nativeSignIn(t, 'rotate@example.com');
    const seen = new Set([native.refresh_token]);
    let current = native.refresh_token;
    for (let i = 0; i < 5; i++) {
      clock += 60_000;
      const next = await rotate(t, 'mobile', current);
      assert.match(next.refresh_token!, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!seen.has(next.refresh_token!), 'a new refresh token every time');
      seen.add(next.refresh_token!);
      const payload = claims(next.access_token);
      assert.equal(payload.gid, native.gid);
      assert.equal(payload.sid, native.sid);
      assert.equal(payload.sub, native.sub);
      assert.equal(next.scope, 'openid profile email');
      current = next.refresh_token!;
    }
    // Only the newest is alive at introspection.
    assertActive(await introspect(t, current, 'mobile'));
    assertInactive(await introspect(t, native.refresh_token, 'mobile'), 'a rotated refresh token');
  });

  it('replay after the window → invalid_grant, the newest refresh token and every access token of the grant die, and the reuse is audited', async () => {
    const native = await nativeSignIn(t, 'replay@example.com');
    clock += 1000;
    const second = await rotate(t, 'mobile', native.refresh_token);
    clock += 1000;
    const third = await rotate(t, 'mobile', second.refresh_token!);
    for (const token of [native.access_token, second.access_token, third.access_token]) assertActive(await introspect(t, token, 'rs'));

    clock += (t.config.refreshReuseWindowSeconds + 1) * 1000;
    const replay = await refresh(t, 'mobile', native.refresh_token);
    assertOAuthError(replay, 'invalid_grant');
    assert.equal(replay.headers['cache-control'], 'no-store');

    assertOAuthError(await refresh(t, 'mobile', third.refresh_token!), 'invalid_grant', 400, 'the newest refresh token');
    assertOAuthError(await refresh(t, 'mobile', second.refresh_token!), 'invalid_grant', 400, 'an intermediate refresh token');
    for (const [what, token] of [['first', native.access_token], ['second', second.access_token], ['newest', third.access_token]] as const) {
      assertInactive(await introspect(t, token, 'rs'), `${what} access token`);
      assertInactive(await introspect(t, token, 'mobile'), `${what} access token (own client)`);
    }
    assertInactive(await introspect(t, third.refresh_token!, 'mobile'), 'the newest refresh token at introspection');
    assert.equal(await grantRevoked(t, native.gid), true);

    const events = (await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid);
    assert.equal(events.length, 1, 'one refresh-token-reuse audit event');
    assert.equal(events[0]!.outcome, 'failure');
    assert.equal(events[0]!.userId, native.sub);
    assert.equal(events[0]!.detail.client_id, 'mobile');
    assert.ok(!JSON.stringify(events[0]).includes(native.refresh_token), 'the audit trail never holds the token');
    assert.ok(!t.logText().includes(native.refresh_token), 'nor do the logs');
  });

  it('the same refresh token again within the window → the same successor and access token (a retry), later → reuse revokes', async () => {
    const native = await nativeSignIn(t, 'window@example.com');
    const first = await rotate(t, 'mobile', native.refresh_token);
    const retry = await rotate(t, 'mobile', native.refresh_token);
    assert.equal(retry.refresh_token, first.refresh_token, 'a retry gets the same successor');
    assert.equal(retry.access_token, first.access_token, 'and the same access token (SEC-REL-03: nothing new is minted)');

    clock += (t.config.refreshReuseWindowSeconds - 1) * 1000;
    assert.equal((await rotate(t, 'mobile', native.refresh_token)).refresh_token, first.refresh_token, 'still within the window');
    assert.equal(await grantRevoked(t, native.gid), false);

    clock += 2000;
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant', 400, 'outside the window');
    assertOAuthError(await refresh(t, 'mobile', first.refresh_token!), 'invalid_grant', 400, 'the successor died with the grant');
    assert.equal(await grantRevoked(t, native.gid), true);
  });

  it('the window counts from the rotation, not from the last retry', async () => {
    const native = await nativeSignIn(t, 'sliding@example.com');
    const first = await rotate(t, 'mobile', native.refresh_token);
    for (let i = 0; i < 3; i++) {
      clock += 4000;
      const response = await refresh(t, 'mobile', native.refresh_token);
      if (i < 2) assert.equal((response.json() as TokenResponse).refresh_token, first.refresh_token, `retry ${i} within the window`);
      else assertOAuthError(response, 'invalid_grant', 400, '12 s after the rotation');
    }
  });

  it('SEC-REL-02: 50 parallel refreshes of one token (5 chained rounds) → one successor for all, one live chain, no revocation (SQLite)', async () => {
    const native = await nativeSignIn(t, 'parallel@example.com');
    await raceRefreshes(t, 'mobile', native.refresh_token, { count: 50, rounds: 5 });
  });

  it('garbage, unknown and truncated refresh tokens → invalid_grant with one description', async () => {
    const native = await nativeSignIn(t, 'garbage@example.com');
    const bodies = new Set<string>();
    for (const value of ['x', 'A'.repeat(43), native.refresh_token.slice(0, 42), `${native.refresh_token}A`, native.refresh_token.toLowerCase() === native.refresh_token ? 'B'.repeat(43) : native.refresh_token.toLowerCase(), `${native.refresh_token.slice(0, 42)}=`, '../../etc/passwd', "' OR '1'='1", native.access_token]) {
      const response = await refresh(t, 'mobile', value);
      assertOAuthError(response, 'invalid_grant', 400, value.slice(0, 20));
      bodies.add(response.body);
    }
    assert.equal(bodies.size, 1, 'unknown, malformed and foreign tokens look alike');
    assert.equal((await rotate(t, 'mobile', native.refresh_token)).token_type, 'Bearer', 'the real token still works');
  });
});

describe('a reuse window of 0 (GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS=0)', () => {
  let t: TestApp;
  let clock = 1_900_000_000_000;
  before(async () => {
    t = await createOAuthApp({ now: () => clock, env: { GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS: '0' } });
  });
  after(() => t.close());

  it('any later second use revokes the grant (SEC-OAUTH-19)', async () => {
    const native = await nativeSignIn(t, 'zero@example.com');
    const next = await rotate(t, 'mobile', native.refresh_token);
    clock += 1;
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
    assertOAuthError(await refresh(t, 'mobile', next.refresh_token!), 'invalid_grant');
    assertInactive(await introspect(t, next.access_token, 'rs'));
  });
});

describe('50 parallel refreshes on PostgreSQL (SEC-REL-02)', { skip: skipUnless(postgres) }, () => {
  let t: TestApp;
  let drop: () => Promise<void>;
  before(async () => {
    const scratch = await createTestDatabase();
    drop = scratch.drop;
    t = await createOAuthApp({ env: { GATEHOUSE_DATABASE_URL: scratch.url } });
  });
  after(async () => {
    await t?.close();
    await drop?.();
  });

  it('one successor for all racers, one live chain, no revocation (5 chained rounds)', async () => {
    const native = await nativeSignIn(t, 'pg-parallel@example.com');
    await raceRefreshes(t, 'mobile', native.refresh_token, { count: 50, rounds: 5 });
  });

  it('SEC-REL-03: RT1→RT2, RT2→RT3, RT1 inside the window → invalid_grant, RT3 dead, AT3 inactive (PostgreSQL)', async () => {
    const native = await nativeSignIn(t, 'pg-in-window@example.com');
    const second = await rotate(t, 'mobile', native.refresh_token);
    assert.equal((await rotate(t, 'mobile', native.refresh_token)).access_token, second.access_token, 'a retry before RT2 is used: the same response');
    const third = await rotate(t, 'mobile', second.refresh_token!);
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant', 400, 'RT1 after RT2 was used');
    assertOAuthError(await refresh(t, 'mobile', third.refresh_token!), 'invalid_grant', 400, 'RT3');
    assertInactive(await introspect(t, third.access_token, 'rs'), 'AT3');
    assert.equal(await grantRevoked(t, native.gid), true);
    assert.equal((await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid).length, 1);
  });

  it('replay after the window revokes the grant on PostgreSQL too', async () => {
    const native = await nativeSignIn(t, 'pg-replay@example.com');
    const next = await rotate(t, 'mobile', native.refresh_token);
    // Grey-box: move the rotation back past the window instead of waiting 11 s on the real clock.
    const windowMs = (t.config.refreshReuseWindowSeconds + 1) * 1000;
    await t.storage.database.db.updateTable('refresh_tokens').set((eb) => ({ rotated_at: eb('rotated_at', '-', windowMs) })).where('rotated_at', 'is not', null).where('grant_id', '=', native.gid).execute();
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
    assertOAuthError(await refresh(t, 'mobile', next.refresh_token!), 'invalid_grant');
    assertInactive(await introspect(t, next.access_token, 'rs'));
    assert.equal((await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid).length, 1);
  });
});

describe('refresh tokens are bound to their client (SEC-OAUTH-20)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  it('a public client’s refresh token presented by another client → refused', async () => {
    const native = await nativeSignIn(t, 'bound@example.com');
    assertOAuthError(await refresh(t, 'mobile2', native.refresh_token), 'invalid_grant', 400, 'another public client');
    assertOAuthError(await refresh(t, 'confrt', native.refresh_token), 'invalid_grant', 400, 'a confidential client with valid credentials');
    assertOAuthError(await refresh(t, 'nobody', native.refresh_token), 'invalid_client', 401, 'an unknown client_id');
    assertOAuthError(await refresh(t, null, native.refresh_token), 'invalid_client', 401, 'no client at all');
  });

  it('a confidential client’s refresh token: without authentication, with a wrong secret, or by another confidential client → refused', async () => {
    const { refreshToken } = await grantFor(t, 'confrt', { scope: ['read', 'write'] });
    assertOAuthError(await postAs(t, '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'confrt' }), 'invalid_client', 401, 'client_id only');
    assertOAuthError(await postAs(t, '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: refreshToken }), 'invalid_client', 401, 'no client');
    assertOAuthError(await postAs(t, '/oauth/token', null, { grant_type: 'refresh_token', refresh_token: refreshToken }, { authorization: `Basic ${Buffer.from('confrt:wrong').toString('base64')}` }), 'invalid_client', 401, 'wrong secret');
    assertOAuthError(await refresh(t, 'confrt2', refreshToken), 'invalid_grant', 400, 'another confidential client');
    assertOAuthError(await refresh(t, 'mobile', refreshToken), 'invalid_grant', 400, 'a public client');
    const ok = await rotate(t, 'confrt', refreshToken);
    const payload = claims(ok.access_token);
    assert.equal(payload.client_id, 'confrt');
    assert.equal(payload.sub, 'client:confrt', 'a grant without a user has the client subject');
  });
});

describe('idle and absolute expiry (SEC-OAUTH-21)', () => {
  let t: TestApp;
  let clock = 1_900_000_000_000;
  before(async () => {
    t = await createOAuthApp({
      now: () => clock,
      clients: fixtureClients({
        extra: [{ client_id: 'brief', name: 'Brief', type: 'public', grant_types: ['refresh_token'], scopes: ['openid'], audiences: [API], first_party: true, refresh_token_idle_ttl_seconds: 120, refresh_token_absolute_ttl_seconds: 300 }],
      }),
    });
  });
  after(() => t.close());

  it('a refresh token unused for the idle lifetime → invalid_grant; each rotation restarts the idle clock', async () => {
    const native = await nativeSignIn(t, 'idle@example.com', { clientId: 'brief' });
    clock += 119_000;
    const next = await rotate(t, 'brief', native.refresh_token);
    clock += 119_000;
    const third = await rotate(t, 'brief', next.refresh_token!);
    clock += 120_000;
    assertInactive(await introspect(t, third.refresh_token!, 'brief'), 'idle-expired at introspection');
    assertOAuthError(await refresh(t, 'brief', third.refresh_token!), 'invalid_grant', 400, 'idle for 120 s');
  });

  it('a chain rotated continuously stops at the absolute lifetime, even though every hop was fresh', async () => {
    const native = await nativeSignIn(t, 'absolute@example.com', { clientId: 'brief' });
    let current = native.refresh_token;
    for (const elapsed of [90, 180, 270]) {
      clock += 90_000;
      current = (await rotate(t, 'brief', current)).refresh_token!;
      assert.ok(elapsed < 300);
    }
    clock += 29_000; // 299 s after the grant
    const last = await rotate(t, 'brief', current);
    clock += 1000; // 300 s
    assertOAuthError(await refresh(t, 'brief', last.refresh_token!), 'invalid_grant', 400, 'at the absolute lifetime');
    // SEC-OAUTH-21 / SEC-REL-03: not even the reuse window revives it.
    assertOAuthError(await refresh(t, 'brief', current), 'invalid_grant', 400, 'a just-rotated token after the absolute lifetime');
  });

  it('the server-wide defaults apply to clients without their own lifetimes', async () => {
    const local = await createOAuthApp({ now: () => clock, env: { GATEHOUSE_REFRESH_TOKEN_IDLE_TTL_SECONDS: '60', GATEHOUSE_REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS: '150' } });
    try {
      const idle = await nativeSignIn(local, 'defaults-idle@example.com');
      clock += 61_000;
      assertOAuthError(await refresh(local, 'mobile', idle.refresh_token), 'invalid_grant', 400, 'server idle lifetime');
      const absolute = await nativeSignIn(local, 'defaults-abs@example.com');
      let current = absolute.refresh_token;
      for (let i = 0; i < 2; i++) {
        clock += 50_000;
        current = (await rotate(local, 'mobile', current)).refresh_token!;
      }
      clock += 50_000;
      assertOAuthError(await refresh(local, 'mobile', current), 'invalid_grant', 400, 'server absolute lifetime');
    } finally {
      await local.close();
    }
  });
});

describe('scope on refresh only narrows (SEC-OAUTH-18)', () => {
  let t: TestApp;
  let clock = 1_900_000_000_000;
  before(async () => {
    t = await createOAuthApp({ now: () => clock });
  });
  after(() => t.close());

  it('a narrower scope yields a down-scoped access token; the successor keeps the grant’s scope', async () => {
    const native = await nativeSignIn(t, 'narrow@example.com');
    const narrow = await rotate(t, 'mobile', native.refresh_token, { scope: 'openid' });
    assert.equal(narrow.scope, 'openid');
    assert.equal(claims(narrow.access_token).scope, 'openid');
    const full = await rotate(t, 'mobile', narrow.refresh_token!);
    assert.equal(claims(full.access_token).scope, 'openid profile email');
  });

  it('a wider scope → invalid_scope', async () => {
    const native = await nativeSignIn(t, 'wider@example.com');
    for (const scope of ['openid admin', 'offline_access', 'read']) {
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token, { scope }), 'invalid_scope', 400, scope);
    }
  });

  it('a refused refresh (invalid_scope, invalid_target) does not consume the refresh token: a correct retry after the window still works', async () => {
    const native = await nativeSignIn(t, 'retry-after-error@example.com');
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token, { scope: 'openid admin' }), 'invalid_scope');
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token, { resource: 'https://evil.example' }), 'invalid_target');
    // The client corrects its request a while later (outside the reuse window).
    clock += (t.config.refreshReuseWindowSeconds + 5) * 1000;
    const response = await refresh(t, 'mobile', native.refresh_token);
    assert.equal(response.statusCode, 200, `an error response must not have rotated (and so burnt) the token: ${response.body}`);
    assert.equal(await grantRevoked(t, native.gid), false, 'and the grant is not revoked as a replay');
  });
});

describe('a client whose allowed scopes or audiences shrink (SEC-OAUTH-18)', () => {
  it('refreshing an older grant never yields a scope or audience the client lost', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-shrink-'));
    const env = { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` };
    try {
      const before = await createOAuthApp({ env });
      const native = await nativeSignIn(before, 'shrink@example.com');
      await before.close();
      // The operator narrows the client in the configuration and restarts.
      const after = await createOAuthApp({ env, clients: fixtureClients({ mobile: { scopes: ['openid'], audiences: [FILES] } }) });
      try {
        const response = await refresh(after, 'mobile', native.refresh_token);
        if (response.statusCode === 200) {
          const body = response.json() as TokenResponse;
          const payload = claims(body.access_token);
          assert.deepEqual(String(payload.scope).split(' ').filter(Boolean), ['openid'], `down-scoped: ${payload.scope}`);
          assert.equal(body.scope, 'openid');
          // The issuer is the audience of userinfo, which every openid token may call.
          assert.deepEqual([payload.aud].flat(), [FILES, after.config.publicUrl], 'only an audience the client still has (and userinfo)');
        } else {
          // Refusing the refresh outright is the other acceptable answer.
          assert.equal(response.statusCode, 400, response.body);
          assert.ok(['invalid_scope', 'invalid_grant'].includes((response.json() as { error: string }).error), response.body);
        }
        assertOAuthError(await refresh(after, 'mobile', native.refresh_token, { scope: 'openid profile' }), 'invalid_scope', 400, 'asking for the removed scope');
        assertOAuthError(await refresh(after, 'mobile', native.refresh_token, { resource: API }), 'invalid_target', 400, 'asking for the removed audience');
      } finally {
        await after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('revocation, RFC 7009 (SEC-OAUTH-23)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOAuthApp();
  });
  after(() => t.close());

  it('unknown, malformed and already-revoked tokens → 200 with no body, no-store', async () => {
    const native = await nativeSignIn(t, 'revoke-garbage@example.com');
    assert.equal((await revoke(t, native.refresh_token, 'mobile')).statusCode, 200);
    for (const token of ['x', 'A'.repeat(43), 'a.b.c', 'eyJhbGciOiJub25lIn0.e30.', native.refresh_token, '%00', '../../etc/passwd', 'ä'.repeat(100)]) {
      const response = await revoke(t, token, 'svc');
      assert.equal(response.statusCode, 200, `${token.slice(0, 20)}: ${response.body}`);
      assert.equal(response.body, '');
      assert.equal(response.headers['cache-control'], 'no-store');
    }
    assertOAuthError(await postAs(t, '/oauth/revoke', 'svc', {}), 'invalid_request', 400, 'no token');
  });

  it('another client’s token is refused (unauthorized_client) and not revoked', async () => {
    const native = await nativeSignIn(t, 'revoke-foreign@example.com');
    const ccToken = await clientToken(t, 'svc');
    // RFC 7009 §2.1 says "refused"; §2.2 lets the server answer 200. Either way: no effect, no token leaked.
    for (const [token, caller] of [[native.refresh_token, 'mobile2'], [native.refresh_token, 'svc'], [native.access_token, 'mobile2'], [ccToken, 'svc2'], [ccToken, 'rs']] as const) {
      const response = await revoke(t, token, caller);
      assertOAuthError(response, 'unauthorized_client', 400, caller);
      assert.ok(!response.body.includes(token));
    }
    assertActive(await introspect(t, native.access_token, 'rs'));
    assertActive(await introspect(t, ccToken, 'rs'), 'not even the resource server of its audience can revoke it');
    assert.equal((await rotate(t, 'mobile', native.refresh_token)).token_type, 'Bearer', 'the refresh token still works for its client');
  });

  it('revoking a refresh token revokes its grant: the token, its successors and every access token of the grant', async () => {
    const native = await nativeSignIn(t, 'revoke-grant@example.com');
    const second = await rotate(t, 'mobile', native.refresh_token);
    const third = await rotate(t, 'mobile', second.refresh_token!);
    // Revoking an already-rotated token of the chain is enough.
    assert.equal((await revoke(t, native.refresh_token, 'mobile')).statusCode, 200);
    assertOAuthError(await refresh(t, 'mobile', third.refresh_token!), 'invalid_grant');
    for (const token of [native.access_token, second.access_token, third.access_token]) assertInactive(await introspect(t, token, 'rs'));
    assert.ok((await auditEvents(t, 'token-revoked')).some((event) => event.detail.grant_id === native.gid));
  });

  it('revoking an access token revokes that token only (by jti)', async () => {
    const native = await nativeSignIn(t, 'revoke-at@example.com');
    const second = await rotate(t, 'mobile', native.refresh_token);
    assert.equal((await revoke(t, native.access_token, 'mobile')).statusCode, 200);
    assertInactive(await introspect(t, native.access_token, 'rs'));
    assertActive(await introspect(t, second.access_token, 'rs'), 'another access token of the grant');
    assert.equal((await rotate(t, 'mobile', second.refresh_token!)).token_type, 'Bearer', 'the grant lives on');

    const ccToken = await clientToken(t, 'svc');
    const other = await clientToken(t, 'svc');
    assert.equal((await revoke(t, ccToken, 'svc')).statusCode, 200);
    assertInactive(await introspect(t, ccToken, 'rs'));
    assertActive(await introspect(t, other, 'rs'));
  });

  it('a wrong or unknown token_type_hint does not prevent revocation', async () => {
    const native = await nativeSignIn(t, 'revoke-hint@example.com');
    assert.equal((await revoke(t, native.access_token, 'mobile', { token_type_hint: 'refresh_token' })).statusCode, 200);
    assertInactive(await introspect(t, native.access_token, 'rs'));
    assert.equal((await revoke(t, native.refresh_token, 'mobile', { token_type_hint: 'access_token' })).statusCode, 200);
    assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
    const ccToken = await clientToken(t, 'svc');
    assert.equal((await revoke(t, ccToken, 'svc', { token_type_hint: 'no_such_type' })).statusCode, 200);
    assertInactive(await introspect(t, ccToken, 'rs'));
  });

  it('SEC-OAUTH-25: deleting a client (admin API) ends its tokens; a client re-created with the same id inherits none', async () => {
    const adminCookie = await registerAndSignIn(t, 'admin-deleter@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    const admin = await users.findByEmail('admin-deleter@example.com');
    assert.ok(admin);
    await users.setRoles(admin.id, ['admin'], Date.now()); // grey-box, as `users create --admin` would
    const adminHeaders = { cookie: adminCookie, origin: new URL(t.config.publicUrl).origin, 'content-type': 'application/json' };
    const create = async () => {
      const response = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: adminHeaders, payload: JSON.stringify({ client_id: 'doomed', name: 'Doomed', type: 'confidential', grant_types: ['client_credentials'], scopes: ['read'], audiences: [API] }) });
      assert.equal(response.statusCode, 201, response.body);
      return String((response.json() as { client_secret: string }).client_secret);
    };
    const secret = await create();
    const token = tokens(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('doomed', secret) })).access_token;
    assertActive(await introspect(t, token, 'rs'));

    const deleted = await t.app.inject({ method: 'DELETE', url: '/api/admin/clients/doomed', headers: { cookie: adminCookie, origin: new URL(t.config.publicUrl).origin } });
    assert.equal(deleted.statusCode, 204, deleted.body);
    assertInactive(await introspect(t, token, 'rs'), 'an access token of a deleted client');

    const newSecret = await create();
    const asNewClient = await postForm(t, '/oauth/introspect', { token }, { authorization: basic('doomed', newSecret) });
    assertInactive(asNewClient, 'the re-created client does not see the old client’s token');
  });

  it('only POST: GET → 405 with Allow', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/oauth/revoke?token=x' });
    assert.equal(response.statusCode, 405);
    assert.match(String(response.headers.allow), /POST/);
    assert.equal((await t.app.inject({ method: 'PUT', url: '/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'token=x' })).statusCode, 405);
  });
});

describe('introspection, RFC 7662 (SEC-OAUTH-24)', () => {
  let t: TestApp;
  let clock = 1_900_000_000_000;
  before(async () => {
    t = await createOAuthApp({ now: () => clock });
  });
  after(() => t.close());

  it('an unauthenticated caller → 401 invalid_client', async () => {
    const ccToken = await clientToken(t, 'svc');
    assertOAuthError(await postAs(t, '/oauth/introspect', null, { token: ccToken }), 'invalid_client', 401);
    assertOAuthError(await postAs(t, '/oauth/introspect', null, { token: ccToken, client_id: 'svc' }), 'invalid_client', 401);
  });

  it('an active access token: active, scope, client_id, sub, exp, iat, iss, aud, token_type (and jti); no-store', async () => {
    const ccToken = await clientToken(t, 'svc', { scope: 'read' });
    const response = await introspect(t, ccToken, 'rs');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const body = assertActive(response);
    const payload = claims(ccToken);
    for (const member of ['active', 'scope', 'client_id', 'sub', 'exp', 'iat', 'iss', 'aud', 'token_type']) assert.ok(member in body, `member ${member}`);
    assert.equal(body.scope, 'read');
    assert.equal(body.client_id, 'svc');
    assert.equal(body.sub, 'client:svc');
    assert.equal(body.exp, payload.exp);
    assert.equal(body.iat, payload.iat);
    assert.equal(body.iss, t.config.publicUrl);
    assert.deepEqual(body.aud, payload.aud);
    assert.equal(body.jti, payload.jti);
    assert.equal(String(body.token_type).toLowerCase(), 'bearer');

    const native = await nativeSignIn(t, 'introspect-at@example.com');
    const user = assertActive(await introspect(t, native.access_token, 'rs'));
    assert.equal(user.sub, native.sub);
    assert.equal(user.client_id, 'mobile');
    assert.equal(user.sid, native.sid);
  });

  it('an active refresh token (to its own client): active, scope, client_id, sub, exp, iat, iss, token_type', async () => {
    const native = await nativeSignIn(t, 'introspect-rt@example.com');
    const response = await introspect(t, native.refresh_token, 'mobile');
    assert.equal(response.headers['cache-control'], 'no-store');
    const body = assertActive(response);
    for (const member of ['scope', 'client_id', 'sub', 'exp', 'iat', 'iss', 'token_type']) assert.ok(member in body, `member ${member}`);
    assert.equal(body.client_id, 'mobile');
    assert.equal(body.sub, native.sub);
    assert.equal(body.scope, 'openid profile email');
    assert.equal(body.iss, t.config.publicUrl);
    assert.ok(Number(body.exp) > Number(body.iat));
  });

  it('expired, revoked, rotated, unknown, malformed and foreign tokens → exactly {"active":false}', async () => {
    const native = await nativeSignIn(t, 'introspect-inactive@example.com');
    const ccToken = await clientToken(t, 'svc');
    // Foreign: not issued to the caller and not for its audience.
    assertInactive(await introspect(t, ccToken, 'svc2'), 'another client’s token');
    assertInactive(await introspect(t, ccToken, 'rs2'), 'a token for another audience');
    assertInactive(await introspect(t, native.refresh_token, 'mobile2'), 'another client’s refresh token');
    assertInactive(await introspect(t, native.refresh_token, 'rs'), 'a refresh token to a resource server');
    assertInactive(await introspect(t, native.refresh_token, 'svc'), 'a refresh token to another confidential client');
    // Unknown and malformed.
    for (const token of ['x', 'A'.repeat(43), randomBytes(32).toString('base64url'), 'a.b.c', '...', 'eyJhbGciOiJub25lIn0.e30.', `${ccToken}x`, ccToken.split('.').slice(0, 2).join('.'), '%00', 'ä'.repeat(64)]) {
      assertInactive(await introspect(t, token, 'svc'), `malformed ${token.slice(0, 20)}`);
    }
    // Rotated.
    const next = await rotate(t, 'mobile', native.refresh_token);
    assertInactive(await introspect(t, native.refresh_token, 'mobile'), 'rotated refresh token');
    // Revoked.
    const revokedToken = await clientToken(t, 'svc');
    assert.equal((await revoke(t, revokedToken, 'svc')).statusCode, 200);
    assertInactive(await introspect(t, revokedToken, 'rs'), 'revoked access token');
    assert.equal((await revoke(t, next.refresh_token!, 'mobile')).statusCode, 200);
    assertInactive(await introspect(t, next.refresh_token!, 'mobile'), 'revoked refresh token');
    // Expired: past exp plus the leeway.
    const expiring = await clientToken(t, 'svc');
    assertActive(await introspect(t, expiring, 'rs'));
    clock += (t.config.accessTokenTtlSeconds + 60) * 1000;
    assertInactive(await introspect(t, expiring, 'rs'), 'expired access token');
  });

  it('a revoked access token stays inactive after its exp, through the verifier’s clock-skew leeway', async () => {
    const ccToken = await clientToken(t, 'svc');
    assert.equal((await revoke(t, ccToken, 'svc')).statusCode, 200);
    assertInactive(await introspect(t, ccToken, 'rs'), 'right after revocation');
    const exp = Number(claims(ccToken).exp) * 1000;
    // Past exp but within the 30 s leeway the verifier allows: the revocation must still hold.
    for (const after of [1000, 10_000, 29_000]) {
      clock = exp + after;
      assertInactive(await introspect(t, ccToken, 'rs'), `${after / 1000} s after exp`);
    }
  });

  it('a revoked grant’s longest-lived access token stays inactive through the leeway after its exp', async () => {
    const local = await createOAuthApp({
      now: () => clock,
      clients: fixtureClients({ mobile: { access_token_ttl_seconds: 86400 } }),
    });
    try {
      const native = await nativeSignIn(local, 'long-lived@example.com');
      assert.equal(native.expires_in, local.config.accessTokenMaxTtlSeconds, 'the client’s lifetime is the server maximum');
      assert.equal((await revoke(local, native.refresh_token, 'mobile')).statusCode, 200);
      assertInactive(await introspect(local, native.access_token, 'rs'));
      clock = Number(claims(native.access_token).exp) * 1000 + 10_000;
      assertInactive(await introspect(local, native.access_token, 'rs'), '10 s after exp, within the leeway');
    } finally {
      await local.close();
    }
  });

  it('token_type_hint is only a hint; a missing token → invalid_request; only POST', async () => {
    const ccToken = await clientToken(t, 'svc');
    assertActive(await introspect(t, ccToken, 'rs', { token_type_hint: 'refresh_token' }));
    assertActive(await introspect(t, ccToken, 'rs', { token_type_hint: 'bogus' }));
    assertOAuthError(await postAs(t, '/oauth/introspect', 'rs', {}), 'invalid_request');
    assert.equal((await t.app.inject({ method: 'GET', url: '/oauth/introspect?token=x' })).statusCode, 405);
  });

  it('token scanning is throttled per client (429 with Retry-After); other clients are unaffected', async () => {
    const local = await createOAuthApp({ env: { GATEHOUSE_INTROSPECTION_INACTIVE_LIMIT: '20' } });
    try {
      const statuses: number[] = [];
      let retryAfter: string | undefined;
      for (let i = 0; i < 30; i++) {
        const response = await introspect(local, randomBytes(32).toString('base64url'), 'rs');
        statuses.push(response.statusCode);
        if (response.statusCode === 429) retryAfter = String(response.headers['retry-after']);
        else assertInactive(response);
      }
      assert.ok(statuses.slice(0, 20).every((status) => status === 200), statuses.join(','));
      assert.ok(statuses.slice(20).every((status) => status === 429), statuses.join(','));
      assert.match(String(retryAfter), /^\d+$/);
      assertInactive(await introspect(local, 'A'.repeat(43), 'rs2'), 'another client keeps its own budget');
    } finally {
      await local.close();
    }
  });
});
