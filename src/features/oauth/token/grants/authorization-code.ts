import { createHash, timingSafeEqual } from 'node:crypto';
import { apiError } from '../../../../errors/catalog.ts';
import type { AuditLog } from '../../../audit/audit-log.ts';
import type { RevocationService } from '../../../tokens/revocation.ts';
import type { TokenStore } from '../../../tokens/store.ts';
import type { AuthorizationState } from '../../authorize/state.ts';
import type { IdTokenIssuer } from '../../id-token.ts';
import { param, requiredParam, type FormBody } from '../../params.ts';
import type { GrantHandler } from '../types.ts';
import { issueUserTokens } from './user-tokens.ts';

const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
const PENDING = 'pending';

function invalidGrant(detail: string) {
  return apiError('invalid_grant', 'The authorization code is invalid, expired or already used.', { detail });
}

/**
 * RFC 6749 §4.1.3 with OAuth 2.1 PKCE: the code is consumed before anything is checked, so any
 * attempt — right or wrong verifier, right or wrong client — uses it up (no verifier guessing).
 * A second redemption revokes the grant the first one produced (SEC-OAUTH-10).
 */
export function createAuthorizationCodeGrant(deps: {
  state: AuthorizationState;
  tokenStore: TokenStore;
  revocations: RevocationService;
  idTokens: IdTokenIssuer;
  sessionLive: (sessionId: string) => Promise<boolean>;
  audit: AuditLog;
  codeTtlSeconds: number;
  now: () => number;
}): GrantHandler {
  return async (body: FormBody, client, grantDeps) => {
    const code = requiredParam(body, 'code');
    const record = await deps.state.redeemCode(code);
    if (!record) {
      // A replay: the first redemption may still be minting its grant — wait for it briefly.
      let grantId = await deps.state.redeemedGrant(code);
      for (let attempt = 0; attempt < 50 && grantId === PENDING; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        grantId = await deps.state.redeemedGrant(code);
      }
      const grant = grantId && grantId !== PENDING ? await deps.tokenStore.getGrant(grantId) : undefined;
      if (grant) {
        await deps.revocations.revokeGrant(grant, 'authorization code reused');
        await deps.audit.record({ type: 'token-revoked', outcome: 'failure', userId: grant.user_id, detail: { grant_id: grant.id, client_id: grant.client_id, reason: 'authorization code reused' } });
      }
      throw invalidGrant(grant ? 'code reuse: grant revoked' : 'unknown code');
    }
    // Marked at once, so that a replay racing this redemption finds it and waits for the grant.
    await deps.state.markRedeemed(code, PENDING);
    if (record.clientId !== client.clientId) throw invalidGrant('code of another client');
    const redirectUri = param(body, 'redirect_uri');
    if (record.redirectUriSent ? redirectUri !== record.redirectUri : redirectUri !== undefined && redirectUri !== record.redirectUri) {
      throw invalidGrant('redirect_uri differs from the authorization request');
    }
    if (deps.now() - record.issuedAt > deps.codeTtlSeconds * 1000) throw invalidGrant('code expired');
    const verifier = param(body, 'code_verifier');
    if (verifier === undefined) throw invalidGrant('code_verifier missing');
    if (!VERIFIER.test(verifier)) throw invalidGrant('code_verifier malformed');
    const computed = createHash('sha256').update(verifier, 'ascii').digest();
    const expected = Buffer.from(record.codeChallenge, 'base64url');
    if (expected.length !== computed.length || !timingSafeEqual(computed, expected)) throw invalidGrant('code_verifier does not match');

    // The user revoked the application (or it was deleted) after the code was issued.
    if (await deps.revocations.isRevoked({ clientId: client.clientId, userId: record.userId, issuedAt: record.issuedAt })) throw invalidGrant('access revoked after the code was issued');
    const user = await grantDeps.users.findById(record.userId);
    if (!user || user.disabledAt !== null) throw invalidGrant('user gone or disabled');
    // Tokens of a session that ended meanwhile would outlive it (SEC-OAUTH-22).
    if (!(await deps.sessionLive(record.sessionId))) throw invalidGrant('session ended');

    // offline_access: the grant outlives the browser session; otherwise it ends with it.
    const offline = record.scope.includes('offline_access');
    const { grant, refreshToken } = await grantDeps.refreshTokens.createGrant({ client, userId: user.id, sessionId: offline ? null : record.sessionId, scope: record.scope });
    await deps.state.markRedeemed(code, grant.id);
    return issueUserTokens({
      client,
      user,
      scope: record.scope,
      audience: record.audience,
      sessionId: record.sessionId,
      grantId: grant.id,
      refreshToken,
      authTime: record.authTime,
      amr: record.amr,
      acr: record.acr,
      nonce: record.nonce,
    }, { grantDeps, idTokens: deps.idTokens });
  };
}
