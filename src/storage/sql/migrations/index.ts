import type { Migration, MigrationProvider } from 'kysely/migration';
import * as accounts from './0001-accounts.ts';
import * as sessionsAudit from './0002-sessions-audit.ts';
import * as tokens from './0003-tokens.ts';
import * as consents from './0004-consents.ts';
import * as social from './0005-social.ts';
import * as refreshRetryResponse from './0006-refresh-retry-response.ts';

/**
 * Every migration, in order. Names sort lexically; never rename or edit a released one —
 * add a new one. Each runs unchanged on SQLite and PostgreSQL (Kysely's schema builder).
 */
export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001-accounts': accounts,
  '0002-sessions-audit': sessionsAudit,
  '0003-tokens': tokens,
  '0004-consents': consents,
  '0005-social': social,
  '0006-refresh-retry-response': refreshRetryResponse,
});

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
