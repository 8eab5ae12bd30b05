import type { FastifyInstance } from 'fastify';
import type { PagesDeps } from './deps.ts';
import { registerLoginPage } from './pages/login.ts';
import { registerSignUpPage } from './pages/signup.ts';
import { registerForgotPasswordPage } from './pages/forgot-password.ts';
import { registerResetPasswordPage } from './pages/reset-password.ts';
import { registerVerifyEmailPage } from './pages/verify-email.ts';
import { registerAccountPage } from './pages/account.ts';
import { registerAccountActions } from './pages/account-actions.ts';
import { registerLogout } from './pages/logout.ts';
import { registerSocialPages } from './pages/social.ts';
import { registerStartPage } from './pages/start.ts';
import { registerLanguageRoute } from './pages/language.ts';
import { registerFavicon } from './favicon.ts';

export type { PagesDeps } from './deps.ts';

/**
 * The server-rendered pages: sign-in, sign-up, password reset, email verification, the account
 * page and sign-out. They work with JavaScript off and carry no script (SEC-ASVS-10); every POST
 * checks Origin and a synchronizer token first (SEC-ASVS-07, src/ui/forms.ts `checkedForm`).
 *
 * | page                                   | GET                         | POST                                   |
 * | -------------------------------------- | --------------------------- | -------------------------------------- |
 * | /                                      | start page (JSON 404 to API)| —                                      |
 * | /login                                 | form (return_to kept)       | sign in → new session, new CSRF cookie |
 * | /signup                                | form                        | create account, send verification      |
 * | /forgot-password                       | form                        | send reset link (same answer always)   |
 * | /reset-password?token=                 | form (token not consumed)   | set the new password                   |
 * | /verify-email?token=                   | confirm button (not used up)| consume the token                      |
 * | /language                              | —                           | language cookie, 303 back (`back`)     |
 * | /account                               | profile, email, sessions …  | —                                      |
 * | /account/profile, /account/password, /account/sessions/:id/revoke,            |
 * | /account/sessions/revoke-others, /account/verify-email/resend, /logout         |
 *
 * /favicon.svg and /favicon.ico serve the same SVG (src/ui/favicon.ts).
 * Social login's pages (/login/social/…, /account/identities/…) are listed in pages/social.ts.
 */
export function registerPages(app: FastifyInstance, deps: PagesDeps): void {
  registerStartPage(app, deps);
  registerFavicon(app);
  registerLoginPage(app, deps);
  registerSignUpPage(app, deps);
  registerForgotPasswordPage(app, deps);
  registerResetPasswordPage(app, deps);
  registerVerifyEmailPage(app, deps);
  registerAccountPage(app, deps);
  registerAccountActions(app, deps);
  registerLogout(app, deps);
  registerLanguageRoute(app, deps);
  registerSocialPages(app, deps);
}
