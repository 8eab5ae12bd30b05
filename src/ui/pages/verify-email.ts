import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { checkedForm, csrfInput, field, hiddenInput } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { sendErrorPage } from '../error-page.ts';
import { PAGE_GET, attempt, pagePost, queryParam, signInErrorMessage } from '../routes.ts';

const MAX_TOKEN_LENGTH = 512;

function incompleteLink() {
  return apiError('invalid_link', 'This verification link is incomplete. Open the link from the mail again.');
}

/**
 * `GET /verify-email?token=` only shows a confirm button: mail link scanners and previews issue
 * GETs, which must not use the single-use link up. `POST /verify-email` consumes it.
 */
export function registerVerifyEmailPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts, auth } = deps;

  app.get('/verify-email', PAGE_GET, async (request, reply) => {
    const tr = translatorFor(request);
    const token = queryParam(request, 'token');
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink(), { message: tr.t('signIn.verify.linkIncomplete') });
    return sendPage(reply, {
      title: tr.t('signIn.verify.title'),
      body: html`<h1>${tr.t('signIn.verify.title')}</h1>
<p>${tr.t('signIn.verify.intro')}</p>
<form method="post" action="/verify-email">
${csrfInput(csrf.formToken(request, reply))}
${hiddenInput('token', token)}
<button type="submit">${tr.t('signIn.verify.submit')}</button>
</form>`,
    });
  });

  app.post('/verify-email', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const token = field(fields, 'token');
    if (token === '' || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink(), { message: tr.t('signIn.verify.linkIncomplete') });
    const result = await attempt(() => accounts.verifyEmail(token, clientInfo(request)));
    if (!result.ok) {
      // The error page (status and Retry-After of the error) says what happened in the page's language.
      const message = result.error.error === 'invalid_link' ? tr.t('signIn.verify.linkInvalid') : signInErrorMessage(tr, result.error);
      return sendErrorPage(request, reply, result.error, { message });
    }
    const signedIn = await auth.current(request);
    return reply.redirect(signedIn ? '/account?notice=email-verified' : '/login?notice=email-verified', 303);
  });
}
