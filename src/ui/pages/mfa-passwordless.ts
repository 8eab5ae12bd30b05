import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { Passkeys } from '../../features/mfa/passkeys.ts';
import type { CompletedSignIn } from '../../features/mfa/sign-in.ts';
import { presentedDevice } from '../../features/password-login/http.ts';
import { alertBox, checkedForm, field } from '../forms.ts';
import { translatorFor } from '../i18n/index.ts';
import { html, type SafeHtml } from '../html.ts';
import { sendPage } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { attempt, pagePost } from '../routes.ts';
import { ceremonyCookieBinding, ceremonyCookieValue } from '../../features/mfa/http.ts';
import { PASSKEY_SCRIPTS, passkeyForm } from './mfa-passkey.ts';
import type { MfaPagesDeps } from './mfa.ts';
import { mfaServiceError } from './mfa-view.ts';

export const PASSWORDLESS_PATH = '/login/passkey';

/**
 * The passkey part of the sign-in page: a discoverable-credential request (no allowCredentials),
 * offered in the email field's autofill where the browser supports conditional mediation, and
 * as a button. Returns the block and the scripts the page must load.
 */
export function passkeySignInBlock(passkeys: Passkeys) {
  return async (request: FastifyRequest, reply: FastifyReply, view: { csrfToken: string; returnTo?: string | undefined }): Promise<{ body: SafeHtml; scripts: readonly string[] }> => {
    const options = await passkeys.authenticationOptions('passwordless', ceremonyCookieBinding(request, reply), null);
    const tr = translatorFor(request);
    return {
      body: passkeyForm(tr, { ceremony: 'authenticate', optionsJSON: options, action: PASSWORDLESS_PATH, csrfToken: view.csrfToken, button: tr.t('mfa.passwordless.button'), returnTo: view.returnTo, autofill: true, secondary: true }),
      scripts: PASSKEY_SCRIPTS,
    };
  };
}

/** `POST /login/passkey`: the answer of the sign-in page's passkey request; a session when it verifies. */
export function registerPasswordlessSignIn(app: FastifyInstance, deps: MfaPagesDeps, handOver: (request: FastifyRequest, reply: FastifyReply, result: CompletedSignIn) => Promise<void>): void {
  app.post(PASSWORDLESS_PATH, pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    const returnTo = safeReturnTo(fields.return_to);
    const result = await attempt(() => deps.signIn.passwordless({ credential: field(fields, 'credential'), binding: ceremonyCookieValue(request), presentedDevice: presentedDevice(request) }, clientInfo(request)));
    if (!result.ok) {
      const tr = translatorFor(request);
      const again = returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login';
      return sendPage(reply, {
        title: tr.t('mfa.passwordless.title'),
        status: result.error.status,
        ...(result.error.headers ? { headers: result.error.headers } : {}),
        body: html`<h1>${tr.t('mfa.passwordless.title')}</h1>${alertBox(mfaServiceError(tr, result.error, 'passwordless'))}<p><a class="button" href="${again}">${tr.t('mfa.passwordless.back')}</a></p>`,
      });
    }
    await handOver(request, reply, result.value);
    return reply.redirect(returnTo ?? DEFAULT_RETURN_TO, 303);
  });
}
