import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';

/**
 * The storage port of dynamic client registration (migration 0014): initial access tokens and
 * registration access tokens, by their SHA-256 only (style rule 6).
 */
export interface RegistrationStore {
  insertInitialToken(token: InitialTokenRow): Promise<void>;
  /** Whether the token exists, has not expired and has uses left (no use counted). */
  initialTokenUsable(tokenHash: string, now: number): Promise<boolean>;
  /** Counts one use in one conditional UPDATE (style rule 6); false when expired, used up or unknown. */
  consumeInitialToken(tokenHash: string, now: number): Promise<boolean>;
  insertRegistration(row: RegistrationRow): Promise<void>;
  findRegistration(clientId: string): Promise<RegistrationRow | undefined>;
  /**
   * RFC 7592 §2.2: replaces the registration access token and the metadata in one conditional
   * UPDATE on the current token's hash (style rule 6); false when that token is no longer current
   * (another update rotated it first).
   */
  rotateRegistration(clientId: string, change: { currentHash: string; nextHash: string; metadata: Record<string, unknown>; at: number }): Promise<boolean>;
}

export interface InitialTokenRow {
  id: string;
  tokenHash: string;
  expiresAt: number;
  /** null: unlimited until it expires. */
  usesLeft: number | null;
  createdBy: string | null;
  createdAt: number;
}

export interface RegistrationRow {
  clientId: string;
  tokenHash: string;
  /** RFC 7591 metadata the clients table has no column for. */
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

export function createRegistrationStore(db: Kysely<DatabaseSchema>): RegistrationStore {
  return {
    async insertInitialToken(token) {
      await db.insertInto('initial_access_tokens').values({
        id: token.id,
        token_hash: token.tokenHash,
        expires_at: token.expiresAt,
        uses_left: token.usesLeft,
        created_by: token.createdBy,
        created_at: token.createdAt,
      }).execute();
    },
    async initialTokenUsable(tokenHash, now) {
      const row = await db.selectFrom('initial_access_tokens').select('id')
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now)
        .where((eb) => eb.or([eb('uses_left', 'is', null), eb('uses_left', '>', 0)]))
        .executeTakeFirst();
      return row !== undefined;
    },
    async consumeInitialToken(tokenHash, now) {
      // NULL - 1 stays NULL: unlimited tokens stay unlimited.
      const row = await db.updateTable('initial_access_tokens')
        .set((eb) => ({ uses_left: eb('uses_left', '-', 1) }))
        .where('token_hash', '=', tokenHash)
        .where('expires_at', '>', now)
        .where((eb) => eb.or([eb('uses_left', 'is', null), eb('uses_left', '>', 0)]))
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    async insertRegistration(row) {
      await db.insertInto('client_registrations').values({
        client_id: row.clientId,
        token_hash: row.tokenHash,
        metadata: JSON.stringify(row.metadata),
        created_at: row.createdAt,
        updated_at: row.updatedAt,
      }).execute();
    },
    async findRegistration(clientId) {
      const row = await db.selectFrom('client_registrations').selectAll().where('client_id', '=', clientId).executeTakeFirst();
      if (!row) return undefined;
      return { clientId: row.client_id, tokenHash: row.token_hash, metadata: JSON.parse(row.metadata) as Record<string, unknown>, createdAt: Number(row.created_at), updatedAt: Number(row.updated_at) };
    },
    async rotateRegistration(clientId, change) {
      const row = await db.updateTable('client_registrations')
        .set({ token_hash: change.nextHash, metadata: JSON.stringify(change.metadata), updated_at: change.at })
        .where('client_id', '=', clientId)
        .where('token_hash', '=', change.currentHash)
        .returning('client_id')
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}
