import type { FastifyInstance } from 'fastify';
import type { KeysFeature } from '../../keys/wiring.ts';
import type { AccountsFeature } from '../accounts/wiring.ts';
import type { ClientsFeature } from '../clients/wiring.ts';
import type { OAuthProvider } from '../oauth/wiring.ts';
import type { Shared } from '../shared.ts';
import type { SocialFeature } from '../social/wiring.ts';
import type { TokensFeature } from '../tokens/wiring.ts';
import { createAdminAccess, type AdminAccess } from './access.ts';
import { registerAdminClientRoutes } from './clients-routes.ts';
import { registerAdminIdentityProviderRoutes } from './identity-providers-routes.ts';
import { registerAdminApi } from './wiring.ts';

/**
 * The one admin access check (access.ts): admin sessions, or client-credentials tokens with
 * `admin:*` scopes, with the role catalog's permissions. Built before the features whose admin
 * routes it guards (dynamic registration's initial access tokens, the admin API).
 */
export function createAdminAccessFor(shared: Shared, parts: { accounts: AccountsFeature; tokens: TokensFeature; clients: ClientsFeature }): AdminAccess {
  const { roles } = shared;
  return createAdminAccess({
    auth: parts.accounts.auth, users: parts.accounts.users, verifier: parts.tokens.verifier, clients: parts.clients.store, issuer: shared.issuer,
    permissionsOf: async (names) => new Set(await roles.permissionsOf(names)),
    // "A recent second factor when policy says so" (issue 17), for the API and the console alike.
    secondFactor: { config: shared.config, now: shared.now },
  });
}

/**
 * The admin API under `/api/admin/` (docs/admin.md): clients, identity providers, users, roles,
 * audit and keys, all behind `access`. Webhooks and dynamic registration register their own.
 */
export function registerAdminFeature(app: FastifyInstance, shared: Shared, parts: {
  access: AdminAccess;
  keys: KeysFeature;
  clients: ClientsFeature;
  tokens: TokensFeature;
  accounts: AccountsFeature;
  oauth: OAuthProvider;
  social: SocialFeature;
}): void {
  const { access, accounts, tokens } = parts;
  registerAdminClientRoutes(app, { registry: parts.clients.registry, access });
  registerAdminIdentityProviderRoutes(app, { registry: parts.social.providers, access, publicUrl: shared.config.publicUrl });
  registerAdminApi(app, {
    db: shared.database.db, users: accounts.users, oneTimeTokens: accounts.oneTimeTokens, sessions: accounts.sessions, revocations: tokens.revocations, tokenStore: tokens.store,
    consents: parts.oauth.consents, clients: parts.clients.store, mailer: shared.mailer, audit: shared.audit, config: shared.config, now: shared.now,
    onBackgroundError: shared.onBackgroundError, auth: accounts.auth, verifier: tokens.verifier, issuer: shared.issuer, keys: parts.keys.keys, access, mfa: accounts.mfa.service,
  });
}
