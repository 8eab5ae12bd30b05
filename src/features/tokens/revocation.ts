import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import { JWT_LEEWAY_SECONDS } from '../../keys/jwt.ts';
import type { Grant, Revocation, RevocationCandidate, RevocationKind, TokenStore } from './store.ts';

export const REVOCATION_CHANNEL = 'revocations';
/** How long a "not revoked" answer is reused at most should a revocation message be lost. */
export const NOT_REVOKED_CACHE_MS = 1000;
const MAX_CACHED = 10_000;

/**
 * Revocation that reaches stateless verifiers. Revoking a grant, a session or one access token
 * records it durably (`revocations`, kept until every token it covers has expired) and publishes
 * it on the ephemeral store, from which `/api/revocations/stream` feeds resource servers.
 */
export interface RevocationService {
  revokeGrant(grant: Grant, reason: string): Promise<void>;
  revokeAccessToken(jti: string, expiresAt: number): Promise<void>;
  /** Sessions ended (sign-out, revoke, password change): their grants and tokens die with them. */
  sessionsEnded(sessionIds: readonly string[], userId: string | null): Promise<void>;
  /** Credentials changed: every grant of the user is revoked. */
  revokeAllOfUser(userId: string, reason: string): Promise<void>;
  /** A client is deleted: its grants, and every access token issued to it until now. */
  revokeClient(clientId: string): Promise<void>;
  /** The user revoked an application: every grant of that user and client. */
  revokeUserClient(userId: string, clientId: string): Promise<void>;
  isRevoked(token: { jti?: string | undefined; grantId?: string | undefined; sessionId?: string | undefined; clientId?: string | undefined; issuedAt?: number | undefined; userId?: string | undefined }): Promise<boolean>;
  subscribe(handler: (revocation: Revocation) => void): Promise<() => Promise<void>>;
}

export function createRevocationService(deps: {
  store: TokenStore;
  ephemeral: EphemeralStore;
  audit: AuditLog;
  accessTokenMaxTtlSeconds: number;
  now?: () => number;
}): RevocationService {
  const { store, ephemeral, audit } = deps;
  const now = deps.now ?? Date.now;
  // A revocation must outlive every token it covers, including the verifiers' clock-skew leeway.
  const leewayMs = JWT_LEEWAY_SECONDS * 1000;
  const coverMs = deps.accessTokenMaxTtlSeconds * 1000 + leewayMs;

  // "Not revoked" answers, reused for at most NOT_REVOKED_CACHE_MS: introspecting the same token
  // again costs no SQL query (docs/benchmarks.md). Any revocation — recorded here or received on
  // the `revocations` channel from another instance — empties it at once; the time bound covers a
  // lost message and revocations made by another process (the CLI). Nothing is kept before the
  // subscription is up, and a lookup that started before a revocation never stores its answer.
  const notRevoked = new Map<string, number>();
  let generation = 0;
  let listening: 'no' | 'pending' | 'yes' = 'no';
  const forget = (): void => {
    generation++;
    notRevoked.clear();
  };
  const listen = (): void => {
    listening = 'pending';
    ephemeral.subscribe(REVOCATION_CHANNEL, forget).then(
      () => {
        listening = 'yes';
      },
      () => {
        listening = 'no';
      },
    );
  };

  async function record(revocations: Revocation[]): Promise<void> {
    if (revocations.length === 0) return;
    await store.addRevocations(revocations);
    forget();
    for (const revocation of revocations) {
      await ephemeral.publish(REVOCATION_CHANNEL, JSON.stringify(revocation));
    }
  }

  function covering(kind: RevocationKind, value: string): Revocation {
    const at = now();
    return { kind, value, revokedAt: at, expiresAt: at + coverMs };
  }

  async function grantsRevoked(grants: Grant[], reason: string): Promise<void> {
    await record(grants.map((grant) => covering('grant', grant.id)));
    for (const grant of grants) {
      await audit.record({ type: 'token-revoked', outcome: 'success', userId: grant.user_id, detail: { grant_id: grant.id, client_id: grant.client_id, reason } });
    }
  }

  return {
    revokeGrant: async (grant, reason) => {
      if (await store.revokeGrant(grant.id, now())) await grantsRevoked([grant], reason);
    },
    revokeAccessToken: async (jti, expiresAt) => {
      await record([{ kind: 'jti', value: jti, revokedAt: now(), expiresAt: expiresAt + leewayMs }]);
    },
    sessionsEnded: async (sessionIds, _userId) => {
      if (sessionIds.length === 0) return;
      // Only sessions that tokens were issued for need publishing; a cookie-only session ends
      // with its row (the session cache is invalidated by the sessions feature itself).
      const grants = await store.revokeGrantsOfSessions(sessionIds, now());
      if (grants.length === 0) return;
      const withTokens = [...new Set(grants.map((grant) => grant.session_id).filter((id): id is string => id !== null))];
      await record(withTokens.map((id) => covering('session', id)));
      await grantsRevoked(grants, 'session ended');
    },
    revokeAllOfUser: async (userId, reason) => {
      const grants = await store.revokeGrantsOfUser(userId, now());
      await grantsRevoked(grants, reason);
    },
    revokeClient: async (clientId) => {
      const grants = await store.revokeGrantsOfClient(clientId, now());
      await record([covering('client', clientId)]);
      await grantsRevoked(grants, 'client deleted');
    },
    revokeUserClient: async (userId, clientId) => {
      // Durable only (not streamed): codes and interactions of that user and client made before
      // now are refused at redemption; tokens die with their grants.
      await store.addRevocations([{ ...covering('user-client', `${clientId} ${userId}`) }]);
      forget();
      const grants = await store.revokeGrantsOfClient(clientId, now(), userId);
      await grantsRevoked(grants, 'application revoked by the user');
    },
    isRevoked: async (token) => {
      const candidates: RevocationCandidate[] = [];
      if (token.clientId && token.issuedAt !== undefined) candidates.push({ kind: 'client', value: token.clientId, issuedAt: token.issuedAt });
      if (token.clientId && token.userId && token.issuedAt !== undefined) candidates.push({ kind: 'user-client', value: `${token.clientId} ${token.userId}`, issuedAt: token.issuedAt });
      if (token.jti) candidates.push({ kind: 'jti', value: token.jti });
      if (token.grantId) candidates.push({ kind: 'grant', value: token.grantId });
      if (token.sessionId) candidates.push({ kind: 'session', value: token.sessionId });
      if (listening === 'no') listen();
      // user-client revocations are durable only (never published): always asked of the table.
      const cacheable = listening === 'yes' && !candidates.some((candidate) => candidate.kind === 'user-client');
      const key = cacheable ? JSON.stringify(candidates) : '';
      const at = now();
      if (cacheable && (notRevoked.get(key) ?? 0) > at) return false;
      const started = generation;
      const revoked = await store.isRevoked(candidates, at);
      if (!revoked && cacheable && started === generation) {
        if (notRevoked.size >= MAX_CACHED) notRevoked.clear();
        notRevoked.set(key, at + NOT_REVOKED_CACHE_MS);
      }
      return revoked;
    },
    subscribe: (handler) =>
      ephemeral.subscribe(REVOCATION_CHANNEL, (text) => {
        try {
          handler(JSON.parse(text) as Revocation);
        } catch {
          // A malformed message is dropped; the durable table still has the truth.
        }
      }),
  };
}
