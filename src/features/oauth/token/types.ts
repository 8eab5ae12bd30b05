import type { Client } from '../../clients/model.ts';
import type { AccessTokenIssuer } from '../../tokens/access-token.ts';
import type { RefreshTokenService } from '../../tokens/refresh.ts';
import type { UserStore } from '../../accounts/store.ts';
import type { FormBody } from '../params.ts';

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
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

/** One grant type: takes the form body and the authenticated client, returns the token response. */
export type GrantHandler = (body: FormBody, client: Client, deps: GrantDeps) => Promise<TokenResponse>;
