import type { Client } from '../../clients/model.ts';
import type { GrantDeps } from '../token/types.ts';
import type { DPoPBinding } from './service.ts';

/**
 * The grant dependencies for a request with a verified DPoP proof (RFC 9449 §5): every access
 * token it mints carries `cnf.jkt`, and a grant a public client creates binds its refresh
 * tokens to the key (a confidential client's refresh tokens are bound to its authentication).
 */
export function boundGrantDeps(deps: GrantDeps, client: Client, binding: DPoPBinding): GrantDeps {
  const accessTokens: GrantDeps['accessTokens'] = { issue: (request) => deps.accessTokens.issue({ ...request, confirmation: { jkt: binding.jkt } }) };
  if (client.type !== 'public') return { ...deps, accessTokens };
  const refreshTokens: GrantDeps['refreshTokens'] = { ...deps.refreshTokens, createGrant: (input) => deps.refreshTokens.createGrant({ ...input, jkt: binding.jkt }) };
  return { ...deps, accessTokens, refreshTokens };
}
