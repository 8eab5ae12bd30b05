/**
 * Housekeeping of refresh tokens and grants, black-box through the token, revocation and
 * introspection endpoints with a manual clock, on SQLite and PostgreSQL:
 * - the tokens of a live grant are never swept, however long ago rotated: an ancestor presented
 *   after any number of sweeps is still reuse (the grant is revoked and the reuse audited), and the
 *   retry window (SEC-REL-03) answers a retry with the first response across a sweep;
 * - once a grant is revoked its tokens go at the next sweep, once it is past its absolute lifetime
 *   they go SKEW_MARGIN_MS later; the grant row a day (GRACE_MS) after it died — and every
 *   presentation of one of its tokens answers invalid_grant before, between and after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { TestApp } from '../support/app.ts';
import { assertInactive, assertOAuthError, auditEvents, grantFor, grantRevoked, introspect, nativeSignIn, refresh, revoke, tokens, type TokenResponse } from '../support/oauth.ts';
import { GRACE_MS, SKEW_MARGIN_MS } from '../../src/features/housekeeping/tables.ts';
import { BACKENDS, DAY, START, createApp, grantExists, grantRow, sweep, tokenRows } from './support.ts';

for (const backend of BACKENDS) {
  describe(`housekeeping: refresh tokens and grants (${backend.name})`, { skip: backend.skip }, () => {
    let t: TestApp;
    let clock = START;
    before(async () => {
      t = await createApp(backend, () => clock);
    });
    after(() => t?.close());

    async function rotate(clientId: string, refreshToken: string): Promise<TokenResponse> {
      return tokens(await refresh(t, clientId, refreshToken));
    }

    it('rotated tokens of a live grant stay; an ancestor presented after sweeps is still reuse; the revoked grant’s tokens then go, its row a day later', async () => {
      const native = await nativeSignIn(t, 'live-chain@example.com');
      clock += 1000;
      const second = await rotate('mobile', native.refresh_token);
      clock += 1000;
      const third = await rotate('mobile', second.refresh_token!);
      clock += 60_000; // far outside the 10 s window
      for (const at of [clock, clock + 29 * DAY]) {
        const result = await sweep(t, at);
        assert.equal(result.deleted.refresh_tokens, 0, 'nothing of a live grant is swept');
      }
      assert.equal(await tokenRows(t, native.gid), 3, 'the whole chain is kept');

      assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant', 400, 'RT1 after sweeps: reuse');
      assert.equal(await grantRevoked(t, native.gid), true, 'reuse still revokes the grant');
      assert.equal((await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid).length, 1, 'and is audited');

      const revokedAt = (await grantRow(t, native.gid)).revoked_at!;
      const result = await sweep(t, clock);
      assert.equal(result.deleted.refresh_tokens, 3, 'a revoked grant’s tokens go at the next sweep');
      assert.equal(result.deleted.grants, 0);
      assert.equal(await tokenRows(t, native.gid), 0);
      for (const token of [native.refresh_token, second.refresh_token!, third.refresh_token!]) {
        assertOAuthError(await refresh(t, 'mobile', token), 'invalid_grant', 400, 'a swept token answers as before');
        assertInactive(await introspect(t, token, 'mobile'), 'introspection');
        assert.equal((await revoke(t, token, 'mobile')).statusCode, 200, 'RFC 7009 §2.2: 200');
      }
      assertInactive(await introspect(t, third.access_token, 'rs'), 'the access token stays revoked (the revocation entry is not the grant row)');

      assert.equal((await sweep(t, revokedAt + GRACE_MS - 1)).deleted.grants, 0, 'the grant row is kept for the grace period');
      assert.equal(await grantExists(t, native.gid), true);
      assert.equal((await sweep(t, revokedAt + GRACE_MS)).deleted.grants, 1, 'then it goes');
      assert.equal(await grantExists(t, native.gid), false);
      assertOAuthError(await refresh(t, 'mobile', third.refresh_token!), 'invalid_grant', 400, 'a late reuse still answers invalid_grant');
      assert.equal((await auditEvents(t, 'refresh-token-reuse')).filter((event) => event.detail.grant_id === native.gid).length, 1, 'nothing more is audited');
    });

    it('SEC-REL-03 across sweeps: a retry in the window gets the first response; once the successor is used an ancestor is reuse', async () => {
      const native = await nativeSignIn(t, 'window@example.com');
      clock += 1000;
      const first = await rotate('mobile', native.refresh_token);
      await sweep(t, clock);
      clock += 5000;
      await sweep(t, clock);
      const retry = await rotate('mobile', native.refresh_token);
      assert.equal(retry.refresh_token, first.refresh_token, 'the same successor');
      assert.equal(retry.access_token, first.access_token, 'the same access token');
      clock += 1000;
      await rotate('mobile', first.refresh_token!);
      await sweep(t, clock);
      clock += 1000; // 7 s after the rotation: inside the window, but the successor was used
      assertOAuthError(await refresh(t, 'mobile', native.refresh_token), 'invalid_grant');
      assert.equal(await grantRevoked(t, native.gid), true, 'reuse inside the window revokes the grant');
    });

    it('tokens of a grant past its absolute lifetime go SKEW_MARGIN_MS after its end, never before; the grant row a day after', async () => {
      const { grantId, refreshToken } = await grantFor(t, 'confrt2', { scope: ['read'], now: () => clock });
      const { expires_at: end } = await grantRow(t, grantId);
      assert.equal(end, clock + 3600_000, 'confrt2 grants live an hour');
      clock += 1000;
      const second = await rotate('confrt2', refreshToken);
      clock = end - 1000;
      await sweep(t, clock);
      const third = await rotate('confrt2', second.refresh_token!);
      assert.equal(await tokenRows(t, grantId), 3, 'usable to its last second, sweeps or not');

      await sweep(t, end + SKEW_MARGIN_MS - 1);
      assert.equal(await tokenRows(t, grantId), 3, 'not before the skew margin');
      clock = end + 1;
      assertOAuthError(await refresh(t, 'confrt2', third.refresh_token!), 'invalid_grant', 400, 'expired: refused');
      assert.equal(await grantRevoked(t, grantId), false, 'expiry is not revocation');
      await sweep(t, end + SKEW_MARGIN_MS);
      assert.equal(await tokenRows(t, grantId), 0, 'gone at the margin');
      assertOAuthError(await refresh(t, 'confrt2', third.refresh_token!), 'invalid_grant', 400, 'swept: the same answer');
      assertOAuthError(await refresh(t, 'confrt2', refreshToken), 'invalid_grant', 400, 'an ancestor too');

      // (Other tests' grants die too: this one is checked by its row.)
      await sweep(t, end + GRACE_MS - 1);
      assert.equal(await grantExists(t, grantId), true, 'the grant row is kept for the grace period');
      assert.ok((await sweep(t, end + GRACE_MS)).deleted.grants >= 1);
      assert.equal(await grantExists(t, grantId), false);
    });
  });
}
