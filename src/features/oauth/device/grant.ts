import { ApiError, apiError, type ErrorCode } from '../../../errors/catalog.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { IdTokenIssuer } from '../id-token.ts';
import { requiredParam, type FormBody } from '../params.ts';
import { issueUserTokens } from '../token/grants/user-tokens.ts';
import type { GrantHandler } from '../token/types.ts';
import type { DeviceState } from './state.ts';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

/**
 * A token-endpoint error with status 400 whatever the catalog says elsewhere: RFC 6749 §5.2
 * (which RFC 8628 §3.5 extends) answers 400 for every error but `invalid_client`, also for
 * `access_denied` (403 at our other endpoints).
 */
class TokenEndpointError extends ApiError {
  override readonly status: number = 400;
}

function tokenError(error: ErrorCode, description: string, detail?: string): ApiError {
  return new TokenEndpointError(error, description, detail === undefined ? {} : { detail });
}

/**
 * RFC 8628 §3.4–§3.5: the device polls with its device code until the user has answered on
 * `/device`. Tokens are issued as for an authorization code: an ID token when `openid` was
 * granted, a refresh token when the client may refresh; without `offline_access` the grant ends
 * with the browser session in which the user approved it.
 */
export function createDeviceCodeGrant(deps: {
  state: DeviceState;
  revocations: RevocationService;
  idTokens: IdTokenIssuer;
  sessionLive: (sessionId: string) => Promise<boolean>;
}): GrantHandler {
  return async (body: FormBody, client, grantDeps) => {
    const outcome = await deps.state.poll(requiredParam(body, 'device_code'), client.clientId);
    switch (outcome.kind) {
      case 'unknown':
        throw apiError('invalid_grant', 'The device code is invalid or was already used.', { detail: 'unknown, used, or another client’s device code' });
      case 'expired':
        throw tokenError('expired_token', 'The device code has expired. Start again on the device.');
      case 'slow_down':
        throw tokenError('slow_down', `Polling too fast: wait ${outcome.interval} seconds between requests.`);
      case 'pending':
        throw tokenError('authorization_pending', 'The user has not answered yet.');
      case 'denied':
        throw tokenError('access_denied', 'The user denied the request.');
      case 'approved':
        break;
    }
    const record = outcome.record;
    const userId = record.userId!;
    const sessionId = record.sessionId!;
    if (await deps.revocations.isRevoked({ clientId: client.clientId, userId, issuedAt: record.answeredAt })) {
      throw apiError('invalid_grant', 'The device code is invalid or was already used.', { detail: 'access revoked after approval' });
    }
    const user = await grantDeps.users.findById(userId);
    if (!user || user.disabledAt !== null) throw apiError('invalid_grant', 'The device code is invalid or was already used.', { detail: 'user gone or disabled' });
    const offline = record.scope.includes('offline_access');
    // Tokens of a session that ended meanwhile would outlive it (SEC-OAUTH-22).
    if (!offline && !(await deps.sessionLive(sessionId))) throw apiError('invalid_grant', 'The device code is invalid or was already used.', { detail: 'session ended' });

    const { grant, refreshToken } = await grantDeps.refreshTokens.createGrant({ client, userId: user.id, sessionId: offline ? null : sessionId, scope: record.scope });
    // As for an authorization code: the access token says how the user authenticated in the
    // approving session (amr/acr, which userinfo returns), the ID token too.
    return issueUserTokens({
      client,
      user,
      scope: record.scope,
      audience: record.audience,
      sessionId,
      grantId: grant.id,
      refreshToken,
      authTime: record.authTime!,
      amr: record.amr ?? [],
    }, { grantDeps, idTokens: deps.idTokens });
  };
}
