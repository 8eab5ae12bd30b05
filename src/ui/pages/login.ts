import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import { presentedDevice, setDeviceCookie } from '../../features/password-login/http.ts';
import { MfaRequiredError } from '../../features/mfa/errors.ts';
import { setPendingCookie } from '../../features/mfa/http.ts';
import { secondStepUrl } from './mfa.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, field, hiddenInput, input, noticeBox } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { sendPage } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';

/** Fixed messages chosen by `?notice=`; anything else shows nothing (no reflected text). */
const NOTICES: Readonly<Record<string, string>> = {
  'signed-out': 'You are signed out.',
  'password-reset': 'Your password was changed. Sign in with the new password.',
  'email-verified': 'Your email address is confirmed. Sign in to continue.',
  reauthenticate: 'For your security, sign in again before adding a way to sign in.',
};

interface LoginView {
  csrfToken: string;
  email?: string;
  returnTo?: string | undefined;
  error?: string;
  notice?: string | undefined;
  signedInAs?: string | undefined;
  /** Social-login providers: one link each. */
  providers?: readonly { id: string; name: string }[];
  /** Passwordless sign-in with a passkey (also offered in the email field's autofill). */
  passkey?: SafeHtml | undefined;
}

function loginBody(view: LoginView) {
  return html`<h1>Sign in</h1>
${noticeBox(view.notice)}
${alertBox(view.error)}
${view.signedInAs ? html`<p>You are signed in as <strong>${view.signedInAs}</strong>. <a href="/account">Go to your account</a>, or sign in as someone else below.</p>` : ''}
<form method="post" action="/login" novalidate>
${csrfInput(view.csrfToken)}
${view.returnTo ? hiddenInput('return_to', view.returnTo) : ''}
${input({ name: 'email', label: 'Email', type: 'email', autocomplete: view.passkey ? 'username webauthn' : 'username', value: view.email, required: true })}
${input({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', required: true })}
<button type="submit">Sign in</button>
</form>
${view.passkey ?? ''}
${(view.providers ?? []).length > 0 ? html`<div class="social">
<p>Or sign in with:</p>
<ul class="providers">
${(view.providers ?? []).map((provider) => html`<li><a class="button" href="/login/social/${encodeURIComponent(provider.id)}${view.returnTo ? html`?return_to=${encodeURIComponent(view.returnTo)}` : ''}">Continue with ${provider.name}</a></li>`)}
</ul>
</div>` : ''}
<p class="links"><a href="/forgot-password">Forgot your password?</a></p>
<p>No account yet? <a href="/signup">Create one</a>.</p>`;
}

/** `GET /login` and `POST /login`. */
export function registerLoginPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, auth, sessions, login } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, view: Omit<LoginView, 'csrfToken'>, status = 200, headers?: Readonly<Record<string, string>>): Promise<FastifyReply> {
    // The token exists before sign-in, so a login form cannot be forged cross-site (login CSRF).
    const csrfToken = csrf.formToken(request, reply);
    const formAction = deps.formActionFor ? await deps.formActionFor(view.returnTo) : [];
    const providers = deps.social ? await deps.social.providers() : [];
    const passkey = deps.passkeySignIn ? await deps.passkeySignIn(request, reply, { csrfToken, returnTo: view.returnTo }) : undefined;
    return sendPage(reply, { title: 'Sign in', status, ...(headers ? { headers } : {}), formAction, body: loginBody({ ...view, csrfToken, providers, passkey: passkey?.body }), ...(passkey ? { scripts: passkey.scripts } : {}) });
  }

  app.get('/login', PAGE_GET, async (request, reply) => {
    const current = await auth.current(request);
    return render(request, reply, {
      returnTo: safeReturnTo(queryParam(request, 'return_to')),
      notice: NOTICES[queryParam(request, 'notice') ?? ''],
      signedInAs: current?.user.email,
    });
  });

  app.post('/login', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const email = field(fields, 'email');
    const password = field(fields, 'password');
    // Refused values are dropped here, so a hostile return_to is never echoed into the form.
    const returnTo = safeReturnTo(fields.return_to);
    if (email.trim() === '' || password === '') {
      return render(request, reply, { email, returnTo, error: 'Enter your email address and password.' }, 400);
    }
    // SEC-PWD-14: a device cookie valid for this login selects the device's own attempt budget.
    const result = await attempt(() => login.signIn({ email, password }, clientInfo(request), { device: presentedDevice(request) }));
    // The typed email comes back; the password never does. A 429 says how long to wait, in the
    // text and in Retry-After.
    // The password was right and a second factor is due: no session yet, only the pending cookie.
    if (!result.ok && result.error instanceof MfaRequiredError) {
      setPendingCookie(reply, result.error.pendingToken);
      return reply.redirect(secondStepUrl(returnTo), 303);
    }
    if (!result.ok) return render(request, reply, { email, returnTo, error: result.error.description }, result.error.status, result.error.headers);

    // SEC-SESS-01: the new session has a new id; a session this browser already had ends server-side.
    const previous = await auth.current(request);
    if (previous) {
      // Re-authentication of the same user (prompt=login, max_age) is not a sign-out: the
      // applications' session-bound grants follow the new session instead of being revoked.
      if (previous.user.id === result.value.user.id) await deps.onSessionReplaced?.(previous.session.id, result.value.session.id);
      await sessions.revoke(previous.session.id, previous.user.id);
    }
    auth.forget(request);
    csrf.renew(reply); // a new CSRF binding for the signed-in browser
    auth.setCookie(reply, result.value.token);
    setDeviceCookie(reply, result.value.device);
    return reply.redirect(returnTo ?? DEFAULT_RETURN_TO, 303);
  });
}
