import type { Kysely, Selectable } from 'kysely';
import type { DatabaseSchema, UserIdentitiesTable } from '../../storage/sql/schema.ts';

/** An external identity linked to a local user: one (issuer, subject) pair, one user. */
export interface Identity {
  id: string;
  userId: string;
  providerId: string;
  issuer: string;
  subject: string;
  /** The upstream address when last seen (display only: never used to find the user). */
  email: string | null;
  emailVerified: boolean;
  linkedAt: number;
  lastUsedAt: number;
}

export interface IdentityStore {
  find(issuer: string, subject: string): Promise<Identity | undefined>;
  listForUser(userId: string): Promise<Identity[]>;
  /** Inserts the link; undefined when (issuer, subject) is already linked (to anyone). */
  link(identity: Identity, sealedTokens: string | null): Promise<Identity | undefined>;
  /** After a sign-in: the latest address and, when kept, the latest tokens. */
  touch(id: string, at: number, email: string | null, emailVerified: boolean, sealedTokens: string | null | undefined): Promise<void>;
  /** Removes the user's identity `id`; false when it is not theirs (or gone). */
  unlink(userId: string, id: string): Promise<boolean>;
}

export interface StoredProvider {
  id: string;
  settings: string;
  clientSecretSealed: string | null;
  createdAt: number;
  updatedAt: number;
}

/** Providers registered through the admin API (the config file's are never stored). */
export interface ProviderStore {
  list(): Promise<StoredProvider[]>;
  get(id: string): Promise<StoredProvider | undefined>;
  /** false when the id is taken. */
  insert(provider: StoredProvider): Promise<boolean>;
  update(id: string, settings: string, clientSecretSealed: string | null, at: number): Promise<boolean>;
  delete(id: string): Promise<boolean>;
}

export function createIdentityStore(db: Kysely<DatabaseSchema>): IdentityStore {
  return {
    find: async (issuer, subject) => {
      const row = await db.selectFrom('user_identities').selectAll().where('issuer', '=', issuer).where('subject', '=', subject).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    listForUser: async (userId) => {
      const rows = await db.selectFrom('user_identities').selectAll().where('user_id', '=', userId).orderBy('linked_at').execute();
      return rows.map(fromRow);
    },
    link: async (identity, sealedTokens) => {
      // The unique (issuer, subject) constraint decides a race between two links of one identity.
      const row = await db
        .insertInto('user_identities')
        .values({
          id: identity.id,
          user_id: identity.userId,
          provider_id: identity.providerId,
          issuer: identity.issuer,
          subject: identity.subject,
          email: identity.email,
          email_verified: identity.emailVerified ? 1 : 0,
          tokens_sealed: sealedTokens,
          linked_at: identity.linkedAt,
          last_used_at: identity.lastUsedAt,
        })
        .onConflict((conflict) => conflict.columns(['issuer', 'subject']).doNothing())
        .returningAll()
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    touch: async (id, at, email, emailVerified, sealedTokens) => {
      await db
        .updateTable('user_identities')
        .set({ last_used_at: at, email, email_verified: emailVerified ? 1 : 0, ...(sealedTokens === undefined ? {} : { tokens_sealed: sealedTokens }) })
        .where('id', '=', id)
        .execute();
    },
    unlink: async (userId, id) => {
      const result = await db.deleteFrom('user_identities').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

export function createProviderStore(db: Kysely<DatabaseSchema>): ProviderStore {
  return {
    list: async () => (await db.selectFrom('identity_providers').selectAll().orderBy('id').execute()).map(providerFromRow),
    get: async (id) => {
      const row = await db.selectFrom('identity_providers').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? providerFromRow(row) : undefined;
    },
    insert: async (provider) => {
      const row = await db
        .insertInto('identity_providers')
        .values({ id: provider.id, settings: provider.settings, client_secret_sealed: provider.clientSecretSealed, created_at: provider.createdAt, updated_at: provider.updatedAt })
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    update: async (id, settings, clientSecretSealed, at) => {
      const result = await db.updateTable('identity_providers').set({ settings, client_secret_sealed: clientSecretSealed, updated_at: at }).where('id', '=', id).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    delete: async (id) => {
      const result = await db.deleteFrom('identity_providers').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}

function fromRow(row: Selectable<UserIdentitiesTable>): Identity {
  return {
    id: row.id,
    userId: row.user_id,
    providerId: row.provider_id,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    emailVerified: row.email_verified === 1,
    linkedAt: row.linked_at,
    lastUsedAt: row.last_used_at,
  };
}

function providerFromRow(row: Selectable<DatabaseSchema['identity_providers']>): StoredProvider {
  return { id: row.id, settings: row.settings, clientSecretSealed: row.client_secret_sealed, createdAt: row.created_at, updatedAt: row.updated_at };
}
