import type { FastifyInstance } from 'fastify';
import type { AccountsFeature } from '../accounts/wiring.ts';
import type { Shared } from '../shared.ts';
import type { TokensFeature } from '../tokens/wiring.ts';
import { createProviderRegistry, type ProviderRegistry } from './registry.ts';
import { createSocialLogin, type SocialLogin } from './service.ts';
import { createIdentityStore, createProviderStore } from './store.ts';
import { createUpstreamClient } from './upstream.ts';

export interface SocialFeature {
  /** Upstream providers: the config file's plus the admin API's (secrets sealed). */
  providers: ProviderRegistry;
  social: SocialLogin;
}

/**
 * Social login (docs/social-login.md): upstream providers and linked identities. Its pages are
 * registered with the other pages (src/ui/wiring.ts), its admin API with the admin feature.
 */
export function registerSocialFeature(_app: FastifyInstance, shared: Shared, parts: { accounts: AccountsFeature; tokens: TokensFeature }): SocialFeature {
  const { config, database, masterKey, audit, now } = shared;
  const { users, oneTimeTokens, sessions, login, mfa } = parts.accounts;
  const providers = createProviderRegistry({ store: createProviderStore(database.db), sealKey: masterKey.derive('identity-provider-secrets'), configured: config.socialProviders, audit, now });
  const social = createSocialLogin({
    registry: providers,
    upstream: createUpstreamClient({ publicUrl: config.publicUrl, now }),
    identities: createIdentityStore(database.db),
    users,
    oneTimeTokens,
    sessions,
    login,
    // docs/mfa.md: a social sign-in leads to the same second step as a password one.
    secondStep: mfa.gate,
    audit,
    ephemeral: shared.ephemeral,
    mailer: shared.mailer,
    limiter: shared.limiter,
    tokenKey: masterKey.derive('upstream-tokens'),
    publicUrl: config.publicUrl,
    now,
    onBackgroundError: shared.onBackgroundError,
    onTakeover: async (userId) => {
      await sessions.revokeAllForUser(userId);
      await parts.tokens.revocations.revokeAllOfUser(userId, 'account taken over by its email owner');
    },
  });
  return { providers, social };
}
