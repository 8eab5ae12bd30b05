import * as p from './parsers.ts';
import { key } from './key.ts';

/** The keys of the device grant, PAR, dynamic registration, DPoP and token exchange (docs/oauth.md). Spread into `configSchema` (schema.ts) at their place in docs/configuration.md. */
export const oauthGrantKeys = {
  deviceCodeTtlSeconds: key({
    env: 'GATEHOUSE_DEVICE_CODE_TTL_SECONDS',
    doc: 'Device authorization grant (RFC 8628): how long a device code and its user code stay valid.',
    default: 600,
    parse: p.integer(60, 1800),
  }),
  devicePollIntervalSeconds: key({
    env: 'GATEHOUSE_DEVICE_POLL_INTERVAL_SECONDS',
    doc: 'Device authorization grant: the minimum seconds between two token requests for one device code (faster polls get slow_down, and 5 seconds more each time).',
    default: 5,
    parse: p.integer(1, 60),
  }),
  deviceUserCodeAttemptsPerIp: key({
    env: 'GATEHOUSE_DEVICE_USER_CODE_ATTEMPTS_PER_IP',
    doc: 'Wrong user codes entered on /device per client IP (IPv6 by /64) per 15 minutes, counted across instances.',
    default: 10,
    parse: p.integer(1, 100000),
  }),
  pushedAuthorizationRequestTtlSeconds: key({
    env: 'GATEHOUSE_PAR_TTL_SECONDS',
    doc: 'Pushed authorization requests (RFC 9126): lifetime of a request_uri.',
    default: 60,
    parse: p.integer(5, 600),
  }),
  requirePushedAuthorizationRequests: key({
    env: 'GATEHOUSE_REQUIRE_PUSHED_AUTHORIZATION_REQUESTS',
    doc: 'Every client must push its authorization request to /oauth/par first (RFC 9126 §5); otherwise only clients registered with require_pushed_authorization_requests.',
    default: false,
    parse: p.boolean,
  }),
  dynamicRegistration: key({
    env: 'GATEHOUSE_DYNAMIC_REGISTRATION',
    doc: 'Dynamic client registration at /oauth/register (RFC 7591/7592): off (404), open (anyone may register an untrusted client), or initial-access-token (a token from `gatehouse clients initial-token` or POST /api/admin/initial-access-tokens is required) — see docs/oauth.md.',
    default: 'off' as 'off' | 'open' | 'initial-access-token',
    parse: p.oneOf(['off', 'open', 'initial-access-token']),
  }),
  dynamicRegistrationsPerIp: key({
    env: 'GATEHOUSE_DYNAMIC_REGISTRATIONS_PER_IP',
    doc: 'Calls to /oauth/register (registrations and their management) per client IP (IPv6 by /64) per hour, counted across instances.',
    default: 20,
    parse: p.integer(1, 100000),
  }),
  dpopProofWindowSeconds: key({
    env: 'GATEHOUSE_DPOP_PROOF_WINDOW_SECONDS',
    doc: 'A DPoP proof (RFC 9449) is accepted when its iat is at most this many seconds from now, either way; its jti is remembered (shared by every instance) for twice as long.',
    default: 30,
    parse: p.integer(10, 300),
  }),
  dpopRequireNonce: key({
    env: 'GATEHOUSE_DPOP_REQUIRE_NONCE',
    doc: 'DPoP proofs at the token endpoint and userinfo must carry a server nonce (RFC 9449 §8: use_dpop_nonce with a DPoP-Nonce header otherwise); nonces change every 5 minutes.',
    default: false,
    parse: p.boolean,
  }),
  dpopBoundClients: key({
    env: 'GATEHOUSE_DPOP_BOUND_CLIENTS',
    doc: 'Client ids whose tokens must be DPoP-bound (RFC 9449 §5.2 dpop_bound_access_tokens): their token requests without a DPoP proof are refused (comma-separated).',
    default: Object.freeze([]) as readonly string[],
    parse: p.list(p.nonEmptyString),
  }),
  tokenExchangePolicies: key({
    env: 'GATEHOUSE_TOKEN_EXCHANGE_POLICIES',
    doc: 'Who may exchange whose tokens (RFC 8693; JSON array, normally in the config file): client_id, subject_clients (or ["*"]), audiences, scopes, id_tokens — see docs/oauth.md.',
    default: Object.freeze([]) as readonly Readonly<Record<string, unknown>>[],
    defaultText: '[]',
    parse: p.objectArray('token exchange policy'),
  }),
} as const;
