import type { Grant } from './store.ts';

/**
 * What this instance knew about a refresh token when it issued it: enough to mint the next access
 * token before asking the database anything, so that the rotation is one statement (the store's
 * `rotateKnownRefreshToken` checks in SQL that all of it still holds, and claims only then).
 * A hint is never trusted: a stale one (roles changed, grant revoked, token used elsewhere) only
 * costs the access token minted in vain and the ordinary lookup-then-claim path.
 */
export interface RotationHint {
  tokenId: string;
  tokenScope: string;
  idleExpiresAt: number;
  grant: Grant;
  /** The user's roles the access token carries (null: a grant without a user). */
  roles: string[] | null;
  /**
   * When the grant's session was last seen, as far as this instance saw (null: no session, or not
   * known). Only ever behind the truth (last_seen_at only moves forward), so a touch it says is
   * not due is not due; one it says may be due is checked in SQL.
   */
  sessionSeenAt: number | null;
}

/**
 * Hints by token hash, oldest evicted first. Taken on use: a racing duplicate on the same instance
 * takes the ordinary path (and gets the winner's response, SEC-REL-03).
 */
export function createRotationHints(limit: number): { take(tokenHash: string): RotationHint | undefined; remember(tokenHash: string, hint: RotationHint): void } {
  const hints = new Map<string, RotationHint>();
  return {
    take(tokenHash) {
      const hint = hints.get(tokenHash);
      if (hint) hints.delete(tokenHash);
      return hint;
    },
    remember(tokenHash, hint) {
      if (limit <= 0) return;
      if (hints.size >= limit) hints.delete(hints.keys().next().value as string);
      hints.set(tokenHash, hint);
    },
  };
}
