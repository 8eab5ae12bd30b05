import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { presentedDevice, setDeviceCookie } from '../../features/password-login/http.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, errorFor, errorSummary, field, hiddenInput, input, type FieldError } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { sendErrorPage } from '../error-page.ts';
import { PAGE_GET, attempt, pagePost, queryParam, signInErrorMessage } from '../routes.ts';
import { passwordFieldError } from './signup.ts';

const MAX_TOKEN_LENGTH = 512;

function incompleteLink() {
  return apiError('invalid_link', 'This reset link is incomplete. Open the link from the mail again, or request a new one.');
}

interface ResetView {
  csrfToken: string;
  token: string;
  error?: string | undefined;
  fieldErrors?: readonly FieldError[];
  passwordMinLength: number;
  expired?: boolean;
}

function resetBody(tr: Translator, view: ResetView) {
  if (view.expired) {
    return html`<h1>${tr.t('signIn.reset.title')}</h1>
${alertBox(view.error)}
<p class="links"><a href="/forgot-password">${tr.t('signIn.reset.requestNew')}</a></p>`;
  }
  const errors = view.fieldErrors ?? [];
  return html`<h1>${tr.t('signIn.reset.title')}</h1>
${alertBox(view.error)}
<form method="post" action="/reset-password" novalidate>
${errorSummary(tr.t('common.errorSummary', { count: errors.length }), errors)}
${csrfInput(view.csrfToken)}
${hiddenInput('token', view.token)}
${input({ name: 'password', label: tr.t('signIn.reset.password'), type: 'password', autocomplete: 'new-password', required: true, hint: tr.t('signIn.reset.hint', { min: view.passwordMinLength }), error: errorFor(errors, 'password') })}
<button type="submit">${tr.t('signIn.reset.submit')}</button>
</form>
<p>${tr.t('signIn.reset.signsOut')}</p>`;
}

/**
 * `GET /reset-password?token=` shows the form and does not use the link up (link scanners
 * issue GETs); `POST /reset-password` sets the password. The page sends `Referrer-Policy:
 * no-referrer` (global header and meta) and loads nothing from elsewhere (SEC-PWD-16).
 */
export function registerResetPasswordPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts, auth, config, login } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: Omit<ResetView, 'csrfToken' | 'passwordMinLength'>, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const tr = translatorFor(request);
    const body = resetBody(tr, { ...view, csrfToken: csrf.formToken(request, reply), passwordMinLength: config.passwordMinLength });
    return sendPage(reply, { title: tr.t('signIn.reset.title'), status, ...(headers ? { headers } : {}), body });
  }

  app.get('/reset-password', PAGE_GET, async (request, reply) => {
    const token = queryParam(request, 'token');
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink(), { message: translatorFor(request).t('signIn.reset.linkIncomplete') });
    return render(request, reply, { token });
  });

  app.post('/reset-password', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const token = field(fields, 'token');
    if (token === '' || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink(), { message: tr.t('signIn.reset.linkIncomplete') });
    const password = field(fields, 'password');
    const result = await attempt(() => accounts.resetPassword(token, password, clientInfo(request)));
    if (!result.ok) {
      const { error } = result;
      // A dead link cannot be retried: no form, a way to a new one.
      if (error.error === 'invalid_link') return render(request, reply, { token, error: tr.t('signIn.reset.linkInvalid'), expired: true }, error.status, error.headers);
      if (error.error === 'invalid_password') {
        // A refused password leaves the link usable: the form again, the reason on the field. The
        // service checked with the account's email and name, which this page does not know: a
        // refusal the local check cannot name is that context.
        const message = passwordFieldError(tr, password, config, { strength: true }) ?? tr.t('signIn.password.context');
        return render(request, reply, { token, fieldErrors: [{ field: 'password', message }] }, error.status, error.headers);
      }
      return render(request, reply, { token, error: signInErrorMessage(tr, error) }, error.status, error.headers);
    }
    // Every session of the account ended (SEC-SESS-10); drop this browser's cookie too.
    auth.clearCookie(reply);
    // SEC-PWD-14: the link proved the mailbox, so this browser becomes a trusted device for the
    // account — an attacker who re-locks the account at once cannot keep its owner out.
    setDeviceCookie(reply, login.trustDevice(presentedDevice(request), result.value));
    return reply.redirect('/login?notice=password-reset', 303);
  });
}
