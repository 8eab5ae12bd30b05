import type { Kysely } from 'kysely';
import { apiError } from '../../errors/catalog.ts';
import { hashSecret, newId, randomToken } from '../../crypto/random.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { Config } from '../../config/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Client } from '../clients/model.ts';
import { createSqlTokenStore, type Grant, type RefreshTokenRow } from './store.ts';
import type { RevocationService } from './revocation.ts';

export interface RotationResult {
  grant: Grant;
  refreshToken: string;
  /** Scope of the refresh token (the grant's); the access token may be narrower. */
  scope: string[];
  /** The grant user's roles at this refresh ([] for a grant without a user). */
  roles: string[];
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function invalidGrant(detail: string) {
  // One description for every refusal: unknown, expired, revoked, foreign and reused look alike.
  return apiError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { detail });
}

/**
 * Refresh tokens: opaque 256-bit values stored as SHA-256, bound to a client and a grant, with
 * idle and absolute lifetimes. Every use rotates (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2):
 * - the rotation is one transaction — claim the old token, naming its successor sealed under the
 *   master key, and insert the successor — so a crash leaves the old token usable exactly once;
 * - concurrent or retried use of the same token by the same client within the reuse window gets
 *   the same successor (never two live chains, never a spurious revocation of an honest race);
 * - use after the window is replay: the whole grant is revoked and the event audited.
 */
export function createRefreshTokenService(deps: {
  db: Kysely<DatabaseSchema>;
  sealKey: Buffer;
  config: Pick<Config, 'refreshTokenIdleTtlSeconds' | 'refreshTokenAbsoluteTtlSeconds' | 'refreshReuseWindowSeconds' | 'sessionTouchIntervalSeconds'>;
  revocations: RevocationService;
  audit: AuditLog;
  /**
   * Marks a grant's session seen, false when it is no longer live. A grant outlives no session:
   * the token lookup reads the session row; a session seen within the touch interval is live
   * without a write (as for cookie sessions), an older one is touched through this.
   */
  sessionLive?: (sessionId: string) => Promise<boolean>;
  now?: () => number;
}) {
  const now = deps.now ?? Date.now;
  const store = createSqlTokenStore(deps.db);
  const windowMs = deps.config.refreshReuseWindowSeconds * 1000;
  const touchMs = deps.config.sessionTouchIntervalSeconds * 1000;

  function idleTtlMs(client: Client): number {
    return (client.refreshTokenIdleTtlSeconds ?? deps.config.refreshTokenIdleTtlSeconds) * 1000;
  }

  /** A new refresh token of the grant: its row (hash only) and the token, returned once. */
  function newToken(grant: Grant, scope: string, client: Client): { row: RefreshTokenRow; token: string } {
    const token = randomToken(32);
    const at = now();
    const row: RefreshTokenRow = {
      id: newId(at),
      token_hash: hashSecret(token),
      grant_id: grant.id,
      scope,
      created_at: at,
      idle_expires_at: Math.min(at + idleTtlMs(client), grant.expires_at),
      rotated_at: null,
      successor_id: null,
      successor_token_encrypted: null,
    };
    return { row, token };
  }

  async function successorOf(tokenId: string): Promise<string | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const successor = await store.getSuccessor(tokenId);
      if (successor) return open(deps.sealKey, successor.sealed, tokenId);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return undefined;
  }

  async function replay(grant: Grant, client: Client, tokenId: string): Promise<never> {
    await deps.revocations.revokeGrant(grant, 'refresh token reuse');
    await deps.audit.record({ type: 'refresh-token-reuse', outcome: 'failure', userId: grant.user_id, detail: { grant_id: grant.id, client_id: client.clientId, token_id: tokenId } });
    throw invalidGrant('refresh token reuse: grant revoked');
  }

  function absoluteMs(client: Client): number {
    return (client.refreshTokenAbsoluteTtlSeconds ?? deps.config.refreshTokenAbsoluteTtlSeconds) * 1000;
  }

  return {
    /** How long a grant of this client lives at most (device sessions of native apps live as long). */
    absoluteLifetimeMs: absoluteMs,

    /** A new grant and its first refresh token (authorization code, first-party sign-in). */
    async createGrant(input: { client: Client; userId: string | null; sessionId: string | null; scope: readonly string[] }): Promise<{ grant: Grant; refreshToken: string }> {
      const at = now();
      const grant: Grant = { id: newId(at), client_id: input.client.clientId, user_id: input.userId, session_id: input.sessionId, scope: input.scope.join(' '), created_at: at, expires_at: at + absoluteMs(input.client), revoked_at: null };
      const first = newToken(grant, grant.scope, input.client);
      await store.createGrantWithToken(grant, first.row);
      return { grant, refreshToken: first.token };
    },

    /** Rotates `presented` for `client`; throws `invalid_grant` for anything but a live token of this client. */
    async rotate(presented: string, client: Client, options: { check?: (grantScope: string[]) => void } = {}): Promise<RotationResult> {
      if (!TOKEN_PATTERN.test(presented)) throw invalidGrant('malformed refresh token');
      const found = await store.findRefreshToken(hashSecret(presented));
      if (!found) throw invalidGrant('unknown refresh token');
      const { token, grant, session, user } = found;
      if (grant.client_id !== client.clientId) throw invalidGrant('refresh token of another client');
      if (grant.revoked_at !== null) throw invalidGrant('grant revoked');
      const at = now();
      if (at >= grant.expires_at) throw invalidGrant('grant expired (absolute lifetime)');
      if (grant.user_id !== null && (user === null || user.disabled)) throw invalidGrant('user gone or disabled');
      const scope = grant.scope.split(' ').filter(Boolean);
      const roles = user?.roles ?? [];

      const sameSuccessor = async (rotatedAt: number): Promise<RotationResult> => {
        if (at - rotatedAt > windowMs) return replay(grant, client, token.id);
        options.check?.(scope);
        const successor = await successorOf(token.id);
        if (successor === undefined) return replay(grant, client, token.id);
        return { grant, refreshToken: successor, scope, roles };
      };

      if (token.rotated_at !== null) return sameSuccessor(token.rotated_at);
      if (at >= token.idle_expires_at) throw invalidGrant('refresh token expired (idle)');
      const sessionLive = async (sessionId: string | null): Promise<boolean> => {
        if (sessionId === null || !deps.sessionLive) return true;
        if (session === null || at >= session.expiresAt) return false;
        return at - session.lastSeenAt < touchMs || deps.sessionLive(sessionId);
      };
      if (!(await sessionLive(grant.session_id))) {
        // The session it was issued with has ended (expired, or removed while this instance was not told).
        await deps.revocations.revokeGrant(grant, 'session ended');
        throw invalidGrant('session ended');
      }
      // A request refused for its own reasons (scope) must not use the token up.
      options.check?.(scope);

      // One transaction, two statements: claim the old token naming its (sealed) successor, insert the successor.
      const next = newToken(grant, token.scope, client);
      if (!(await store.rotateRefreshToken(token.id, at, next.row, seal(deps.sealKey, next.token, token.id)))) {
        // Lost the race to a concurrent request with the same token: same successor.
        return sameSuccessor(at);
      }
      return { grant, refreshToken: next.token, scope, roles };
    },

    /** RFC 7009: revoking a refresh token revokes its grant (every refresh and access token of it). */
    async revoke(presented: string, client: Client): Promise<'revoked' | 'unknown' | 'foreign'> {
      if (!TOKEN_PATTERN.test(presented)) return 'unknown';
      const found = await store.findRefreshToken(hashSecret(presented));
      if (!found) return 'unknown'; // §2.2: unknown → 200 anyway
      if (found.grant.client_id !== client.clientId) {
        // Only a live token is worth refusing; a dead one is "unknown" to everybody.
        const live = found.grant.revoked_at === null && now() < found.grant.expires_at;
        return live ? 'foreign' : 'unknown';
      }
      await deps.revocations.revokeGrant(found.grant, 'revoked by client');
      return 'revoked';
    },

    /** RFC 7662 view of a refresh token, or undefined when it is not active. */
    async introspect(presented: string): Promise<{ grant: Grant; token: RefreshTokenRow } | undefined> {
      if (!TOKEN_PATTERN.test(presented)) return undefined;
      const found = await store.findRefreshToken(hashSecret(presented));
      if (!found) return undefined;
      const at = now();
      if (found.grant.revoked_at !== null || found.token.rotated_at !== null || at >= found.grant.expires_at || at >= found.token.idle_expires_at) return undefined;
      return found;
    },
  };
}

export type RefreshTokenService = ReturnType<typeof createRefreshTokenService>;
