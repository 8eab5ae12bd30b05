import type { Migration, MigrationProvider } from 'kysely/migration';
import * as accounts from './0001-accounts.ts';
import * as sessionsAudit from './0002-sessions-audit.ts';
import * as tokens from './0003-tokens.ts';
import * as consents from './0004-consents.ts';
import * as social from './0005-social.ts';
import * as refreshRetryResponse from './0006-refresh-retry-response.ts';
import * as webhooks from './0010-webhooks.ts';
import * as roles from './0011-roles.ts';
import * as mfa from './0008-mfa.ts';
import * as auditChain from './0009-audit-chain.ts';
import * as devicePar from './0012-device-par.ts';
import * as dpopExchange from './0013-dpop-exchange.ts';
import * as registration from './0014-registration.ts';
import * as clientMetadata from './0015-client-metadata.ts';
import * as housekeeping from './0016-housekeeping.ts';
import * as brandingSettings from './0017-branding-settings.ts';
import * as refreshTokensFillfactor from './0018-refresh-tokens-fillfactor.ts';

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
  '0010-webhooks': webhooks,
  '0011-roles': roles,
  '0008-mfa': mfa,
  '0009-audit-chain': auditChain,
  '0012-device-par': devicePar,
  '0013-dpop-exchange': dpopExchange,
  '0014-registration': registration,
  '0015-client-metadata': clientMetadata,
  '0016-housekeeping': housekeeping,
  '0017-branding-settings': brandingSettings,
  '0018-refresh-tokens-fillfactor': refreshTokensFillfactor,
});

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => ({ ...migrations }),
};
