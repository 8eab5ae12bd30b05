import type { FastifyInstance } from 'fastify';
import { createMfaFeature, type MfaFeature } from '../mfa/wiring.ts';
import { registerMfaRoutes } from '../mfa/routes.ts';
import { createPasswordLogin, type PasswordLogin } from '../password-login/service.ts';
import { createSessionAuth, type SessionAuth } from '../sessions/http.ts';
import { registerSessionRoutes } from '../sessions/routes.ts';
import { createSessionService, type SessionService } from '../sessions/service.ts';
import { createSqlSessionStore } from '../sessions/store.ts';
import type { Shared } from '../shared.ts';
import type { TokensFeature } from '../tokens/wiring.ts';
import type { AccountsContext } from './context.ts';
import { registerAccountRoutes } from './routes.ts';
import { createAccountsService, type AccountsService } from './service.ts';
import { createSqlOneTimeTokenStore, createSqlUserStore, type OneTimeTokenStore, type UserStore } from './store.ts';

export interface AccountsFeature {
  users: UserStore;
  oneTimeTokens: OneTimeTokenStore;
  sessions: SessionService;
  /** Reads the session cookie (and bearer session tokens) of a request. */
  auth: SessionAuth;
  accounts: AccountsService;
  /** Password sign-in; its second step is MFA's gate. */
  login: PasswordLogin;
  /** MFA (docs/mfa.md): the second step between the first factor and the session. */
  mfa: MfaFeature;
}

/**
 * Accounts, sessions, password sign-in and MFA, with their JSON API (`/api/session*`,
 * `/api/account*`, `/api/mfa*`). Ending a session (sign-out, revoke, password change) revokes the
 * tokens issued with it, then tells the other relying parties (`onSessionsEnded`).
 */
export async function registerAccountsFeature(app: FastifyInstance, shared: Shared, parts: {
  tokens: TokensFeature;
  /** Back-channel logout (built later, by the OpenID Connect provider). */
  onSessionsEnded: (sessionIds: readonly string[]) => Promise<void>;
}): Promise<AccountsFeature> {
  const { config, database, ephemeral, masterKey, audit, mailer, limiter, lockout, now, onBackgroundError } = shared;
  const { revocations, store: tokenStore, firstPartyTokens } = parts.tokens;
  const sessions = createSessionService({ store: createSqlSessionStore(database.db), ephemeral, config, now, onEnded: async (ids, userId) => {
    await revocations.sessionsEnded(ids, userId);
    await parts.onSessionsEnded(ids);
  } });
  await sessions.start();
  app.addHook('onClose', () => sessions.stop());
  const auth = createSessionAuth({ sessions, cookieName: config.sessionCookieName });

  const context: AccountsContext = {
    config,
    users: createSqlUserStore(database.db),
    oneTimeTokens: createSqlOneTimeTokenStore(database.db),
    sessions,
    hasher: shared.hasher,
    mailer,
    audit,
    limiter,
    lockout,
    now,
    onCredentialsChanged: (userId) => revocations.revokeAllOfUser(userId, 'credentials changed'),
    // docs/mfa.md: change-password needs a recent second factor (mfa is built just below).
    requireRecentSecondFactor: (record) => mfa.service.requireRecentSecondFactor(record),
    onBackgroundError,
  };
  const accounts = createAccountsService(context);
  // MFA ↔ password sign-in: the login's second step is MFA's gate; MFA trusts devices through the login.
  const mfa = createMfaFeature({
    config, database, ephemeral, masterKey, users: context.users, sessions, audit, mailer, limiter, lockout, now, onBackgroundError,
    trustDevice: (presented, account) => login.trustDevice(presented, account),
    onSessionReplaced: (from, to) => tokenStore.moveGrants(from, to),
  });
  const login = createPasswordLogin(context, { deviceKey: masterKey.derive('device-cookie'), secondStep: mfa.gate });

  registerSessionRoutes(app, { sessions, auth, audit, permissionsOf: shared.roles.permissionsOf });
  registerAccountRoutes(app, { accounts, login, auth, firstPartyTokens, onSessionReplaced: (from, to) => tokenStore.moveGrants(from, to) });
  registerMfaRoutes(app, { mfa: mfa.service, signIn: mfa.signIn, auth, firstPartyTokens, now });
  return { users: context.users, oneTimeTokens: context.oneTimeTokens, sessions, auth, accounts, login, mfa };
}
