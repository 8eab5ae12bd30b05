import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, field, input } from '../forms.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, attempt, pagePost } from '../routes.ts';

const MAX_NAME_LENGTH = 200;

interface SignUpView {
  csrfToken: string;
  name?: string;
  email?: string;
  error?: string;
  passwordMinLength: number;
}

function signUpBody(view: SignUpView) {
  return html`<h1>Create an account</h1>
${alertBox(view.error)}
<form method="post" action="/signup" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'name', label: 'Name (optional)', type: 'text', autocomplete: 'name', value: view.name, maxLength: MAX_NAME_LENGTH })}
${input({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username', value: view.email, required: true, hint: 'We send a link to confirm it.' })}
${input({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', required: true, hint: `At least ${view.passwordMinLength} characters. Any characters work, spaces too; a long passphrase is best.` })}
<button type="submit">Create account</button>
</form>
<p class="links">Already have an account? <a href="/login">Sign in</a>.</p>`;
}

/** `GET /signup` and `POST /signup`. */
export function registerSignUpPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts, config } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: Omit<SignUpView, 'csrfToken' | 'passwordMinLength'>, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const body = signUpBody({ ...view, csrfToken: csrf.formToken(request, reply), passwordMinLength: config.passwordMinLength });
    return sendPage(reply, { title: 'Create an account', status, ...(headers ? { headers } : {}), body });
  }

  app.get('/signup', PAGE_GET, async (request, reply) => render(request, reply, {}));

  app.post('/signup', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const name = field(fields, 'name');
    const email = field(fields, 'email');
    const password = field(fields, 'password');
    if (name.length > MAX_NAME_LENGTH) return render(request, reply, { name, email, error: `The name can be at most ${MAX_NAME_LENGTH} characters.` }, 400);
    const result = await attempt(() => accounts.signUp({ email, password, name }, clientInfo(request)));
    if (!result.ok) return render(request, reply, { name, email, error: result.error.description }, result.error.status, result.error.headers);
    // The same page whether or not the address was already registered (SEC-PWD-09).
    return sendPage(reply, {
      title: 'Check your inbox',
      body: html`<h1>Check your inbox</h1>
<div class="notice" role="status"><p>We sent a link to <strong>${email}</strong> to confirm the address. It works once.</p></div>
<p class="links"><a href="/login">Sign in</a></p>`,
    });
  });
}
