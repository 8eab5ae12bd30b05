import type { FastifyInstance } from 'fastify';
import { registerSelfServicePages } from '../../../ui/pages/self-service-pages.ts';
import { buildUserAdmin } from '../../admin/wiring.ts';
import type { ClientsFeature } from '../../clients/wiring.ts';
import type { OAuthProvider } from '../../oauth/wiring.ts';
import type { Shared } from '../../shared.ts';
import { createIdentityStore } from '../../social/store.ts';
import type { TokensFeature } from '../../tokens/wiring.ts';
import type { AccountsFeature } from '../wiring.ts';
import { createAccountDeletion } from './delete-account.ts';
import { createEmailChange } from './email-change.ts';
import type { RecentAuthDeps } from './recent-auth.ts';
import { registerSelfServiceRoutes } from './routes.ts';
import { createSelfService, type SelfService } from './service.ts';
import { createSelfServiceStore } from './store.ts';

/**
 * Self-service on the account (issue 17): change the email address, delete the account,
 * download my data — the JSON API under `/api/account/` and the pages under `/account/`.
 * Account deletion goes through the admin users service (one code path with the admin delete).
 */
export function registerSelfService(app: FastifyInstance, shared: Shared, parts: {
  accounts: AccountsFeature;
  tokens: TokensFeature;
  clients: ClientsFeature;
  oauth: Pick<OAuthProvider, 'consents' | 'applications'>;
}): SelfService {
  const { config, database, ephemeral, audit, mailer, limiter, lockout, now, onBackgroundError, hasher, csrf } = shared;
  const { accounts, tokens } = parts;
  const recentAuth: RecentAuthDeps = {
    users: accounts.users, hasher, lockout, limiter, audit, now,
    requireRecentSecondFactor: (record) => accounts.mfa.service.requireRecentSecondFactor(record),
  };
  const emailChange = createEmailChange({
    config, users: accounts.users, store: createSelfServiceStore(database.db), oneTimeTokens: accounts.oneTimeTokens, ephemeral,
    sessions: accounts.sessions, revocations: tokens.revocations, mailer, limiter, audit, now, onBackgroundError, recentAuth, lockout,
    // After an undo: the reset link goes to the restored address through the one forgot-password path.
    sendPasswordReset: (email, client) => accounts.accounts.forgotPassword(email, client),
  });
  const admin = buildUserAdmin({
    db: database.db, users: accounts.users, oneTimeTokens: accounts.oneTimeTokens, sessions: accounts.sessions, revocations: tokens.revocations,
    tokenStore: tokens.store, consents: parts.oauth.consents, clients: parts.clients.store, mailer, audit, config, now, onBackgroundError,
  });
  const deletion = createAccountDeletion({ users: accounts.users, admin, mailer, recentAuth, onBackgroundError });
  const selfService = createSelfService({
    emailChange,
    deletion,
    exportDeps: {
      users: accounts.users,
      sessions: accounts.sessions,
      identities: createIdentityStore(database.db),
      applications: parts.oauth.applications,
      factors: (userId) => accounts.mfa.service.factors(userId),
      audit,
      pendingEmail: (userId) => emailChange.pendingEmail(userId),
      now,
    },
  });
  registerSelfServiceRoutes(app, { selfService, auth: accounts.auth, now });
  registerSelfServicePages(app, { selfService, auth: accounts.auth, csrf, now });
  return selfService;
}
