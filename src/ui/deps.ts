import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import type { SafeHtml } from './html.ts';
import type { Csrf } from '../http/csrf.ts';
import type { SessionAuth } from '../features/sessions/http.ts';
import type { SessionService } from '../features/sessions/service.ts';
import type { AccountsService } from '../features/accounts/service.ts';
import type { PasswordLogin } from '../features/password-login/service.ts';
import type { AuditLog } from '../features/audit/audit-log.ts';
import type { SocialLogin } from '../features/social/service.ts';

/** What the HTML pages need, passed explicitly from createApp (style rule 10). */
export interface PagesDeps {
  config: Pick<Config, 'passwordMinLength' | 'env'>;
  csrf: Csrf;
  auth: SessionAuth;
  sessions: SessionService;
  accounts: AccountsService;
  login: PasswordLogin;
  audit: AuditLog;
  /** Extra form-action sources for a sign-in that returns to `returnTo` (an authorization in progress). */
  formActionFor?: (returnTo: string | undefined) => Promise<string[]>;
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
