/**
 * Migration test: at every schema version, seed data written by that version's code shape;
 * migrate step by step to the latest and check after every step that everything seeded so far
 * survived. Runs on every SQL backend that is reachable (SQLite in memory and on file always,
 * PostgreSQL when reachable, required in CI).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest, migrationNames, pendingMigrations } from '../../src/storage/sql/migrate.ts';
import type { DatabaseSchema } from '../../src/storage/sql/schema.ts';
import { INDEXES as HOUSEKEEPING_INDEXES } from '../../src/storage/sql/migrations/0016-housekeeping.ts';
import { REFRESH_TOKENS_FILLFACTOR } from '../../src/storage/sql/migrations/0018-refresh-tokens-fillfactor.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';

interface Step {
  seed(db: Kysely<DatabaseSchema>): Promise<void>;
  check(db: Kysely<DatabaseSchema>): Promise<void>;
}

const T0 = 1_790_000_000_000;

const steps: Record<string, Step> = {
  '0001-accounts': {
    seed: async (db) => {
      await db.insertInto('users').values({ id: 'u1', email: 'alice@example.com', email_verified_at: T0, name: 'Alice', password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', roles: '["admin"]', created_at: T0, updated_at: T0, disabled_at: null }).execute();
    },
    check: async (db) => {
      const user = await db.selectFrom('users').selectAll().where('id', '=', 'u1').executeTakeFirstOrThrow();
      assert.equal(user.email, 'alice@example.com');
      assert.equal(user.email_verified_at, T0);
      assert.equal(typeof user.created_at, 'number', 'bigint columns read back as numbers');
      assert.deepEqual(JSON.parse(user.roles), ['admin']);
    },
  },
  '0002-sessions-audit': {
    seed: async (db) => {
      await db.insertInto('sessions').values({ id: 's1', token_hash: 'h1', user_id: 'u1', created_at: T0, last_seen_at: T0, expires_at: T0 + 1000, ip: '192.0.2.1', user_agent: 'test', auth_methods: '["pwd"]', auth_time: T0 }).execute();
      await db.insertInto('one_time_tokens').values({ token_hash: 'o1', purpose: 'verify-email', user_id: 'u1', created_at: T0, expires_at: T0 + 1000, consumed_at: null }).execute();
      await db.insertInto('audit_events').values({ id: 'a1', at: T0, type: 'sign-in', outcome: 'success', user_id: 'u1', ip: null, user_agent: null, detail: '{}' }).execute();
    },
    check: async (db) => {
      const session = await db.selectFrom('sessions').selectAll().where('id', '=', 's1').executeTakeFirstOrThrow();
      assert.equal(session.user_id, 'u1');
      assert.equal(session.expires_at, T0 + 1000);
      assert.ok(await db.selectFrom('one_time_tokens').select('token_hash').where('token_hash', '=', 'o1').executeTakeFirst());
      assert.ok(await db.selectFrom('audit_events').select('id').where('id', '=', 'a1').executeTakeFirst());
    },
  },
  '0003-tokens': {
    seed: async (db) => {
      await db.insertInto('signing_keys').values({ kid: 'k1', alg: 'ES256', public_jwk: '{"kty":"EC"}', private_jwk_encrypted: 'v1.x.y.z', created_at: T0, activates_at: T0, retired_at: null, remove_after: null }).execute();
      await db.insertInto('clients').values({ client_id: 'c1', name: 'App', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', secret_hash: 'h', previous_secret_hash: null, previous_secret_expires_at: null, jwks: null, grant_types: '["refresh_token"]', redirect_uris: '[]', post_logout_redirect_uris: '[]', scopes: '["openid"]', audiences: '[]', access_token_ttl_seconds: null, refresh_token_idle_ttl_seconds: null, refresh_token_absolute_ttl_seconds: null, first_party: 1, source: 'api', created_at: T0, updated_at: T0 }).execute();
      await db.insertInto('grants').values({ id: 'g1', client_id: 'c1', user_id: 'u1', session_id: 's1', scope: 'openid', created_at: T0, expires_at: T0 + 1000, revoked_at: null }).execute();
      await db.insertInto('refresh_tokens').values({ id: 'r1', token_hash: 'rh1', grant_id: 'g1', scope: 'openid', created_at: T0, idle_expires_at: T0 + 1000, rotated_at: null, successor_id: null, successor_token_encrypted: null }).execute();
      await db.insertInto('revocations').values({ kind: 'jti', value: 'j1', revoked_at: T0, expires_at: T0 + 1000 }).execute();
    },
    check: async (db) => {
      assert.equal((await db.selectFrom('signing_keys').select('alg').where('kid', '=', 'k1').executeTakeFirstOrThrow()).alg, 'ES256');
      assert.equal((await db.selectFrom('clients').select('first_party').where('client_id', '=', 'c1').executeTakeFirstOrThrow()).first_party, 1);
      assert.equal((await db.selectFrom('refresh_tokens').select('grant_id').where('id', '=', 'r1').executeTakeFirstOrThrow()).grant_id, 'g1');
      assert.equal((await db.selectFrom('revocations').select('expires_at').where('value', '=', 'j1').executeTakeFirstOrThrow()).expires_at, T0 + 1000);
    },
  },
  '0004-consents': {
    seed: async (db) => {
      await db.insertInto('consents').values({ user_id: 'u1', client_id: 'c1', scopes: '["openid","email"]', granted_at: T0, updated_at: T0 }).execute();
    },
    check: async (db) => {
      const consent = await db.selectFrom('consents').selectAll().where('user_id', '=', 'u1').where('client_id', '=', 'c1').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(consent.scopes), ['openid', 'email']);
      assert.equal(consent.granted_at, T0);
    },
  },
  '0005-social': {
    seed: async (db) => {
      await db.insertInto('identity_providers').values({ id: 'corp', settings: '{"type":"oidc","issuer":"https://sso.example"}', client_secret_sealed: 'v1.a.b.c', created_at: T0, updated_at: T0 }).execute();
      await db.insertInto('user_identities').values({ id: 'i1', user_id: 'u1', provider_id: 'corp', issuer: 'https://sso.example', subject: '42', email: 'alice@example.com', email_verified: 1, tokens_sealed: null, linked_at: T0, last_used_at: T0 }).execute();
    },
    check: async (db) => {
      const identity = await db.selectFrom('user_identities').selectAll().where('issuer', '=', 'https://sso.example').where('subject', '=', '42').executeTakeFirstOrThrow();
      assert.equal(identity.user_id, 'u1');
      assert.equal(identity.linked_at, T0);
      assert.equal((await db.selectFrom('identity_providers').select('client_secret_sealed').where('id', '=', 'corp').executeTakeFirstOrThrow()).client_secret_sealed, 'v1.a.b.c');
      // (issuer, subject) is one identity: a second link of the same pair is refused by the database.
      await assert.rejects(db.insertInto('user_identities').values({ id: 'i2', user_id: 'u1', provider_id: 'corp', issuer: 'https://sso.example', subject: '42', email: null, email_verified: 0, tokens_sealed: null, linked_at: T0, last_used_at: T0 }).execute());
    },
  },
  '0006-refresh-retry-response': {
    seed: async (db) => {
      // A token rotated by an older version (no kept response) and one rotated by this one.
      await db.insertInto('refresh_tokens').values({ id: 'r2', token_hash: 'rh2', grant_id: 'g1', scope: 'openid', created_at: T0, idle_expires_at: T0 + 1000, rotated_at: T0 + 1, successor_id: 'r3', successor_token_encrypted: 'v1.s.t.u', successor_access_token_encrypted: 'v1.a.t.u', successor_access_token_expires_at: T0 + 600_000 }).execute();
    },
    check: async (db) => {
      const older = await db.selectFrom('refresh_tokens').selectAll().where('id', '=', 'r1').executeTakeFirstOrThrow();
      assert.equal(older.successor_access_token_encrypted, null, 'rows of older versions have no kept response');
      assert.equal(older.successor_access_token_expires_at, null);
      const kept = await db.selectFrom('refresh_tokens').selectAll().where('id', '=', 'r2').executeTakeFirstOrThrow();
      assert.equal(kept.successor_access_token_encrypted, 'v1.a.t.u');
      assert.equal(kept.successor_access_token_expires_at, T0 + 600_000, 'bigint reads back as a number');
    },
  },
  '0008-mfa': {
    seed: async (db) => {
      // A TOTP authenticator (secret sealed), a passkey and a recovery code of the seeded user.
      await db.insertInto('mfa_factors').values({ id: 'f-totp', user_id: 'u1', kind: 'totp', name: 'Phone', secret_sealed: 'v1.a.b.c', credential_id: null, public_key: null, sign_count: 0, transports: null, device_type: null, created_at: T0, last_used_at: null }).execute();
      await db.insertInto('mfa_factors').values({ id: 'f-key', user_id: 'u1', kind: 'passkey', name: 'Laptop', secret_sealed: null, credential_id: 'cred-1', public_key: 'pk', sign_count: 7, transports: '["internal"]', device_type: 'multiDevice', created_at: T0, last_used_at: T0 + 5 }).execute();
      await db.insertInto('mfa_recovery_codes').values({ user_id: 'u1', code_hash: 'h1', created_at: T0, used_at: null }).execute();
    },
    check: async (db) => {
      const factors = await db.selectFrom('mfa_factors').select(['id', 'kind', 'sign_count', 'last_used_at']).where('user_id', '=', 'u1').orderBy('id').execute();
      assert.deepEqual(factors.map((row) => ({ ...row })), [
        { id: 'f-key', kind: 'passkey', sign_count: 7, last_used_at: T0 + 5 },
        { id: 'f-totp', kind: 'totp', sign_count: 0, last_used_at: null },
      ]);
      assert.equal((await db.selectFrom('mfa_recovery_codes').select('used_at').where('code_hash', '=', 'h1').executeTakeFirstOrThrow()).used_at, null);
    },
  },
  '0009-audit-chain': {
    seed: async (db) => {
      // An event recorded by this version: MAC, actor, client and request id; sealed later.
      await db.insertInto('audit_events').values({ id: 'a2', at: T0 + 1, type: 'sign-in', outcome: 'success', user_id: 'u1', ip: null, user_agent: null, detail: '{}', actor_id: 'admin', client_id: 'c1', request_id: 'r-1', mac: 'm' }).execute();
    },
    check: async (db) => {
      // Events of older versions were sealed by the migration as the chain's legacy prefix.
      const legacy = await db.selectFrom('audit_events').select(['seq', 'chain_hash', 'mac']).where('id', '=', 'a1').executeTakeFirstOrThrow();
      assert.equal(legacy.seq, 1);
      assert.match(legacy.chain_hash ?? '', /^[0-9a-f]{64}$/);
      const chain = await db.selectFrom('audit_chain').selectAll().executeTakeFirstOrThrow();
      assert.deepEqual([chain.seq, chain.legacy_through_seq, chain.hash], [1, 1, legacy.chain_hash]);
      const recent = await db.selectFrom('audit_events').select(['seq', 'actor_id', 'client_id', 'request_id']).where('id', '=', 'a2').executeTakeFirstOrThrow();
      assert.deepEqual({ ...recent }, { seq: null, actor_id: 'admin', client_id: 'c1', request_id: 'r-1' });
    },
  },
  '0010-webhooks': {
    seed: async (db) => {
      // An endpoint with a pending delivery and its log; a client registered with a back-channel logout URI.
      await db.insertInto('webhook_subscriptions').values({ id: 'w1', url: 'https://hooks.example/in', description: null, event_types: '["user.created"]', secret_sealed: 'v1.a.b.c', enabled: 1, source: 'api', created_at: T0, updated_at: T0 }).execute();
      await db.insertInto('webhook_deliveries').values({ id: 'msg_1:w1', kind: 'webhook', subscription_id: 'w1', client_id: null, event_id: 'msg_1', event_type: 'user.created', payload: '{}', status: 'pending', attempts: 1, created_at: T0, next_attempt_at: T0 + 5000, claimed_by: null, claimed_until: null, last_attempt_at: T0, last_status_code: 500, last_error: 'HTTP 500', completed_at: null }).execute();
      await db.insertInto('webhook_attempts').values({ id: 'msg_1:w1#1', delivery_id: 'msg_1:w1', attempt: 1, at: T0, status_code: 500, latency_ms: 12, error: 'HTTP 500' }).execute();
      await db.insertInto('clients').values({ client_id: 'c-bc', name: 'RP', type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', secret_hash: 'h', previous_secret_hash: null, previous_secret_expires_at: null, jwks: null, grant_types: '["authorization_code"]', redirect_uris: '["https://rp.example/cb"]', post_logout_redirect_uris: '[]', scopes: '["openid"]', audiences: '[]', access_token_ttl_seconds: null, refresh_token_idle_ttl_seconds: null, refresh_token_absolute_ttl_seconds: null, first_party: 0, source: 'api', created_at: T0, updated_at: T0, backchannel_logout_uri: 'https://rp.example/logout', backchannel_logout_session_required: 1 }).execute();
      await db.insertInto('backchannel_sessions').values({ session_id: 's-bc', client_id: 'c-bc', user_id: 'u1', created_at: T0 }).execute();
    },
    check: async (db) => {
      const older = await db.selectFrom('clients').select(['backchannel_logout_uri', 'backchannel_logout_session_required']).where('client_id', '=', 'c1').executeTakeFirstOrThrow();
      assert.deepEqual({ ...older }, { backchannel_logout_uri: null, backchannel_logout_session_required: 0 }, 'older clients have no back-channel logout');
      const delivery = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', 'msg_1:w1').executeTakeFirstOrThrow();
      assert.equal(delivery.next_attempt_at, T0 + 5000, 'bigint reads back as a number');
      assert.equal((await db.selectFrom('webhook_attempts').select('latency_ms').executeTakeFirstOrThrow()).latency_ms, 12);
      assert.equal((await db.selectFrom('backchannel_sessions').selectAll().executeTakeFirstOrThrow()).client_id, 'c-bc');
    },
  },
  '0011-roles': {
    seed: async (db) => {
      // A catalog role held by the seeded user beside the built-in admin role (never a row).
      await db.insertInto('roles').values({ name: 'support', description: 'Help desk', permissions: '["tickets:read","admin:users"]', created_at: T0, updated_at: T0 }).execute();
    },
    check: async (db) => {
      const role = await db.selectFrom('roles').selectAll().where('name', '=', 'support').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(role.permissions), ['tickets:read', 'admin:users']);
      assert.equal(role.updated_at, T0, 'bigint reads back as a number');
      assert.equal(await db.selectFrom('roles').select('name').where('name', '=', 'admin').executeTakeFirst(), undefined);
    },
  },
  '0012-device-par': {
    seed: async (db) => {
      // A client that must push its authorization requests (RFC 9126 §6).
      await db.updateTable('clients').set({ require_pushed_authorization_requests: 1 }).where('client_id', '=', 'c-bc').execute();
    },
    check: async (db) => {
      const rows = await db.selectFrom('clients').select(['client_id', 'require_pushed_authorization_requests']).where('client_id', 'in', ['c1', 'c-bc']).orderBy('client_id').execute();
      assert.deepEqual(rows.map((row) => ({ ...row })), [{ client_id: 'c-bc', require_pushed_authorization_requests: 1 }, { client_id: 'c1', require_pushed_authorization_requests: 0 }], 'older clients need not push');
    },
  },
  '0013-dpop-exchange': {
    seed: async (db) => {
      // A grant bound to a DPoP key (RFC 9449 §5) beside the older, unbound one.
      await db.insertInto('grants').values({ id: 'g-dpop', client_id: 'c1', user_id: 'u1', session_id: null, scope: 'openid', created_at: T0, expires_at: T0 + 1000, revoked_at: null, jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }).execute();
    },
    check: async (db) => {
      assert.equal((await db.selectFrom('grants').select('jkt').where('id', '=', 'g1').executeTakeFirstOrThrow()).jkt, null, 'older grants are unbound');
      assert.equal((await db.selectFrom('grants').select('jkt').where('id', '=', 'g-dpop').executeTakeFirstOrThrow()).jkt, 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    },
  },
  '0014-registration': {
    seed: async (db) => {
      // Dynamic registration (RFC 7591/7592): an unlimited initial access token and a registration of c1.
      await db.insertInto('initial_access_tokens').values({ id: 'iat1', token_hash: 'ih1', expires_at: T0 + 1000, uses_left: null, created_by: 'u1', created_at: T0 }).execute();
      await db.insertInto('client_registrations').values({ client_id: 'c1', token_hash: 'rh-reg1', metadata: '{"application_type":"web"}', created_at: T0, updated_at: T0 }).execute();
    },
    check: async (db) => {
      const token = await db.selectFrom('initial_access_tokens').selectAll().where('id', '=', 'iat1').executeTakeFirstOrThrow();
      assert.equal(token.uses_left, null);
      assert.equal(token.expires_at, T0 + 1000);
      const registration = await db.selectFrom('client_registrations').selectAll().where('client_id', '=', 'c1').executeTakeFirstOrThrow();
      assert.equal(registration.token_hash, 'rh-reg1');
      assert.deepEqual(JSON.parse(registration.metadata), { application_type: 'web' });
    },
  },
  '0015-client-metadata': {
    seed: async (db) => {
      // RFC 7591 §2 branding on one client; the older ones get none.
      await db.updateTable('clients').set({ logo_uri: 'https://rp.example/logo.png', client_uri: 'https://rp.example/', policy_uri: 'https://rp.example/privacy', tos_uri: 'https://rp.example/terms', contacts: '["ops@rp.example"]' }).where('client_id', '=', 'c-bc').execute();
    },
    check: async (db) => {
      const rows = await db.selectFrom('clients').select(['client_id', 'logo_uri', 'client_uri', 'policy_uri', 'tos_uri', 'contacts']).where('client_id', 'in', ['c1', 'c-bc']).orderBy('client_id').execute();
      assert.deepEqual(rows.map((row) => ({ ...row })), [
        { client_id: 'c-bc', logo_uri: 'https://rp.example/logo.png', client_uri: 'https://rp.example/', policy_uri: 'https://rp.example/privacy', tos_uri: 'https://rp.example/terms', contacts: '["ops@rp.example"]' },
        { client_id: 'c1', logo_uri: null, client_uri: null, policy_uri: null, tos_uri: null, contacts: '[]' },
      ], 'older clients have no branding and no contacts');
    },
  },
  '0016-housekeeping': {
    // Indexes only (the housekeeping sweeps select by them): nothing to seed; every index exists
    // and what was seeded before is still found through them.
    seed: async () => {},
    check: async (db) => {
      const names = await indexNames(db);
      for (const name of HOUSEKEEPING_INDEXES) assert.ok(names.has(name), `index ${name} exists`);
      assert.ok(await db.selectFrom('grants').select('id').where('expires_at', '<=', T0 + 1000).where('id', '=', 'g1').executeTakeFirst());
      assert.ok(await db.selectFrom('sessions').select('id').where('expires_at', '<=', T0 + 1000).where('id', '=', 's1').executeTakeFirst());
      assert.ok(await db.selectFrom('revocations').select('value').where('expires_at', '<=', T0 + 1000).where('value', '=', 'j1').executeTakeFirst());
    },
  },
  '0017-branding-settings': {
    // One row per overridden text setting; the key is unique (an upsert replaces it).
    seed: async (db) => {
      const branding = db.withTables<BrandingTables>();
      await branding.insertInto('branding_settings').values([{ key: 'product_name', value: 'Acme ID', updated_at: T0 }, { key: 'accent_color', value: '#0b57d0', updated_at: T0 }]).execute();
      await branding.insertInto('branding_settings').values({ key: 'product_name', value: 'Acme Sign-in', updated_at: T0 + 1 })
        .onConflict((conflict) => conflict.column('key').doUpdateSet({ value: 'Acme Sign-in', updated_at: T0 + 1 })).execute();
    },
    check: async (db) => {
      const rows = await db.withTables<BrandingTables>().selectFrom('branding_settings').selectAll().orderBy('key').execute();
      assert.deepEqual(rows.map((row) => ({ ...row, updated_at: Number(row.updated_at) })), [
        { key: 'accent_color', value: '#0b57d0', updated_at: T0 },
        { key: 'product_name', value: 'Acme Sign-in', updated_at: T0 + 1 },
      ]);
    },
  },
  '0018-refresh-tokens-fillfactor': {
    // A storage parameter only (PostgreSQL; nothing on SQLite): the tokens seeded so far survive
    // (the earlier steps' checks), a rotation's claim still updates a row, and the table carries it.
    seed: async (db) => {
      await db.insertInto('refresh_tokens').values({ id: 'r4', token_hash: 'rh4', grant_id: 'g1', scope: 'openid', created_at: T0, idle_expires_at: T0 + 1000, rotated_at: null, successor_id: null, successor_token_encrypted: null, successor_access_token_encrypted: null, successor_access_token_expires_at: null }).execute();
      await db.updateTable('refresh_tokens').set({ rotated_at: T0 + 1, successor_id: 'r5', successor_token_encrypted: 'v1.s.t.u', successor_access_token_encrypted: 'v1.a.t.u', successor_access_token_expires_at: T0 + 600_000 }).where('id', '=', 'r4').where('rotated_at', 'is', null).execute();
    },
    check: async (db) => {
      const claimed = await db.selectFrom('refresh_tokens').selectAll().where('id', '=', 'r4').executeTakeFirstOrThrow();
      assert.equal(claimed.successor_id, 'r5');
      assert.equal(claimed.successor_access_token_expires_at, T0 + 600_000);
      const options = await storageParameters(db, 'refresh_tokens');
      if (options !== undefined) assert.ok(options.includes(`fillfactor=${REFRESH_TOKENS_FILLFACTOR}`), `refresh_tokens fillfactor on PostgreSQL, got ${options.join(',')}`);
    },
  },
};

/** A table's storage parameters on PostgreSQL (pg_class.reloptions); undefined on SQLite, which has none. */
async function storageParameters(db: Kysely<DatabaseSchema>, table: string): Promise<string[] | undefined> {
  try {
    const { rows } = await sql<{ options: string[] | null }>`select reloptions as options from pg_class where relname = ${table} and relnamespace = current_schema()::regnamespace`.execute(db);
    return rows[0]?.options ?? [];
  } catch {
    return undefined;
  }
}

type BrandingTables = { branding_settings: { key: string; value: string; updated_at: number } };

/** The index names of the database (SQLite's catalogue or PostgreSQL's). */
async function indexNames(db: Kysely<DatabaseSchema>): Promise<Set<string>> {
  try {
    const { rows } = await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(db);
    return new Set(rows.map((row) => row.name));
  } catch {
    const { rows } = await sql<{ name: string }>`select indexname as name from pg_indexes where schemaname = current_schema()`.execute(db);
    return new Set(rows.map((row) => row.name));
  }
}

async function runMigrationSuite(open: () => Promise<{ database: Database; cleanup: () => Promise<void> }>): Promise<void> {
  const { database, cleanup } = await open();
  try {
    assert.deepEqual(Object.keys(steps).sort(), [...migrationNames], 'every migration has a seed/check step');
    const done: Step[] = [];
    for (const name of migrationNames) {
      await migrateToLatestUpTo(database, name);
      for (const step of done) await step.check(database.db);
      const step = steps[name]!;
      await step.seed(database.db);
      await step.check(database.db);
      done.push(step);
    }
    const again = await migrateToLatest(database);
    assert.deepEqual(again.applied, [], 're-running applies nothing');
    assert.deepEqual(await pendingMigrations(database), []);
    for (const step of done) await step.check(database.db);
  } finally {
    await database.close();
    await cleanup();
  }
}

async function migrateToLatestUpTo(database: Database, name: string): Promise<void> {
  await migrateToLatest(database, name);
  const pending = await pendingMigrations(database);
  assert.deepEqual(pending, migrationNames.slice(migrationNames.indexOf(name) + 1));
}

const postgres = await probePostgres();

describe('migrations keep data at every step', () => {
  it('SQLite in memory', () =>
    runMigrationSuite(async () => ({ database: openDatabase({ url: 'sqlite::memory:' }), cleanup: async () => {} })));

  it('SQLite on file (WAL)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-migrate-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    await runMigrationSuite(async () => ({ database: openDatabase({ url: `sqlite:${join(dir, 'g.db')}` }), cleanup: async () => {} }));
  });

  it('PostgreSQL', { skip: skipUnless(postgres) }, async () => {
    const scratch = await createTestDatabase();
    await runMigrationSuite(async () => ({ database: openDatabase({ url: scratch.url, poolSize: 2 }), cleanup: scratch.drop }));
  });

  it('SQLite enforces foreign keys (sessions need a user)', async () => {
    const database = openDatabase({ url: 'sqlite::memory:' });
    try {
      await migrateToLatest(database);
      await assert.rejects(
        database.db.insertInto('sessions').values({ id: 's', token_hash: 'h', user_id: 'nobody', created_at: 1, last_seen_at: 1, expires_at: 2, ip: null, user_agent: null, auth_methods: '[]', auth_time: 1 }).execute(),
        /FOREIGN KEY/,
      );
    } finally {
      await database.close();
    }
  });
});
