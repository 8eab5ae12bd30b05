import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { checkPassword, type PasswordContext } from '../../crypto/passwords/policy.ts';
import { normalizePassword } from '../../crypto/passwords/normalize.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { normalizeEmail } from '../../features/accounts/email-address.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, errorFor, errorSummary, field, input, type FieldError } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, attempt, pagePost, signInErrorMessage } from '../routes.ts';

const MAX_NAME_LENGTH = 200;

type PasswordPolicyConfig = Pick<Config, 'passwordMinLength' | 'passwordMaxLength'>;

/**
 * What the password policy refuses in `password`, in the page's language: the same check the
 * service runs (src/crypto/passwords/policy.ts), which only says `invalid_password`.
 * `strength: false` checks the length only — the strength estimate costs CPU, so it runs only
 * after the service has counted the attempt against its rate limit.
 */
export function passwordFieldError(tr: Translator, password: string, config: PasswordPolicyConfig, options: { context?: PasswordContext; strength: boolean }): string | undefined {
  if (password === '') return tr.t('signIn.password.missing');
  if (!password.isWellFormed()) return tr.t('signIn.password.invalidText');
  const length = [...normalizePassword(password)].length;
  if (length < config.passwordMinLength) return tr.t('signIn.password.tooShort', { min: config.passwordMinLength });
  if (length > config.passwordMaxLength) return tr.t('signIn.password.tooLong', { max: config.passwordMaxLength });
  if (!options.strength) return undefined;
  const verdict = checkPassword(password, { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength }, options.context ?? {});
  if (verdict.ok) return undefined;
  return tr.t(verdict.reason === 'common' ? 'signIn.password.common' : verdict.reason === 'context' ? 'signIn.password.context' : verdict.reason === 'too_short' ? 'signIn.password.tooShort' : 'signIn.password.tooLong', { min: config.passwordMinLength, max: config.passwordMaxLength });
}

/** The email field's problem: missing or not an address. */
export function emailFieldError(tr: Translator, email: string): string | undefined {
  if (email.trim() === '') return tr.t('signIn.error.emailMissing');
  return normalizeEmail(email) === undefined ? tr.t('signIn.error.emailInvalid') : undefined;
}

interface SignUpView {
  csrfToken: string;
  name?: string;
  email?: string;
  error?: string | undefined;
  fieldErrors?: readonly FieldError[];
  passwordMinLength: number;
}

function signUpBody(tr: Translator, view: SignUpView) {
  const errors = view.fieldErrors ?? [];
  return html`<h1>${tr.t('signIn.signUp.title')}</h1>
${alertBox(view.error)}
<form method="post" action="/signup" novalidate>
${errorSummary(tr.t('common.errorSummary', { count: errors.length }), errors)}
${csrfInput(view.csrfToken)}
${input({ name: 'name', label: tr.t('signIn.signUp.name'), type: 'text', autocomplete: 'name', value: view.name, maxLength: MAX_NAME_LENGTH, error: errorFor(errors, 'name') })}
${input({ name: 'email', label: tr.t('signIn.email'), type: 'email', autocomplete: 'username', value: view.email, required: true, hint: tr.t('signIn.signUp.emailHint'), error: errorFor(errors, 'email') })}
${input({ name: 'password', label: tr.t('signIn.password'), type: 'password', autocomplete: 'new-password', required: true, hint: tr.t('signIn.signUp.passwordHint', { min: view.passwordMinLength }), error: errorFor(errors, 'password') })}
<button type="submit">${tr.t('signIn.signUp.submit')}</button>
</form>
<p class="links">${tr.tHtml('signIn.signUp.haveAccount', { link: html`<a href="/login">${tr.t('signIn.title')}</a>` })}</p>`;
}

/** `GET /signup` and `POST /signup`. */
export function registerSignUpPage(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, accounts, config } = deps;

  function render(request: FastifyRequest, reply: FastifyReply, view: Omit<SignUpView, 'csrfToken' | 'passwordMinLength'>, status = 200, headers?: Readonly<Record<string, string>>): FastifyReply {
    const tr = translatorFor(request);
    const body = signUpBody(tr, { ...view, csrfToken: csrf.formToken(request, reply), passwordMinLength: config.passwordMinLength });
    return sendPage(reply, { title: tr.t('signIn.signUp.title'), status, ...(headers ? { headers } : {}), body });
  }

  app.get('/signup', PAGE_GET, async (request, reply) => render(request, reply, {}));

  app.post('/signup', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const name = field(fields, 'name');
    const email = field(fields, 'email');
    const password = field(fields, 'password');
    /** Every problem of the form at once, each on its field (the password's strength only when asked). */
    const problems = (strength: boolean): FieldError[] => {
      const context: PasswordContext = { email: normalizeEmail(email) ?? email, ...(name.trim() ? { name: name.trim() } : {}) };
      const found: [string, string | undefined][] = [
        ['name', name.length > MAX_NAME_LENGTH ? tr.t('signIn.signUp.nameTooLong', { max: MAX_NAME_LENGTH }) : undefined],
        ['email', emailFieldError(tr, email)],
        ['password', passwordFieldError(tr, password, config, { context, strength })],
      ];
      return found.filter((entry): entry is [string, string] => entry[1] !== undefined).map(([name, message]) => ({ field: name, message }));
    };
    // The service would shorten an over-long name: refuse it before anything is created.
    if (name.length > MAX_NAME_LENGTH) return render(request, reply, { name, email, fieldErrors: problems(false) }, 400);
    const result = await attempt(() => accounts.signUp({ email, password, name }, clientInfo(request)));
    if (!result.ok) {
      if (result.error.error === 'invalid_request' || result.error.error === 'invalid_password') {
        // The service stops at the first problem; the page names all of them. The attempt is
        // already counted against the sign-up limit, so the strength estimate may run.
        const errors = problems(true);
        // A refusal the local check cannot name (the policy saw context it did not): on the password.
        if (errors.length === 0) errors.push(result.error.error === 'invalid_password' ? { field: 'password', message: tr.t('signIn.password.context') } : { field: 'email', message: tr.t('signIn.error.emailInvalid') });
        return render(request, reply, { name, email, fieldErrors: errors }, 400);
      }
      return render(request, reply, { name, email, error: signInErrorMessage(tr, result.error) }, result.error.status, result.error.headers);
    }
    // The same page whether or not the address was already registered (SEC-PWD-09).
    return sendPage(reply, {
      title: tr.t('signIn.checkInbox'),
      body: html`<h1>${tr.t('signIn.checkInbox')}</h1>
<div class="notice" role="status"><p>${tr.tHtml('signIn.signUp.sent', { email: html`<strong>${email}</strong>` })}</p></div>
<p class="links"><a href="/login">${tr.t('signIn.title')}</a></p>`,
    });
  });
}
