import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, errorFor, errorSummary, field, input, type FieldError } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, attempt, pagePost, signInErrorMessage } from '../routes.ts';
import { emailFieldError } from './signup.ts';

interface ForgotView {
  csrfToken: string;
  email?: string;
  error?: string | undefined;
  fieldErrors?: readonly FieldError[];
}

function forgotBody(tr: Translator, view: ForgotView) {
  const errors = view.fieldErrors ?? [];
  return html`<h1>${tr.t('signIn.forgot.title')}</h1>
${alertBox(view.error)}
<p>${tr.t('signIn.forgot.intro')}</p>
<form method="post" action="/forgot-password" novalidate>
${errorSummary(tr.t('common.errorSummary', { count: errors.length }), errors)}
${csrfInput(view.csrfToken)}
${input({ name: 'email', label: tr.t('signIn.email'), type: 'email', autocomplete: 'email', value: view.email, required: true, error: errorFor(errors, 'email') })}
<button type="submit">${tr.t('signIn.forgot.submit')}</button>
</form>
<p class="links"><a href="/login">${tr.t('signIn.backToSignIn')}</a></p>`;
}

/** `GET /forgot-password` and `POST /forgot-password`. */
export function registerForgotPasswordPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: Omit<ForgotView, 'csrfToken'>, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const tr = translatorFor(request);
    const body = forgotBody(tr, { ...view, csrfToken: csrf.formToken(request, reply) });
    return sendPage(reply, { title: tr.t('signIn.forgot.title'), status, ...(headers ? { headers } : {}), body });
  }

  app.get('/forgot-password', PAGE_GET, async (request, reply) => render(request, reply, {}));

  app.post('/forgot-password', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const email = field(fields, 'email');
    const result = await attempt(() => accounts.forgotPassword(email, clientInfo(request)));
    if (!result.ok) {
      // `invalid_request` is the address the service could not read: said on its field.
      const problem = result.error.error === 'invalid_request' ? emailFieldError(tr, email) ?? tr.t('signIn.error.emailInvalid') : undefined;
      if (problem !== undefined) return render(request, reply, { email, fieldErrors: [{ field: 'email', message: problem }] }, 400);
      return render(request, reply, { email, error: signInErrorMessage(tr, result.error) }, result.error.status, result.error.headers);
    }
    // Same answer whether or not the account exists (SEC-PWD-09).
    return sendPage(reply, {
      title: tr.t('signIn.checkInbox'),
      body: html`<h1>${tr.t('signIn.checkInbox')}</h1>
<div class="notice" role="status"><p>${tr.tHtml('signIn.forgot.sent', { email: html`<strong>${email}</strong>` })}</p></div>
<p class="links"><a href="/login">${tr.t('signIn.backToSignIn')}</a></p>`,
    });
  });
}
