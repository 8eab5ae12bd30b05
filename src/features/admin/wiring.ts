import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import type { Kysely } from 'kysely';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { OneTimeTokenStore, UserStore } from '../accounts/store.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { ClientStore } from '../clients/store.ts';
import type { Mailer } from '../email/mailer.ts';
import { listApplications } from '../oauth/applications/routes.ts';
import type { ConsentStore } from '../oauth/consents/store.ts';
import type { SessionAuth } from '../sessions/http.ts';
import type { SessionService } from '../sessions/service.ts';
import { createIdentityStore } from '../social/store.ts';
import type { RevocationService } from '../tokens/revocation.ts';
import type { TokenStore } from '../tokens/store.ts';
import type { AccessTokenVerifier } from '../tokens/verify.ts';
import { createAdminAccess, type AdminAccess, type AdminMfaPolicy } from './access.ts';
import type { KeyService } from '../../keys/service.ts';
import { registerAdminAuditRoutes } from './audit-routes.ts';
import { registerAdminKeyRoutes } from './keys-routes.ts';
import { registerAdminUserRoutes } from './users-routes.ts';
import { registerAdminRoleRoutes } from './roles-routes.ts';
import { createRoleCatalog, type RoleCatalog } from '../roles/catalog.ts';
import { createRoleStore } from '../roles/store.ts';
import { createUserAdmin, type UserAdmin } from './users/service.ts';
import { createUserAdminStore } from './users/store.ts';
import type { MfaService } from '../mfa/service.ts';
import { resetAllFactors } from '../mfa/reset.ts';
import { createSqlMfaStore } from '../mfa/store.ts';

export interface UserAdminDeps {
  db: Kysely<DatabaseSchema>;
  users: UserStore;
  oneTimeTokens: OneTimeTokenStore;
  sessions: SessionService;
  revocations: RevocationService;
  tokenStore: TokenStore;
  consents: ConsentStore;
  clients: ClientStore;
  mailer: Mailer;
  audit: AuditLog;
  config: Pick<Config, 'publicUrl' | 'passwordResetTtlSeconds' | 'emailVerificationTtlSeconds'>;
  now: () => number;
  onBackgroundError: (error: unknown, what: string) => void;
  /** The server's MFA service (its operator reset); without it (the CLI), the same reset.ts it runs. */
  mfa?: Pick<MfaService, 'reset'>;
}

/** The role catalog (issue 17), built the same way by the server and the CLI. */
export function buildRoleCatalog(deps: Pick<UserAdminDeps, 'db' | 'audit' | 'now'>): RoleCatalog {
  return createRoleCatalog({ store: createRoleStore(deps.db), audit: deps.audit, now: deps.now });
}

/** The user administration service, built the same way by the server and the CLI (one code path). */
export function buildUserAdmin(deps: UserAdminDeps): UserAdmin {
  const catalog = buildRoleCatalog(deps);
  const mfaStore = createSqlMfaStore(deps.db);
  return createUserAdmin({
    users: deps.users,
    // Only roles of the catalog (or the built-in admin) may be given.
    knownRole: catalog.knownRole,
    permissionsOf: catalog.permissionsOf,
    // MfaService.reset does exactly this (reset.ts), with the server's mailer.
    mfa: deps.mfa ?? {
      reset: async (userId, actorId) => {
        const user = await deps.users.findById(userId);
        if (!user) return 0;
        const { removed, mail } = await resetAllFactors({ store: mfaStore, audit: deps.audit, mailer: deps.mailer }, user, actorId);
        void mail.catch((error: unknown) => deps.onBackgroundError(error, 'mfa notification mail'));
        return removed;
      },
    },
    store: createUserAdminStore(deps.db),
    sessions: deps.sessions,
    revocations: deps.revocations,
    oneTimeTokens: deps.oneTimeTokens,
    identities: createIdentityStore(deps.db),
    applications: {
      list: (userId) => listApplications(userId, { consents: deps.consents, tokenStore: deps.tokenStore, clients: deps.clients, now: deps.now }),
      // The admin service audits the revocation itself, with the acting admin.
      revoke: async (userId, clientId) => {
        await deps.consents.revoke(userId, clientId);
        await deps.revocations.revokeUserClient(userId, clientId);
      },
    },
    mailer: deps.mailer,
    audit: deps.audit,
    config: deps.config,
    now: deps.now,
    onBackgroundError: deps.onBackgroundError,
  });
}

/** The one admin access check (access.ts) with the role catalog's permissions, shared by every admin area. */
export function buildAdminAccess(deps: Pick<UserAdminDeps, 'db' | 'audit' | 'now' | 'users' | 'clients'> & { auth: SessionAuth; verifier: AccessTokenVerifier; issuer: string; config: AdminMfaPolicy }): AdminAccess {
  const roles = buildRoleCatalog(deps);
  return createAdminAccess({
    auth: deps.auth, users: deps.users, verifier: deps.verifier, clients: deps.clients, issuer: deps.issuer,
    permissionsOf: async (names) => new Set(await roles.permissionsOf(names)),
    secondFactor: { config: deps.config, now: deps.now },
  });
}

/** Everything under `/api/admin/` that this module owns, behind one access check (access.ts). */
export function registerAdminApi(app: FastifyInstance, deps: UserAdminDeps & { config: AdminMfaPolicy; auth: SessionAuth; verifier: AccessTokenVerifier; issuer: string; keys: Pick<KeyService, 'list' | 'tick' | 'rotate' | 'retire'>; /** Shared with the clients and identity-provider APIs. */ access?: AdminAccess }): { access: AdminAccess } {
  const roles = buildRoleCatalog(deps);
  const access = deps.access ?? buildAdminAccess(deps);
  registerAdminUserRoutes(app, { admin: buildUserAdmin(deps), access });
  registerAdminRoleRoutes(app, { catalog: roles, access });
  registerAdminAuditRoutes(app, { audit: deps.audit, access });
  registerAdminKeyRoutes(app, { keys: deps.keys, access });
  return { access };
}
