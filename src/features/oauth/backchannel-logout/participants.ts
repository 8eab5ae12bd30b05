import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';
import type { IdTokenIssuer } from '../id-token.ts';

/**
 * Which clients received an ID token (and so a `sid`) for which session: the relying parties
 * a logout token must reach when the session ends (Back-Channel Logout 1.0 §2.5). Grants alone
 * do not tell: an `offline_access` grant outlives the session and is not bound to it.
 */
export interface ParticipantStore {
  record(sessionId: string, clientId: string, userId: string, at: number): Promise<void>;
  /** Removes and returns the participants of the sessions. */
  take(sessionIds: readonly string[]): Promise<{ sessionId: string; clientId: string; userId: string }[]>;
}

export function createParticipantStore(db: Kysely<DatabaseSchema>): ParticipantStore {
  return {
    record: async (sessionId, clientId, userId, at) => {
      await db
        .insertInto('backchannel_sessions')
        .values({ session_id: sessionId, client_id: clientId, user_id: userId, created_at: at })
        .onConflict((conflict) => conflict.columns(['session_id', 'client_id']).doNothing())
        .execute();
    },
    take: async (sessionIds) => {
      if (sessionIds.length === 0) return [];
      const rows = await db.deleteFrom('backchannel_sessions').where('session_id', 'in', [...sessionIds]).returning(['session_id', 'client_id', 'user_id']).execute();
      return rows.map((row) => ({ sessionId: row.session_id, clientId: row.client_id, userId: row.user_id }));
    },
  };
}

/** The ID-token issuer, noting each (session, client) it issues for. */
export function recordingParticipants(issuer: IdTokenIssuer, store: ParticipantStore, now: () => number): IdTokenIssuer {
  return {
    ...issuer,
    issue: async (input) => {
      const token = await issuer.issue(input);
      if (input.sessionId) await store.record(input.sessionId, input.clientId, input.user.id, now());
      return token;
    },
  };
}
