import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import { presentedDevice, setDeviceCookie } from '../../features/password-login/http.ts';
import { MfaRequiredError } from '../../features/mfa/errors.ts';
import { setPendingCookie } from '../../features/mfa/http.ts';
import { secondStepUrl } from './mfa.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, errorFor, errorSummary, field, hiddenInput, input, noticeBox, type FieldError } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { translatorFor, type MessageKey, type Translator } from '../i18n/index.ts';
import { sendPage, type ClientBrand } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { PAGE_GET, attempt, pagePost, queryParam, signInErrorMessage } from '../routes.ts';
import { languagePicker } from './language.ts';

/** Fixed messages chosen by `?notice=`; anything else shows nothing (no reflected text). */
const NOTICES: Readonly<Record<string, MessageKey>> = {
  'signed-out': 'signIn.notice.signedOut',
  'password-reset': 'signIn.notice.passwordReset',
  'email-verified': 'signIn.notice.emailVerified',
  reauthenticate: 'signIn.notice.reauthenticate',
};

interface LoginView {
  csrfToken: string;
  email?: string;
  returnTo?: string | undefined;
  /** A refusal of the whole attempt (wrong credentials, lockout): one message, no field named. */
  error?: string | undefined;
  /** Fields left empty: each message next to its field and in the summary. */
  fieldErrors?: readonly FieldError[];
  /** `?notice=` value, when it is one of NOTICES. */
  notice?: string | undefined;
  signedInAs?: string | undefined;
  /** The OAuth client this sign-in continues an authorization for. */
  client?: ClientBrand | undefined;
  /** Social-login providers: one link each. */
  providers?: readonly { id: string; name: string }[];
  /** Passwordless sign-in with a passkey (also offered in the email field's autofill). */
  passkey?: SafeHtml | undefined;
}

/** The page the language picker comes back to: the same sign-in, with what it continues. */
function loginPath(view: Pick<LoginView, 'returnTo' | 'notice'>): string {
  const query = new URLSearchParams();
  if (view.returnTo) query.set('return_to', view.returnTo);
  if (view.notice) query.set('notice', view.notice);
  const text = query.toString();
  return text ? `/login?${text}` : '/login';
}

function socialLinks(tr: Translator, view: LoginView): SafeHtml {
  const providers = view.providers ?? [];
  if (providers.length === 0) return html``;
  const suffix = view.returnTo ? `?return_to=${encodeURIComponent(view.returnTo)}` : '';
  // Secondary links under an "or": the password form above stays the page's primary action.
  return html`<div class="social">
<p class="separator"><span>${tr.t('signIn.or')}</span></p>
<ul class="providers" aria-label="${tr.t('signIn.otherWays')}">
${providers.map((provider) => html`<li><a class="button secondary" href="/login/social/${encodeURIComponent(provider.id)}${suffix}">${tr.t('signIn.continueWith', { provider: provider.name })}</a></li>`)}
</ul>
</div>`;
}

function loginBody(tr: Translator, view: LoginView): SafeHtml {
  const errors = view.fieldErrors ?? [];
  const notice = view.notice ? NOTICES[view.notice] : undefined;
  return html`<h1>${tr.t('signIn.title')}</h1>
${view.client ? html`<p class="client-context">${tr.tHtml('signIn.continueTo', { client: html`<b>${view.client.name}</b>` })}</p>` : ''}
${noticeBox(notice ? tr.t(notice) : undefined)}
${alertBox(view.error)}
${view.signedInAs ? html`<p>${tr.tHtml('signIn.signedInAs', { email: html`<strong>${view.signedInAs}</strong>`, link: html`<a href="/account">${tr.t('signIn.goToAccount')}</a>` })}</p>` : ''}
<form method="post" action="/login" novalidate>
${errorSummary(tr.t('common.errorSummary', { count: errors.length }), errors)}
${csrfInput(view.csrfToken)}
${view.returnTo ? hiddenInput('return_to', view.returnTo) : ''}
${input({ name: 'email', label: tr.t('signIn.email'), type: 'email', autocomplete: view.passkey ? 'username webauthn' : 'username', value: view.email, required: true, error: errorFor(errors, 'email') })}
${input({ name: 'password', label: tr.t('signIn.password'), type: 'password', autocomplete: 'current-password', required: true, error: errorFor(errors, 'password') })}
<button type="submit">${tr.t('signIn.submit')}</button>
</form>
${view.passkey ?? ''}
${socialLinks(tr, view)}
<p class="links"><a href="/forgot-password">${tr.t('signIn.forgotPassword')}</a></p>
<p>${tr.tHtml('signIn.noAccount', { link: html`<a href="/signup">${tr.t('signIn.createOne')}</a>` })}</p>
${languagePicker(tr, { csrfToken: view.csrfToken, back: loginPath(view) })}`;
}

/** The fields of a sign-in left empty, each on its field. */
function missingFields(tr: Translator, email: string, password: string): FieldError[] {
  const errors: FieldError[] = [];
  if (email.trim() === '') errors.push({ field: 'email', message: tr.t('signIn.error.emailMissing') });
  if (password === '') errors.push({ field: 'password', message: tr.t('signIn.error.passwordMissing') });
  return errors;
}

/** `GET /login` and `POST /login`. */
export function registerLoginPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, auth, login } = deps;

  async function render(request: FastifyRequest, reply: FastifyReply, view: Omit<LoginView, 'csrfToken'>, status = 200, headers?: Readonly<Record<string, string>>): Promise<FastifyReply> {
    const tr = translatorFor(request);
    // The token exists before sign-in, so a login form cannot be forged cross-site (login CSRF).
    const csrfToken = csrf.formToken(request, reply);
    const formAction = deps.formActionFor ? await deps.formActionFor(view.returnTo) : [];
    const providers = deps.social ? await deps.social.providers() : [];
    const client = view.returnTo && deps.clientFor ? await deps.clientFor(view.returnTo) : undefined;
    const passkey = deps.passkeySignIn ? await deps.passkeySignIn(request, reply, { csrfToken, returnTo: view.returnTo }) : undefined;
    return sendPage(reply, {
      title: tr.t('signIn.title'),
      status,
      ...(headers ? { headers } : {}),
      formAction,
      ...(client ? { client } : {}),
      body: loginBody(tr, { ...view, csrfToken, providers, client, passkey: passkey?.body }),
      ...(passkey ? { scripts: passkey.scripts } : {}),
    });
  }

  app.get('/login', PAGE_GET, async (request, reply) => {
    const current = await auth.current(request);
    const notice = queryParam(request, 'notice');
    return render(request, reply, {
      returnTo: safeReturnTo(queryParam(request, 'return_to')),
      notice: notice !== undefined && Object.hasOwn(NOTICES, notice) ? notice : undefined,
      signedInAs: current?.user.email,
    });
  });

  app.post('/login', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const email = field(fields, 'email');
    const password = field(fields, 'password');
    // Refused values are dropped here, so a hostile return_to is never echoed into the form.
    const returnTo = safeReturnTo(fields.return_to);
    const missing = missingFields(tr, email, password);
    if (missing.length > 0) return render(request, reply, { email, returnTo, fieldErrors: missing }, 400);
    // SEC-PWD-14: a device cookie valid for this login selects the device's own attempt budget.
    const result = await attempt(() => login.signIn({ email, password }, clientInfo(request), { device: presentedDevice(request) }));
    // The password was right and a second factor is due: no session yet, only the pending cookie.
    if (!result.ok && result.error instanceof MfaRequiredError) {
      setPendingCookie(reply, result.error.pendingToken);
      return reply.redirect(secondStepUrl(returnTo), 303);
    }
    // The typed email comes back; the password never does. A wrong password is one message for
    // both fields, the same whether or not the account exists (SEC-PWD-09); a 429 says how long
    // to wait, in the text and in Retry-After.
    if (!result.ok) return render(request, reply, { email, returnTo, error: signInErrorMessage(tr, result.error, { signIn: true }) }, result.error.status, result.error.headers);

    // SEC-SESS-01: the new session has a new id; a session this browser already had ends server-side.
    await auth.handOver(request, reply, result.value, deps.onSessionReplaced);
    csrf.renew(reply); // a new CSRF binding for the signed-in browser
    setDeviceCookie(reply, result.value.device);
    return reply.redirect(returnTo ?? DEFAULT_RETURN_TO, 303);
  });
}
