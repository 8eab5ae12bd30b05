import type { FastifyInstance } from 'fastify';
import type { KeysFeature } from '../../../keys/wiring.ts';
import type { AccountsFeature } from '../../accounts/wiring.ts';
import type { ClientsFeature } from '../../clients/wiring.ts';
import type { OAuthProvider } from '../../oauth/wiring.ts';
import type { Shared } from '../../shared.ts';
import type { SocialFeature } from '../../social/wiring.ts';
import type { TokensFeature } from '../../tokens/wiring.ts';
import type { AdminAccess } from '../access.ts';
import { buildRoleCatalog, buildUserAdmin } from '../wiring.ts';
import { registerAdminAssets } from './assets.ts';
import { registerAuditPages } from './audit.ts';
import { registerClientPages } from './clients.ts';
import { registerDashboard } from './dashboard.ts';
import type { AdminConsoleDeps } from './deps.ts';
import { createConsoleGuard } from './guard.ts';
import { registerKeyPages } from './keys.ts';
import { registerProviderPages } from './providers.ts';
import { registerRolePages } from './roles.ts';
import { registerUserActions } from './user-actions.ts';
import { registerUserCreate } from './user-create.ts';
import { registerUserDetail } from './user-detail.ts';
import { registerUserList } from './users-list.ts';

export type { AdminConsoleDeps } from './deps.ts';

/**
 * The console's deps from the shared context and the features the admin API takes, built with
 * the admin API's own builders (src/features/admin/wiring.ts): the same services, one code path.
 */
export function adminConsoleDeps(shared: Shared, parts: {
  access: AdminAccess;
  keys: KeysFeature;
  clients: ClientsFeature;
  tokens: TokensFeature;
  accounts: AccountsFeature;
  oauth: OAuthProvider;
  social: SocialFeature;
}): AdminConsoleDeps {
  const { accounts, tokens } = parts;
  return {
    access: parts.access,
    auth: accounts.auth,
    csrf: shared.csrf,
    users: buildUserAdmin({
      db: shared.database.db, users: accounts.users, oneTimeTokens: accounts.oneTimeTokens, sessions: accounts.sessions, revocations: tokens.revocations, tokenStore: tokens.store,
      consents: parts.oauth.consents, clients: parts.clients.store, mailer: shared.mailer, audit: shared.audit, config: shared.config, now: shared.now, onBackgroundError: shared.onBackgroundError,
      mfa: accounts.mfa.service,
    }),
    roles: buildRoleCatalog({ db: shared.database.db, audit: shared.audit, now: shared.now }),
    clients: parts.clients.registry,
    providers: parts.social.providers,
    keys: parts.keys.keys,
    audit: shared.audit,
    mfa: accounts.mfa.service,
    db: shared.database.db,
    publicUrl: shared.config.publicUrl,
    now: shared.now,
  };
}

/**
 * The admin console (`/admin`, docs/admin.md#console): server-rendered pages over the admin
 * API's services, behind the admin API's access check (guard.ts), every form CSRF-checked.
 */
export function registerAdminConsole(app: FastifyInstance, deps: AdminConsoleDeps): void {
  const admit = createConsoleGuard({ access: deps.access, auth: deps.auth });
  registerAdminAssets(app);
  registerDashboard(app, deps, admit);
  registerUserList(app, deps, admit);
  registerUserCreate(app, deps, admit);
  registerUserDetail(app, deps, admit);
  registerUserActions(app, deps, admit);
  registerRolePages(app, deps, admit);
  registerClientPages(app, deps, admit);
  registerProviderPages(app, deps, admit);
  registerKeyPages(app, deps, admit);
  registerAuditPages(app, deps, admit);
}
