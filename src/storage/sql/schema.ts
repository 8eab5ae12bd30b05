/**
 * Table shapes as Kysely sees them. Times are integer milliseconds since the epoch
 * (`bigint` in PostgreSQL, read back as numbers), booleans are nullable timestamps
 * (`email_verified_at`), lists are JSON text — the same on every dialect.
 */

export interface UsersTable {
  id: string;
  email: string;
  email_verified_at: number | null;
  name: string | null;
  password_hash: string | null;
  roles: string;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
  auth_methods: string;
  auth_time: number;
}

export interface OneTimeTokensTable {
  token_hash: string;
  purpose: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface AuditEventsTable {
  id: string;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  detail: string;
}

export interface DatabaseSchema {
  users: UsersTable;
  sessions: SessionsTable;
  one_time_tokens: OneTimeTokensTable;
  audit_events: AuditEventsTable;
}
