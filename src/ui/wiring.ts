import type { FastifyInstance } from 'fastify';
import type { SelfService } from '../features/accounts/self-service/service.ts';
import type { AccountsFeature } from '../features/accounts/wiring.ts';
import { registerDevOutboxRoute } from '../features/email/dev-outbox-route.ts';
import { isDevOutbox } from '../features/email/mailer.ts';
import type { OAuthProvider } from '../features/oauth/wiring.ts';
import type { Shared } from '../features/shared.ts';
import type { SocialFeature } from '../features/social/wiring.ts';
import type { TokensFeature } from '../features/tokens/wiring.ts';
import { registerPages } from './pages.ts';
import { registerMfaPages } from './pages/mfa.ts';
import { passkeySignInBlock } from './pages/mfa-passwordless.ts';

/**
 * The server-rendered pages (src/ui/pages.ts): sign-in, sign-up, password reset, the account
 * page, social login, the MFA steps, and in development the mail outbox.
 */
export function registerPagesFeature(app: FastifyInstance, shared: Shared, parts: { accounts: AccountsFeature; tokens: TokensFeature; oauth: OAuthProvider; social: SocialFeature; selfService?: SelfService }): void {
  const { config, csrf, audit, mailer, now } = shared;
  const { auth, sessions, accounts, login, mfa } = parts.accounts;
  const { formActionFor } = parts.oauth;
  // The same user signed in again in this browser: tokens bound to the old session move to the new one.
  const onSessionReplaced = (from: string, to: string): Promise<void> => parts.tokens.store.moveGrants(from, to);
  registerPages(app, {
    social: parts.social.social, config, csrf, auth, sessions, accounts, login, audit, formActionFor, passkeySignIn: passkeySignInBlock(mfa.passkeys),
    onSessionReplaced,
    applications: parts.oauth.applications,
    clientFor: parts.oauth.clientFor,
    mfa: mfa.service,
    ...(parts.selfService ? { pendingEmail: (userId: string) => parts.selfService!.emailChange.pendingEmail(userId) } : {}),
  });
  registerMfaPages(app, { config, csrf, auth, mfa: mfa.service, signIn: mfa.signIn, passkeys: mfa.passkeys, formActionFor, onSessionReplaced, now });
  // The outbox page shows live links: development mode only, never in production.
  if (config.env === 'development' && isDevOutbox(mailer)) registerDevOutboxRoute(app, mailer);
}
