import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { checkedForm, csrfInput, field, hiddenInput } from '../forms.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { sendErrorPage } from '../error-page.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';

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
    const token = queryParam(request, 'token');
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink());
    return sendPage(reply, {
      title: 'Confirm your email address',
      body: html`<h1>Confirm your email address</h1>
<p>Press the button to confirm that this address is yours.</p>
<form method="post" action="/verify-email">
${csrfInput(csrf.formToken(request, reply))}
${hiddenInput('token', token)}
<button type="submit">Confirm my email address</button>
</form>`,
    });
  });

  app.post('/verify-email', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const token = field(fields, 'token');
    if (token === '' || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink());
    const result = await attempt(() => accounts.verifyEmail(token, clientInfo(request)));
    if (!result.ok) return sendErrorPage(request, reply, result.error);
    const signedIn = await auth.current(request);
    return reply.redirect(signedIn ? '/account?notice=email-verified' : '/login?notice=email-verified', 303);
  });
}
