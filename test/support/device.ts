/** Fixture clients of the device-flow tests (test/oauth/device-flow.test.ts, test/oidc/openid-client-device.test.ts). */
import { createHash } from 'node:crypto';
import { OIDC_SCOPES, oidcClients } from './oidc.ts';

export const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const TV_SECRET = 'tvconf-secret-0f9e8d7c6b5a49382716a5b4c3d2e1f0';

/** `tv`: a public device app (refresh allowed); `tvconf`: a confidential one (client_secret_basic, no refresh); plus the code-flow clients. */
export function deviceClients(extra: Record<string, unknown>[] = []): Record<string, unknown>[] {
  return oidcClients([
    { client_id: 'tv', name: 'Living Room TV', type: 'public', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT, 'refresh_token'], scopes: OIDC_SCOPES, audiences: [] },
    {
      client_id: 'tvconf',
      name: 'Set-top Box',
      type: 'confidential',
      token_endpoint_auth_method: 'client_secret_basic',
      client_secret_hash: createHash('sha256').update(TV_SECRET).digest('base64url'),
      grant_types: [DEVICE_GRANT],
      scopes: ['openid', 'profile'],
      audiences: [],
    },
    ...extra,
  ]);
}
