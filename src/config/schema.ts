/**
 * The one configuration schema: every key, its environment variable, its default and a
 * one-line doc. `docs/configuration.md` is generated from this file (`npm run docs:config`)
 * and a test fails when the two differ.
 *
 * Keys are camelCase in a JSON config file and `GATEHOUSE_SNAKE_CASE` in the environment;
 * the environment wins over the file.
 */
import { ValueError, type KeySpec } from './types.ts';
import * as p from './parsers.ts';

import { key } from './key.ts';
import { oauthGrantKeys } from './schema-oauth.ts';
import { eventKeys } from './schema-events.ts';
import { brandingKeys } from './schema-branding.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configSchema = {
  env: key({
    env: 'GATEHOUSE_ENV',
    doc: 'development (zero-config, generated master key, dev outbox) or production (every secret supplied, https issuer).',
    default: 'development' as 'development' | 'production',
    parse: p.oneOf(['development', 'production']),
  }),
  port: key({
    env: 'GATEHOUSE_PORT',
    doc: 'TCP port the HTTP server listens on.',
    default: 3000,
    parse: p.integer(0, 65535),
  }),
  host: key({
    env: 'GATEHOUSE_HOST',
    doc: 'Address to listen on: localhost (127.0.0.1 and ::1, matching the default public URL) by default; use 0.0.0.0 (or ::) in a container behind a load balancer.',
    default: 'localhost',
    parse: p.nonEmptyString,
  }),
  adminPort: key({
    env: 'GATEHOUSE_ADMIN_PORT',
    doc: 'Port of the admin listener (/metrics, /healthz, /readyz; never the public API); off = none. Unset in development: /metrics is served on the main port instead.',
    default: (resolved) => (resolved.env === 'production' ? 9464 : undefined),
    defaultText: '9464 in production, unset in development',
    parse: (raw: unknown): number | undefined => (raw === false || (typeof raw === 'string' && raw.trim().toLowerCase() === 'off') ? undefined : p.integer(0, 65535)(raw)),
  }),
  adminHost: key({
    env: 'GATEHOUSE_ADMIN_HOST',
    doc: 'Address the admin listener binds; keep it on loopback or a private interface that only the scraper reaches.',
    default: '127.0.0.1',
    parse: p.nonEmptyString,
  }),
  publicUrl: key({
    env: 'GATEHOUSE_PUBLIC_URL',
    doc: 'The public base URL and OAuth/OIDC issuer, printed at start-up as the one address to browse; must be https:// in production (http://localhost is allowed).',
    default: (resolved) => `http://localhost:${String(resolved.port)}`,
    defaultText: 'http://localhost:<port>',
    parse: p.httpUrl,
  }),
  dataDir: key({
    env: 'GATEHOUSE_DATA_DIR',
    doc: 'Directory for the embedded SQLite database and the generated development master key.',
    default: './data',
    parse: p.nonEmptyString,
  }),
  databaseUrl: key({
    env: 'GATEHOUSE_DATABASE_URL',
    doc: 'sqlite:<file> (embedded) or postgres://user:pass@host:5432/db (scaled out).',
    default: (resolved) => `sqlite:${String(resolved.dataDir).replace(/\/$/, '')}/gatehouse.db`,
    defaultText: 'sqlite:<dataDir>/gatehouse.db',
    parse: p.databaseUrl,
    secret: true,
  }),
  databasePoolSize: key({
    env: 'GATEHOUSE_DATABASE_POOL_SIZE',
    doc: 'Maximum PostgreSQL connections per instance.',
    default: 10,
    parse: p.integer(1, 200),
  }),
  redisUrl: key({
    env: 'GATEHOUSE_REDIS_URL',
    doc: 'redis://host:6379 for shared ephemeral state and revocation fan-out; unset = in-process (one instance only).',
    default: undefined as string | undefined,
    parse: p.redisUrl,
    secret: true,
  }),
  redisPrefix: key({
    env: 'GATEHOUSE_REDIS_PREFIX',
    doc: 'Prefix for every Redis key and channel, so several deployments can share one Redis.',
    default: 'gatehouse:',
    parse: p.nonEmptyString,
  }),
  masterKey: key({
    env: 'GATEHOUSE_MASTER_KEY',
    doc: 'Root secret (≥ 32 bytes, base64/base64url/hex) that encrypts signing keys; required in production, generated into <dataDir>/master.key in development.',
    default: undefined as string | undefined,
    parse: p.masterKey,
    secret: true,
  }),
  autoMigrate: key({
    env: 'GATEHOUSE_AUTO_MIGRATE',
    doc: 'Apply pending database migrations at start; when false, start refuses to run on an outdated schema (run `gatehouse migrate`).',
    default: true,
    parse: p.boolean,
  }),
  logLevel: key({
    env: 'GATEHOUSE_LOG_LEVEL',
    doc: 'pino log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info' as (typeof LOG_LEVELS)[number],
    parse: p.oneOf(LOG_LEVELS),
  }),
  bodyLimitBytes: key({
    env: 'GATEHOUSE_BODY_LIMIT_BYTES',
    doc: 'Largest accepted request body; larger bodies get 413.',
    default: 65536,
    parse: p.integer(1024, 10 * 1024 * 1024),
  }),
  trustedProxies: key({
    env: 'GATEHOUSE_TRUSTED_PROXIES',
    doc: 'IPs/CIDRs of reverse proxies whose X-Forwarded-For is honoured (comma-separated); empty = the socket address is the client.',
    default: Object.freeze([]) as readonly string[],
    parse: p.list(p.ipOrCidr),
  }),
  sessionCookieName: key({
    env: 'GATEHOUSE_SESSION_COOKIE_NAME',
    doc: 'Name of the session cookie; must start with __Host- (Secure, Path=/, no Domain).',
    default: '__Host-gatehouse',
    parse: (raw) => {
      const value = p.nonEmptyString(raw);
      if (!value.startsWith('__Host-') || !/^[A-Za-z0-9_-]+$/.test(value)) throw new ValueError('must start with __Host- and use only letters, digits, _ and -');
      return value;
    },
  }),
  sessionIdleTimeoutSeconds: key({
    env: 'GATEHOUSE_SESSION_IDLE_TIMEOUT_SECONDS',
    doc: 'A session unused for this long is over (ASVS L2: at most 30 minutes).',
    default: 1800,
    parse: p.integer(10, 30 * 24 * 3600),
  }),
  sessionAbsoluteTimeoutSeconds: key({
    env: 'GATEHOUSE_SESSION_ABSOLUTE_TIMEOUT_SECONDS',
    doc: 'A session ends this long after sign-in however active it is (ASVS L2: at most 12 hours).',
    default: 43200,
    parse: p.integer(10, 365 * 24 * 3600),
  }),
  sessionTouchIntervalSeconds: key({
    env: 'GATEHOUSE_SESSION_TOUCH_INTERVAL_SECONDS',
    doc: 'Sliding expiry writes last-seen at most this often per session, not on every request.',
    default: 60,
    parse: p.integer(1, 3600),
  }),
  sessionCacheSeconds: key({
    env: 'GATEHOUSE_SESSION_CACHE_SECONDS',
    doc: 'How long an instance trusts its in-process copy of a session; revocations are pushed to every instance at once, this bounds staleness if a push is lost.',
    default: 10,
    parse: p.integer(0, 300),
  }),
  firstPartyOrigins: key({
    env: 'GATEHOUSE_FIRST_PARTY_ORIGINS',
    doc: 'Origins (besides the public URL) allowed to make cookie-authenticated state-changing requests and credentialed CORS calls, comma-separated.',
    default: Object.freeze([]) as readonly string[],
    parse: p.list(p.origin),
  }),
  passwordMinLength: key({
    env: 'GATEHOUSE_PASSWORD_MIN_LENGTH',
    doc: 'Minimum password length in Unicode code points after NFKC normalisation (NIST SP 800-63B: at least 8).',
    default: 8,
    parse: p.integer(8, 64),
  }),
  passwordMaxLength: key({
    env: 'GATEHOUSE_PASSWORD_MAX_LENGTH',
    doc: 'Maximum password length in code points (at least 64); longer passwords are refused before hashing, never truncated.',
    default: 256,
    parse: p.integer(64, 1024),
  }),
  argon2MemoryKiB: key({
    env: 'GATEHOUSE_ARGON2_MEMORY_KIB',
    doc: 'argon2id memory cost in KiB (OWASP minimum 19456); stored hashes with less are re-hashed at the next sign-in.',
    default: 19456,
    parse: p.integer(19456, 4 * 1024 * 1024),
  }),
  argon2Iterations: key({
    env: 'GATEHOUSE_ARGON2_ITERATIONS',
    doc: 'argon2id time cost (OWASP minimum 2).',
    default: 2,
    parse: p.integer(2, 20),
  }),
  argon2Parallelism: key({
    env: 'GATEHOUSE_ARGON2_PARALLELISM',
    doc: 'argon2id lanes.',
    default: 1,
    parse: p.integer(1, 16),
  }),
  passwordHashConcurrency: key({
    env: 'GATEHOUSE_PASSWORD_HASH_CONCURRENCY',
    doc: 'At most this many argon2id computations at once (the rest queue); 0 = one fewer than the CPUs this process may use (at least 1), which keeps a core for the event loop.',
    default: 0,
    parse: p.integer(0, 64),
  }),
  passwordHashQueueMax: key({
    env: 'GATEHOUSE_PASSWORD_HASH_QUEUE_MAX',
    doc: 'At most this many password hashes (sign-in, sign-up, password change, reset) wait for a hashing slot; past it the request is answered 503 with Retry-After at once instead of waiting. 0 = 32 per slot (32 × passwordHashConcurrency): a full queue is about 32 hash times of wait.',
    default: 0,
    parse: p.integer(0, 100_000),
  }),
  passwordHashQueueWaitMs: key({
    env: 'GATEHOUSE_PASSWORD_HASH_QUEUE_WAIT_MS',
    doc: 'Longest a password hash waits for a hashing slot, in milliseconds; it then leaves the queue unrun and the request is answered 503 with Retry-After. Catches a starved CPU, where even a short queue is slow.',
    default: 5000,
    parse: p.integer(1, 600_000),
  }),
  requireVerifiedEmail: key({
    env: 'GATEHOUSE_REQUIRE_VERIFIED_EMAIL',
    doc: 'Refuse password sign-in until the email address is verified.',
    default: false,
    parse: p.boolean,
  }),
  emailVerificationTtlSeconds: key({
    env: 'GATEHOUSE_EMAIL_VERIFICATION_TTL_SECONDS',
    doc: 'Lifetime of an email verification link.',
    default: 86400,
    parse: p.integer(60, 7 * 86400),
  }),
  passwordResetTtlSeconds: key({
    env: 'GATEHOUSE_PASSWORD_RESET_TTL_SECONDS',
    doc: 'Lifetime of a password reset link (at most 1 hour).',
    default: 3600,
    parse: p.integer(60, 3600),
  }),
  smtpUrl: key({
    env: 'GATEHOUSE_SMTP_URL',
    doc: 'smtp(s)://user:pass@host:port for outgoing mail; unset in development = the dev outbox at /dev/outbox.',
    default: undefined as string | undefined,
    parse: (raw) => {
      const value = p.nonEmptyString(raw);
      if (!/^smtps?:\/\//.test(value)) throw new ValueError('must start with smtp:// or smtps://');
      return value;
    },
    secret: true,
  }),
  mailFrom: key({
    env: 'GATEHOUSE_MAIL_FROM',
    doc: 'From address of outgoing mail.',
    default: 'Gatehouse <no-reply@localhost>',
    parse: p.nonEmptyString,
  }),
  signInLimitPerIp: key({
    env: 'GATEHOUSE_SIGN_IN_LIMIT_PER_IP',
    doc: 'Sign-in attempts per client IP (IPv6 by /64) per 15 minutes.',
    default: 50,
    parse: p.integer(1, 100000),
  }),
  signUpLimitPerIp: key({
    env: 'GATEHOUSE_SIGN_UP_LIMIT_PER_IP',
    doc: 'Sign-ups, password-reset and verification requests per client IP per hour (each counted separately).',
    default: 20,
    parse: p.integer(1, 100000),
  }),
  introspectionInactiveLimit: key({
    env: 'GATEHOUSE_INTROSPECTION_INACTIVE_LIMIT',
    doc: 'Inactive answers (unknown, expired, revoked tokens) one client may get from /oauth/introspect per 5 minutes before 429: stops token scanning.',
    default: 300,
    parse: p.integer(1, 1000000),
  }),
  lockoutThreshold: key({
    env: 'GATEHOUSE_LOCKOUT_THRESHOLD',
    doc: 'Failed sign-ins for one account before it gets a temporary, doubling delay.',
    default: 5,
    parse: p.integer(1, 100),
  }),
  lockoutBaseDelaySeconds: key({
    env: 'GATEHOUSE_LOCKOUT_BASE_DELAY_SECONDS',
    doc: 'First lockout delay; each further lockout within 24 h doubles it.',
    default: 30,
    parse: p.integer(1, 3600),
  }),
  lockoutMaxDelaySeconds: key({
    env: 'GATEHOUSE_LOCKOUT_MAX_DELAY_SECONDS',
    doc: 'Longest lockout delay (never permanent).',
    default: 900,
    parse: p.integer(1, 86400),
  }),
  signingAlgorithm: key({
    env: 'GATEHOUSE_SIGNING_ALGORITHM',
    doc: 'Algorithm of new signing keys: ES256 (P-256), EdDSA (Ed25519) or RS256 (RSA 2048).',
    default: 'ES256' as 'ES256' | 'EdDSA' | 'RS256',
    parse: p.oneOf(['ES256', 'EdDSA', 'RS256']),
  }),
  idTokenSigningAlgorithm: key({
    env: 'GATEHOUSE_ID_TOKEN_SIGNING_ALGORITHM',
    doc: 'Algorithm of ID tokens: RS256 (the OpenID Connect default every client supports), ES256 or EdDSA. Its keys rotate like the access-token keys.',
    default: 'RS256' as 'ES256' | 'EdDSA' | 'RS256',
    parse: p.oneOf(['ES256', 'EdDSA', 'RS256']),
  }),
  keyRotationDays: key({
    env: 'GATEHOUSE_KEY_ROTATION_DAYS',
    doc: 'A signing key signs for this many days, then its successor (published a JWKS cache lifetime earlier) takes over.',
    default: 30,
    parse: p.integer(1, 3650),
  }),
  jwksCacheSeconds: key({
    env: 'GATEHOUSE_JWKS_CACHE_SECONDS',
    doc: 'Cache-Control max-age of /.well-known/jwks.json; a new key is published at least this long before it signs.',
    default: 300,
    parse: p.integer(0, 86400),
  }),
  accessTokenTtlSeconds: key({
    env: 'GATEHOUSE_ACCESS_TOKEN_TTL_SECONDS',
    doc: 'Default access token lifetime (clients may set their own, up to accessTokenMaxTtlSeconds).',
    default: 600,
    parse: p.integer(30, 86400),
  }),
  accessTokenMaxTtlSeconds: key({
    env: 'GATEHOUSE_ACCESS_TOKEN_MAX_TTL_SECONDS',
    doc: 'Longest access token lifetime any client may have; retired signing keys stay published this long.',
    default: 86400,
    parse: p.integer(60, 7 * 86400),
  }),
  refreshTokenIdleTtlSeconds: key({
    env: 'GATEHOUSE_REFRESH_TOKEN_IDLE_TTL_SECONDS',
    doc: 'A refresh token unused for this long expires (clients may set their own).',
    default: 2592000,
    parse: p.integer(60, 365 * 86400),
  }),
  refreshTokenAbsoluteTtlSeconds: key({
    env: 'GATEHOUSE_REFRESH_TOKEN_ABSOLUTE_TTL_SECONDS',
    doc: 'A grant’s refresh tokens stop working this long after the grant was made, however often rotated.',
    default: 7776000,
    parse: p.integer(60, 3650 * 86400),
  }),
  refreshReuseWindowSeconds: key({
    env: 'GATEHOUSE_REFRESH_REUSE_WINDOW_SECONDS',
    doc: 'A just-rotated refresh token presented again by the same client within this window, while its successor is unused, gets the same response (same successor and access token: retries, races); any other reuse revokes the grant. 0 turns retries off.',
    default: 10,
    parse: p.integer(0, 60),
  }),
  housekeepingIntervalSeconds: key({
    env: 'GATEHOUSE_HOUSEKEEPING_INTERVAL_SECONDS',
    doc: 'How often each instance deletes rows that can never be used again (refresh tokens and grants past revocation or lifetime, expired sessions, used one-time tokens, expired revocations; docs/operations.md#housekeeping), in small batches; 0 turns it off.',
    default: 3600,
    parse: p.integer(0, 7 * 86400),
  }),
  authorizationCodeTtlSeconds: key({
    env: 'GATEHOUSE_AUTHORIZATION_CODE_TTL_SECONDS',
    doc: 'An authorization code must be redeemed within this many seconds (at most 600).',
    default: 60,
    parse: p.integer(1, 600),
  }),
  idTokenTtlSeconds: key({
    env: 'GATEHOUSE_ID_TOKEN_TTL_SECONDS',
    doc: 'Lifetime of ID tokens.',
    default: 600,
    parse: p.integer(60, 86400),
  }),
  firstPartySkipConsent: key({
    env: 'GATEHOUSE_FIRST_PARTY_SKIP_CONSENT',
    doc: 'Clients flagged first-party by an administrator get no consent page.',
    default: true,
    parse: p.boolean,
  }),
  ...oauthGrantKeys,
  clients: key({
    env: 'GATEHOUSE_CLIENTS',
    doc: 'Declarative OAuth clients (JSON array; normally in the config file), applied idempotently at start — see docs/clients.md.',
    default: Object.freeze([]) as readonly Readonly<Record<string, unknown>>[],
    defaultText: '[]',
    parse: p.objectArray('client'),
  }),
  socialProviders: key({
    env: 'GATEHOUSE_SOCIAL_PROVIDERS',
    doc: 'Social login providers (JSON array; normally in the config file): presets google/github or generic oidc/oauth2, each secret read from the variable named by client_secret_env — see docs/social-login.md.',
    default: Object.freeze([]) as readonly Readonly<Record<string, unknown>>[],
    defaultText: '[]',
    parse: (raw) => {
      const value = p.objectArray('provider')(raw);
      value.forEach((item, index) => {
        if (Object.hasOwn(item, 'client_secret')) throw new ValueError(`[${index}].client_secret: a secret is never written in the config; name the environment variable that holds it in client_secret_env`);
        if (typeof item.client_secret_env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(item.client_secret_env) || item.client_secret_env.startsWith('GATEHOUSE_')) {
          throw new ValueError(`[${index}].client_secret_env: required — the name of the environment variable holding the client secret (e.g. GOOGLE_CLIENT_SECRET; not a GATEHOUSE_ name)`);
        }
      });
      return value;
    },
    // The secrets come from the environment, once, at load; the config file names them only.
    resolve: (entries, env) => Object.freeze(entries.map((entry, index) => {
      const name = entry.client_secret_env as string;
      const secret = env[name];
      if (secret === undefined || secret === '') throw new ValueError(`[${index}].client_secret_env: the environment variable ${name} is not set`);
      return Object.freeze({ ...entry, client_secret: secret });
    })),
    redact: (entries) => entries.map((entry) => ({ ...entry, ...(entry.client_secret === undefined ? {} : { client_secret: '[redacted]' }) })),
  }),
  mfaRequiredForAll: key({
    env: 'GATEHOUSE_MFA_REQUIRED_FOR_ALL',
    doc: 'Every user needs a second factor (users without one enrol at their next sign-in); see docs/mfa.md.',
    default: false,
    parse: p.boolean,
  }),
  mfaRequiredRoles: key({
    env: 'GATEHOUSE_MFA_REQUIRED_ROLES',
    doc: 'Roles whose users need a second factor (comma-separated); default admin in production, none in development.',
    default: (resolved) => Object.freeze(resolved.env === 'production' ? ['admin'] : []) as readonly string[],
    defaultText: 'admin in production, empty in development',
    parse: p.list(p.nonEmptyString),
  }),
  adminRecentSecondFactorSeconds: key({
    env: 'GATEHOUSE_ADMIN_RECENT_SECOND_FACTOR_SECONDS',
    doc: 'Admin sessions (API and console) of users the MFA policy covers need a second factor proved this recently, else 403 mfa_step_up_required; 0 = not required. See docs/admin.md.',
    default: 3600,
    parse: p.integer(0, 86400 * 30),
  }),
  ...eventKeys,
  ...brandingKeys,
  shutdownTimeoutMs: key({
    env: 'GATEHOUSE_SHUTDOWN_TIMEOUT_MS',
    doc: 'How long SIGTERM waits for in-flight requests before closing anyway.',
    default: 10000,
    parse: p.integer(0, 300000),
  }),
} as const;

export type ConfigSchema = typeof configSchema;

/** The frozen, typed configuration every feature receives (or a `Pick` of it). */
export type Config = {
  readonly [K in keyof ConfigSchema]: ConfigSchema[K] extends KeySpec<infer T> ? T : never;
} & {
  /** The config file that was read, if any (from `--config` or `GATEHOUSE_CONFIG`). */
  readonly configFile: string | undefined;
};

/** The meta variable naming the config file; not a key inside the file. */
export const CONFIG_FILE_ENV = 'GATEHOUSE_CONFIG';
