import type { FastifyInstance } from 'fastify';

export const SCOPES_SUPPORTED = ['openid', 'profile', 'email', 'roles', 'offline_access'];

/**
 * `/.well-known/openid-configuration` (OIDC Discovery) and `/.well-known/oauth-authorization-server`
 * (RFC 8414): the same document, advertising exactly what is implemented — code flow only,
 * S256 only, no request objects, `iss` in authorization responses (RFC 9207).
 */
export function registerDiscoveryRoutes(app: FastifyInstance, deps: { issuer: string; idTokenSigningAlgorithm: string; requirePushedAuthorizationRequests?: boolean; registrationEndpoint?: boolean }): void {
  const document = () => {
    const algs = [deps.idTokenSigningAlgorithm];
    const authMethods = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
    return {
      issuer: deps.issuer,
      authorization_endpoint: `${deps.issuer}/oauth/authorize`,
      token_endpoint: `${deps.issuer}/oauth/token`,
      userinfo_endpoint: `${deps.issuer}/oauth/userinfo`,
      jwks_uri: `${deps.issuer}/.well-known/jwks.json`,
      end_session_endpoint: `${deps.issuer}/oauth/end-session`,
      revocation_endpoint: `${deps.issuer}/oauth/revoke`,
      introspection_endpoint: `${deps.issuer}/oauth/introspect`,
      // RFC 8628 §4 and RFC 9126 §5 (src/features/oauth/device, src/features/oauth/par).
      device_authorization_endpoint: `${deps.issuer}/oauth/device_authorization`,
      pushed_authorization_request_endpoint: `${deps.issuer}/oauth/par`,
      require_pushed_authorization_requests: deps.requirePushedAuthorizationRequests ?? false,
      // RFC 8414 §2: only when dynamic registration is on (src/features/oauth/register).
      ...(deps.registrationEndpoint ? { registration_endpoint: `${deps.issuer}/oauth/register` } : {}),
      scopes_supported: SCOPES_SUPPORTED,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials', 'urn:ietf:params:oauth:grant-type:device_code', 'urn:ietf:params:oauth:grant-type:token-exchange'],
      // RFC 9449 §5.1: DPoP proofs at the token endpoint and userinfo (src/features/oauth/dpop).
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: algs,
      token_endpoint_auth_methods_supported: authMethods,
      token_endpoint_auth_signing_alg_values_supported: ['ES256', 'EdDSA', 'RS256', 'PS256'],
      revocation_endpoint_auth_methods_supported: authMethods,
      introspection_endpoint_auth_methods_supported: authMethods,
      code_challenge_methods_supported: ['S256'],
      acr_values_supported: ['1', '2'],
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'at_hash', 'sid', 'name', 'email', 'email_verified', 'roles'],
      prompt_values_supported: ['none', 'login', 'consent', 'select_account'],
      authorization_response_iss_parameter_supported: true,
      request_parameter_supported: false,
      request_uri_parameter_supported: false,
      claims_parameter_supported: false,
      frontchannel_logout_supported: false,
      // OpenID Connect Back-Channel Logout 1.0 §2.1 (src/features/oauth/backchannel-logout).
      backchannel_logout_supported: true,
      backchannel_logout_session_supported: true,
    };
  };
  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(path, { schema: { tags: ['oidc'], summary: 'Provider metadata (OpenID Connect Discovery, RFC 8414).' } }, async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300').header('access-control-allow-origin', '*');
      return document();
    });
  }
}
