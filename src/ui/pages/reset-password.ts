import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { presentedDevice, setDeviceCookie } from '../../features/password-login/http.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, field, hiddenInput, input } from '../forms.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { sendErrorPage } from '../error-page.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';

const MAX_TOKEN_LENGTH = 512;

function incompleteLink() {
  return apiError('invalid_link', 'This reset link is incomplete. Open the link from the mail again, or request a new one.');
}

function resetBody(view: { csrfToken: string; token: string; error?: string; passwordMinLength: number; expired?: boolean }) {
  if (view.expired) {
    return html`<h1>Choose a new password</h1>
${alertBox(view.error)}
<p class="links"><a href="/forgot-password">Request a new link</a></p>`;
  }
  return html`<h1>Choose a new password</h1>
${alertBox(view.error)}
<form method="post" action="/reset-password" novalidate>
${csrfInput(view.csrfToken)}
${hiddenInput('token', view.token)}
${input({ name: 'password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, hint: `At least ${view.passwordMinLength} characters. Any characters work, spaces too.` })}
<button type="submit">Set the new password</button>
</form>
<p>Setting a new password signs you out everywhere.</p>`;
}

/**
 * `GET /reset-password?token=` shows the form and does not use the link up (link scanners
 * issue GETs); `POST /reset-password` sets the password. The page sends `Referrer-Policy:
 * no-referrer` (global header and meta) and loads nothing from elsewhere (SEC-PWD-16).
 */
export function registerResetPasswordPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts, auth, config, login } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: { token: string; error?: string; expired?: boolean }, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const body = resetBody({ ...view, csrfToken: csrf.formToken(request, reply), passwordMinLength: config.passwordMinLength });
    return sendPage(reply, { title: 'Choose a new password', status, ...(headers ? { headers } : {}), body });
  }

  app.get('/reset-password', PAGE_GET, async (request, reply) => {
    const token = queryParam(request, 'token');
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink());
    return render(request, reply, { token });
  });

  app.post('/reset-password', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const token = field(fields, 'token');
    if (token === '' || token.length > MAX_TOKEN_LENGTH) return sendErrorPage(request, reply, incompleteLink());
    const result = await attempt(() => accounts.resetPassword(token, field(fields, 'password'), clientInfo(request)));
    if (!result.ok) {
      // A refused password leaves the link usable: show the form again; a dead link cannot be retried.
      const expired = result.error.error === 'invalid_link';
      return render(request, reply, { token, error: result.error.description, expired }, result.error.status, result.error.headers);
    }
    // Every session of the account ended (SEC-SESS-10); drop this browser's cookie too.
    auth.clearCookie(reply);
    // SEC-PWD-14: the link proved the mailbox, so this browser becomes a trusted device for the
    // account — an attacker who re-locks the account at once cannot keep its owner out.
    setDeviceCookie(reply, login.trustDevice(presentedDevice(request), result.value));
    return reply.redirect('/login?notice=password-reset', 303);
  });
}
