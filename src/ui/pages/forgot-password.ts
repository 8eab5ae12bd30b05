import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, field, input } from '../forms.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, attempt, pagePost } from '../routes.ts';

function forgotBody(view: { csrfToken: string; email?: string; error?: string }) {
  return html`<h1>Reset your password</h1>
${alertBox(view.error)}
<p>Enter the address of your account. If it has one, we send it a link to choose a new password.</p>
<form method="post" action="/forgot-password" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'email', label: 'Email', type: 'email', autocomplete: 'email', value: view.email, required: true })}
<button type="submit">Send the link</button>
</form>
<p class="links"><a href="/login">Back to sign in</a></p>`;
}

/** `GET /forgot-password` and `POST /forgot-password`. */
export function registerForgotPasswordPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: { email?: string; error?: string }, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const body = forgotBody({ ...view, csrfToken: csrf.formToken(request, reply) });
    return sendPage(reply, { title: 'Reset your password', status, ...(headers ? { headers } : {}), body });
  }

  app.get('/forgot-password', PAGE_GET, async (request, reply) => render(request, reply, {}));

  app.post('/forgot-password', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const email = field(fields, 'email');
    const result = await attempt(() => accounts.forgotPassword(email, clientInfo(request)));
    if (!result.ok) return render(request, reply, { email, error: result.error.description }, result.error.status, result.error.headers);
    // Same answer whether or not the account exists (SEC-PWD-09).
    return sendPage(reply, {
      title: 'Check your inbox',
      body: html`<h1>Check your inbox</h1>
<div class="notice" role="status"><p>If an account exists for <strong>${email}</strong>, we sent it a link to reset the password. The link works once.</p></div>
<p class="links"><a href="/login">Back to sign in</a></p>`,
    });
  });
}
