import type { Client } from '../../clients/model.ts';
import type { AccessTokenIssuer } from '../../tokens/access-token.ts';
import type { RefreshTokenService } from '../../tokens/refresh.ts';
import type { UserStore } from '../../accounts/store.ts';
import type { FormBody } from '../params.ts';

export interface TokenResponse {
  access_token: string;
  /** `DPoP` when the access token is bound to the request's DPoP key (RFC 9449 §5). */
  token_type: 'Bearer' | 'DPoP';
  /** RFC 8693 §2.2.1, token exchange only. */
  issued_token_type?: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
  id_token?: string;
}

export interface GrantDeps {
  issuer: string;
  accessTokens: AccessTokenIssuer;
  refreshTokens: RefreshTokenService;
  users: UserStore;
}

/** What the token endpoint established about the request before the grant runs. */
export interface GrantContext {
  /** The key of a verified DPoP proof (RFC 9449): the tokens issued are bound to it. */
  dpop?: { jkt: string };
}

/** One grant type: takes the form body and the authenticated client, returns the token response. */
export type GrantHandler = (body: FormBody, client: Client, deps: GrantDeps, context?: GrantContext) => Promise<TokenResponse>;
