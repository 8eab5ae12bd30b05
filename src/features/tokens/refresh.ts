import type { Kysely } from 'kysely';
import { apiError } from '../../errors/catalog.ts';
import { hashSecret, newId, randomToken } from '../../crypto/random.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { Config } from '../../config/schema.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { Client } from '../clients/model.ts';
import { createSqlTokenStore, type FoundRefreshToken, type Grant, type KnownRotation, type RefreshTokenRow, type SealedResponse } from './store.ts';
import { createRotationHints, type RotationHint } from './rotation-hints.ts';
import type { IssuedAccessToken } from './access-token.ts';
import type { RevocationService } from './revocation.ts';

/** What the token endpoint asks of a rotation: the access token it wants, and how to mint it. */
export interface RefreshRequest {
  /**
   * The access token's scope and audience for the grant's scope; throws (`invalid_scope`) to
   * refuse, which leaves the refresh token unused.
   */
  resolve(grantScope: string[]): { scope: string[]; audience: string[] };
  /** Mints the rotation's access token, before the rotation commits: it is kept sealed beside the successor. */
  issue(input: { grant: Grant; scope: string[]; audience: string[]; roles: string[] }): Promise<IssuedAccessToken>;
}

export interface RotationResult {
  grant: Grant;
  refreshToken: string;
  accessToken: string;
  /** Seconds the access token has left: its lifetime on a rotation, less on a retry. */
  expiresIn: number;
  /** The access token's scope (the grant's, or narrower). */
  scope: string[];
}

/** The sealed part of the first response that a retry repeats. */
interface RepeatedAccessToken {
  access_token: string;
  scope: string[];
  audience: string[];
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Rotation hints kept per instance (~0.5 KB each); past it the oldest fall back to lookup-then-claim. */
const HINT_LIMIT = 100_000;

function invalidGrant(detail: string) {
  // One description for every refusal: unknown, expired, revoked, foreign and reused look alike.
  return apiError('invalid_grant', 'The refresh token is invalid, expired or revoked.', { detail });
}

/**
 * Refresh tokens: opaque 256-bit values stored as SHA-256, bound to a client and a grant, with
 * idle and absolute lifetimes. Every use rotates (OAuth 2.1 §4.3.1, RFC 9700 §4.14.2):
 * - the rotation is one transaction — claim the old token, keeping its response (the successor
 *   and the access token, sealed under the master key), and insert the successor — so a crash
 *   leaves the old token usable exactly once;
 * - SEC-REL-03: a rotated token is honoured again only as a retry — within the reuse window and
 *   while its successor was never used — and gets the same response (the same successor, the
 *   same access token with `expires_in` counted down): a retry or a racing duplicate mints
 *   nothing, never forks the chain and never revokes an honest race;
 * - any other presentation of a rotated token is reuse: the whole grant is revoked and audited;
 * - on PostgreSQL a token this instance issued rotates in one statement (one round trip): the
 *   access token is minted from what the instance remembered (rotation-hints.ts), and the
 *   statement claims only if all of it still holds; otherwise the lookup-then-claim path answers.
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
  // Successors this instance issued (PostgreSQL: their rotation is one statement).
  const hints = createRotationHints(store.rotateKnownRefreshToken ? HINT_LIMIT : 0);

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
      successor_access_token_encrypted: null,
      successor_access_token_expires_at: null,
    };
    return { row, token };
  }

  async function replay(grant: Grant, client: Client, tokenId: string, reason: string): Promise<never> {
    await deps.revocations.revokeGrant(grant, 'refresh token reuse');
    await deps.audit.record({ type: 'refresh-token-reuse', outcome: 'failure', userId: grant.user_id, detail: { grant_id: grant.id, client_id: client.clientId, token_id: tokenId, reason } });
    throw invalidGrant(`refresh token reuse (${reason}): grant revoked`);
  }

  /** Refusals that hold for a fresh and a rotated token alike; none of them revokes. */
  function checkGrant(found: FoundRefreshToken, client: Client, at: number): void {
    const { grant, user } = found;
    if (grant.client_id !== client.clientId) throw invalidGrant('refresh token of another client');
    if (grant.revoked_at !== null) throw invalidGrant('grant revoked');
    if (at >= grant.expires_at) throw invalidGrant('grant expired (absolute lifetime)');
    if (grant.user_id !== null && (user === null || user.disabled)) throw invalidGrant('user gone or disabled');
  }

  function accessContext(tokenId: string): string {
    return `${tokenId} access-token`;
  }

  function openSealed(token: RefreshTokenRow): { successor: string; access: RepeatedAccessToken; expiresAt: number } | undefined {
    if (token.successor_token_encrypted === null || token.successor_access_token_encrypted === null || token.successor_access_token_expires_at === null) return undefined;
    try {
      const access = JSON.parse(open(deps.sealKey, token.successor_access_token_encrypted, accessContext(token.id))) as RepeatedAccessToken;
      return { successor: open(deps.sealKey, token.successor_token_encrypted, token.id), access, expiresAt: token.successor_access_token_expires_at };
    } catch {
      return undefined; // another master key, or a damaged row: nothing to repeat
    }
  }

  /**
   * SEC-REL-03: a rotated token presented again. Within the window and while its successor was
   * never used, it is a retry (or a racing duplicate) and gets the first response again;
   * otherwise it is reuse.
   */
  async function repeat(found: FoundRefreshToken, client: Client, at: number, request: RefreshRequest): Promise<RotationResult> {
    const { token, grant, successor } = found;
    const rotatedAt = token.rotated_at ?? at;
    // A window of 0: any second presentation, even a racing duplicate, is reuse.
    if (!(at - rotatedAt < windowMs)) return replay(grant, client, token.id, 'after the window');
    // "Used" = rotated (a revoked successor has a revoked grant, refused above); a missing row fails closed.
    if (successor === null || successor.rotatedAt !== null) return replay(grant, client, token.id, 'successor already used');
    // SEC-OAUTH-21: an expired token is never accepted, not even inside the window. Not reuse:
    // the successor is unused and stays with whoever received it.
    if (at >= token.idle_expires_at) throw invalidGrant('refresh token expired (idle)');
    const wanted = request.resolve(found.grant.scope.split(' ').filter(Boolean));
    const sealed = openSealed(token);
    if (!sealed) throw invalidGrant('no stored response to repeat');
    // A retry repeats the request; one asking for another scope or audience is refused (nothing
    // is minted, nothing revoked) rather than answered with a token it did not ask for.
    if (!sameSet(wanted.scope, sealed.access.scope) || !sameSet(wanted.audience, sealed.access.audience)) throw invalidGrant('a retry asking for another scope or audience');
    const expiresIn = Math.floor((sealed.expiresAt - at) / 1000);
    if (expiresIn <= 0) throw invalidGrant('the repeated access token has expired');
    return { grant, refreshToken: sealed.successor, accessToken: sealed.access.access_token, expiresIn, scope: sealed.access.scope };
  }

  /** The response a rotation keeps in its claim: the successor and the access token, sealed. */
  function sealResponse(tokenId: string, successor: string, issued: IssuedAccessToken, wanted: { scope: string[]; audience: string[] }): SealedResponse {
    const access: RepeatedAccessToken = { access_token: issued.accessToken, scope: wanted.scope, audience: wanted.audience };
    return {
      successor: seal(deps.sealKey, successor, tokenId),
      accessToken: seal(deps.sealKey, JSON.stringify(access), accessContext(tokenId)),
      accessTokenExpiresAt: issued.expiresAt,
    };
  }

  /** The successor's hint: what this rotation knew, for the next one (rotation-hints.ts). */
  function rememberSuccessor(next: { row: RefreshTokenRow }, grant: Grant, roles: string[] | null, sessionSeenAt: number | null): void {
    if (!store.rotateKnownRefreshToken) return;
    hints.remember(next.row.token_hash, { tokenId: next.row.id, tokenScope: next.row.scope, idleExpiresAt: next.row.idle_expires_at, grant, roles, sessionSeenAt });
  }

  /**
   * A token this instance issued: the access token is minted from the hint first, then one
   * statement looks the token up, checks in SQL that the hint still holds, claims and inserts
   * the successor. Undefined when the hint does not fit this request (the ordinary path then
   * gives the canonical answer); `found` when the statement did not claim.
   */
  async function rotateKnown(tokenHash: string, hint: RotationHint, client: Client, request: RefreshRequest): Promise<{ result: RotationResult } | { found: FoundRefreshToken | undefined } | undefined> {
    const at = now();
    const { grant } = hint;
    if (grant.client_id !== client.clientId || at >= grant.expires_at || at >= hint.idleExpiresAt) return undefined;
    let wanted: { scope: string[]; audience: string[] };
    try {
      wanted = request.resolve(grant.scope.split(' ').filter(Boolean));
    } catch {
      return undefined; // refused for its own reasons: the ordinary path refuses it in the usual order
    }
    const issued = await request.issue({ grant, ...wanted, roles: hint.roles ?? [] });
    const next = newToken(grant, hint.tokenScope, client);
    const response = sealResponse(hint.tokenId, next.token, issued, wanted);
    // The session touch (sliding expiry) is due about once a minute: the statement carries it only
    // when what this instance last saw of the session is older than the interval.
    const touchBefore = at - touchMs + 1;
    const touchDue = deps.sessionLive !== undefined && grant.session_id !== null && (hint.sessionSeenAt === null || hint.sessionSeenAt < touchBefore);
    const known: KnownRotation = {
      tokenHash, tokenId: hint.tokenId, tokenScope: hint.tokenScope, grant, roles: grant.user_id === null ? null : hint.roles,
      touchSessionSeenBefore: touchDue ? touchBefore : 0,
    };
    const outcome = await store.rotateKnownRefreshToken!(known, at, next.row, response);
    if (!outcome.rotated) return { found: outcome.found };
    rememberSuccessor(next, grant, hint.roles, outcome.sessionSeenAt);
    return { result: { grant, refreshToken: next.token, accessToken: issued.accessToken, expiresIn: issued.expiresIn, scope: wanted.scope } };
  }

  /** A rotation from the lookup: checks, then mint, then the claim (lookup-then-claim path). */
  async function rotateFound(found: FoundRefreshToken, tokenHash: string, client: Client, request: RefreshRequest): Promise<RotationResult> {
    const at = now();
    checkGrant(found, client, at);
    const { token, grant, session, user } = found;
    if (token.rotated_at !== null) return repeat(found, client, at, request);
    if (at >= token.idle_expires_at) throw invalidGrant('refresh token expired (idle)');
    // When the session was last seen once this rotation is done (the successor's hint keeps it).
    let sessionSeenAt = session?.lastSeenAt ?? null;
    const sessionLive = async (sessionId: string | null): Promise<boolean> => {
      if (sessionId === null || !deps.sessionLive) return true;
      if (session === null || at >= session.expiresAt) return false;
      if (at - session.lastSeenAt < touchMs) return true;
      sessionSeenAt = at; // marked seen by deps.sessionLive when live
      return deps.sessionLive(sessionId);
    };
    if (!(await sessionLive(grant.session_id))) {
      // The session it was issued with has ended (expired, or removed while this instance was not told).
      await deps.revocations.revokeGrant(grant, 'session ended');
      throw invalidGrant('session ended');
    }
    // A request refused for its own reasons (scope) must not use the token up.
    const wanted = request.resolve(grant.scope.split(' ').filter(Boolean));
    // Minted before the claim, so that the claim keeps it: a racer that loses returns the
    // winner's token instead, and this one is never sent anywhere.
    const roles = user?.roles ?? [];
    const issued = await request.issue({ grant, ...wanted, roles });
    const next = newToken(grant, token.scope, client);
    // One transaction: claim the old token keeping the response, insert the successor.
    if (!(await store.rotateRefreshToken(token.id, at, next.row, sealResponse(token.id, next.token, issued, wanted)))) {
      // Lost the race to a concurrent request with the same token, whose rotation has
      // committed: answer as for a retry (the same successor and access token).
      const again = await store.findRefreshToken(tokenHash);
      if (!again || again.token.rotated_at === null) throw invalidGrant('rotation lost to a concurrent request');
      checkGrant(again, client, at);
      return repeat(again, client, at, request);
    }
    rememberSuccessor(next, grant, user === null ? null : roles, sessionSeenAt);
    return { grant, refreshToken: next.token, accessToken: issued.accessToken, expiresIn: issued.expiresIn, scope: wanted.scope };
  }

  function absoluteMs(client: Client): number {
    return (client.refreshTokenAbsoluteTtlSeconds ?? deps.config.refreshTokenAbsoluteTtlSeconds) * 1000;
  }

  return {
    /** How long a grant of this client lives at most (device sessions of native apps live as long). */
    absoluteLifetimeMs: absoluteMs,

    /** A new grant and its first refresh token (authorization code, first-party sign-in). */
    async createGrant(input: { client: Client; userId: string | null; sessionId: string | null; scope: readonly string[]; /** RFC 9449 §5: the DPoP key its refresh tokens are bound to. */ jkt?: string }): Promise<{ grant: Grant; refreshToken: string }> {
      const at = now();
      const grant: Grant = { id: newId(at), client_id: input.client.clientId, user_id: input.userId, session_id: input.sessionId, scope: input.scope.join(' '), created_at: at, expires_at: at + absoluteMs(input.client), revoked_at: null, jkt: input.jkt ?? null };
      const first = newToken(grant, grant.scope, input.client);
      await store.createGrantWithToken(grant, first.row);
      return { grant, refreshToken: first.token };
    },

    /**
     * Rotates `presented` for `client`, minting the access token through `request`; throws
     * `invalid_grant` for anything but a live token of this client or a retry (SEC-REL-03).
     */
    async rotate(presented: string, client: Client, request: RefreshRequest): Promise<RotationResult> {
      if (!TOKEN_PATTERN.test(presented)) throw invalidGrant('malformed refresh token');
      const tokenHash = hashSecret(presented);
      const hint = hints.take(tokenHash);
      const known = hint ? await rotateKnown(tokenHash, hint, client, request) : undefined;
      if (known && 'result' in known) return known.result;
      // Without a hint, or when the one statement did not claim: the lookup (or what that
      // statement found) decides, exactly as for a token this instance never saw.
      const found = known ? known.found : await store.findRefreshToken(tokenHash);
      if (!found) throw invalidGrant('unknown refresh token');
      return rotateFound(found, tokenHash, client, request);
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

function sameSet(left: readonly string[], right: readonly string[]): boolean {
  const set = new Set(left);
  return set.size === new Set(right).size && right.every((value) => set.has(value));
}

export type RefreshTokenService = ReturnType<typeof createRefreshTokenService>;
