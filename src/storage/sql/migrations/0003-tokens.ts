import type { Kysely } from 'kysely';

/**
 * The OAuth authorization server's durable state: signing keys (private part encrypted under
 * the master key), registered clients (secrets hashed), grants, refresh tokens (hashed, with
 * the rotation chain) and revocations that stateless verifiers must learn about.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (column) => column.primaryKey())
    .addColumn('alg', 'text', (column) => column.notNull())
    .addColumn('public_jwk', 'text', (column) => column.notNull())
    .addColumn('private_jwk_encrypted', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('activates_at', 'bigint', (column) => column.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('remove_after', 'bigint')
    .execute();

  await db.schema
    .createTable('clients')
    .addColumn('client_id', 'text', (column) => column.primaryKey())
    .addColumn('name', 'text', (column) => column.notNull())
    .addColumn('type', 'text', (column) => column.notNull())
    .addColumn('token_endpoint_auth_method', 'text', (column) => column.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('previous_secret_hash', 'text')
    .addColumn('previous_secret_expires_at', 'bigint')
    .addColumn('jwks', 'text')
    .addColumn('grant_types', 'text', (column) => column.notNull())
    .addColumn('redirect_uris', 'text', (column) => column.notNull())
    .addColumn('post_logout_redirect_uris', 'text', (column) => column.notNull().defaultTo('[]'))
    .addColumn('scopes', 'text', (column) => column.notNull())
    .addColumn('audiences', 'text', (column) => column.notNull())
    .addColumn('access_token_ttl_seconds', 'integer')
    .addColumn('refresh_token_idle_ttl_seconds', 'integer')
    .addColumn('refresh_token_absolute_ttl_seconds', 'integer')
    .addColumn('first_party', 'integer', (column) => column.notNull().defaultTo(0))
    .addColumn('source', 'text', (column) => column.notNull().defaultTo('api'))
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('updated_at', 'bigint', (column) => column.notNull())
    .execute();

  await db.schema
    .createTable('grants')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('client_id', 'text', (column) => column.notNull().references('clients.client_id').onDelete('cascade'))
    .addColumn('user_id', 'text', (column) => column.references('users.id').onDelete('cascade'))
    .addColumn('session_id', 'text')
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('grants_user').on('grants').columns(['user_id', 'client_id']).execute();
  await db.schema.createIndex('grants_session').on('grants').column('session_id').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'text', (column) => column.primaryKey())
    .addColumn('token_hash', 'text', (column) => column.notNull().unique())
    .addColumn('grant_id', 'text', (column) => column.notNull().references('grants.id').onDelete('cascade'))
    .addColumn('scope', 'text', (column) => column.notNull())
    .addColumn('created_at', 'bigint', (column) => column.notNull())
    .addColumn('idle_expires_at', 'bigint', (column) => column.notNull())
    .addColumn('rotated_at', 'bigint')
    .addColumn('successor_id', 'text')
    .addColumn('successor_token_encrypted', 'text')
    .execute();
  await db.schema.createIndex('refresh_tokens_grant').on('refresh_tokens').column('grant_id').execute();

  // What stateless verifiers must refuse until it expires: a token id, a grant or a session.
  await db.schema
    .createTable('revocations')
    .addColumn('kind', 'text', (column) => column.notNull())
    .addColumn('value', 'text', (column) => column.notNull())
    .addColumn('revoked_at', 'bigint', (column) => column.notNull())
    .addColumn('expires_at', 'bigint', (column) => column.notNull())
    .addPrimaryKeyConstraint('revocations_pk', ['kind', 'value'])
    .execute();
  await db.schema.createIndex('revocations_revoked_at').on('revocations').column('revoked_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['revocations', 'refresh_tokens', 'grants', 'clients', 'signing_keys']) {
    await db.schema.dropTable(table).execute();
  }
}
