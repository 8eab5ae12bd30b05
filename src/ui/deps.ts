import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { SafeHtml } from './html.ts';
import type { ClientBrand } from './layout.ts';
import type { Csrf } from '../http/csrf.ts';
import type { SessionAuth } from '../features/sessions/http.ts';
import type { SessionService } from '../features/sessions/service.ts';
import type { AccountsService } from '../features/accounts/service.ts';
import type { PasswordLogin } from '../features/password-login/service.ts';
import type { AuditLog } from '../features/audit/audit-log.ts';
import type { SocialLogin } from '../features/social/service.ts';
import type { MfaService } from '../features/mfa/service.ts';

/** What the HTML pages need, passed explicitly from createApp (style rule 10). */
export interface PagesDeps {
  config: Pick<Config, 'passwordMinLength' | 'passwordMaxLength' | 'env'>;
  /** The user's second factors, summarised in the account page's Security section. */
  mfa?: Pick<MfaService, 'factors'>;
  /** The address an email change waits to confirm (self-service), shown under the current one. */
  pendingEmail?: (userId: string) => Promise<string | null>;
  csrf: Csrf;
  auth: SessionAuth;
  sessions: SessionService;
  accounts: AccountsService;
  login: PasswordLogin;
  audit: AuditLog;
  /** Extra form-action sources for a sign-in that returns to `returnTo` (an authorization in progress). */
  formActionFor?: (returnTo: string | undefined) => Promise<string[]>;
  /**
   * The OAuth client a sign-in continues an authorization for (its name and links on /login:
   * "Sign in to continue to …"), from the `return_to`; undefined when there is none. Built with
   * `clientForReturnTo` (src/ui/return-to.ts).
   */
  clientFor?: (returnTo: string) => Promise<ClientBrand | undefined>;
  /** The same user signed in again in this browser: tokens bound to the old session move to the new one. */
  onSessionReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void>;
  /** The applications a user authorised (OpenID Connect provider), shown on /account. */
  applications?: {
    list(userId: string): Promise<{ client_id: string; name: string; scopes: string[]; consented_at: number | null }[]>;
    revoke(userId: string, clientId: string): Promise<boolean>;
  };
  /** Social login (buttons on /login, linked identities on /account), when wired. */
  social?: SocialLogin;
  /** Passwordless sign-in with a passkey on /login (src/ui/pages/mfa-passwordless.ts): the block and its scripts. */
  passkeySignIn?: (request: FastifyRequest, reply: FastifyReply, view: { csrfToken: string; returnTo?: string | undefined }) => Promise<{ body: SafeHtml; scripts: readonly string[] }>;
}
