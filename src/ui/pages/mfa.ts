import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import type { ApiError } from '../../errors/catalog.ts';
import type { Csrf } from '../../http/csrf.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { ceremonyCookieBinding, ceremonyCookieValue, clearPendingCookie, pendingCookieValue } from '../../features/mfa/http.ts';
import type { Passkeys } from '../../features/mfa/passkeys.ts';
import type { MfaService, SecondFactorInput } from '../../features/mfa/service.ts';
import type { CompletedSignIn, MfaSignIn } from '../../features/mfa/sign-in.ts';
import { setDeviceCookie } from '../../features/password-login/http.ts';
import type { SessionAuth } from '../../features/sessions/http.ts';
import { alertBox, checkedForm, csrfInput, errorSummary, field, hiddenInput } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';
import { codeInput, enrolmentBlock, mfaServiceError, recoveryCodesBlock } from './mfa-view.ts';
import { registerMfaAccountPages } from './mfa-account.ts';
import { PASSKEY_SCRIPTS, passkeyForm, registerPasskeyAssets } from './mfa-passkey.ts';
import { registerPasswordlessSignIn } from './mfa-passwordless.ts';

export interface MfaPagesDeps {
  config: Pick<Config, 'env'>;
  csrf: Csrf;
  auth: SessionAuth;
  mfa: MfaService;
  signIn: MfaSignIn;
  passkeys: Passkeys;
  formActionFor?: (returnTo: string | undefined) => Promise<string[]>;
  onSessionReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void>;
  now: () => number;
}

export const SECOND_STEP_PATH = '/login/mfa';

/** `/login/mfa?return_to=…`: the way to the second step (or step-up) that comes back to `returnTo`. */
export function secondStepUrl(returnTo: string | undefined): string {
  return returnTo ? `${SECOND_STEP_PATH}?return_to=${encodeURIComponent(returnTo)}` : SECOND_STEP_PATH;
}

/** A refusal shown on the second-step page: next to the code field it concerns, else in a box. */
interface StepError {
  message: string;
  status: number;
  headers?: Readonly<Record<string, string>>;
  /** The field the problem belongs to: the app's code, or the recovery code. */
  field?: 'code' | 'recovery-code';
}

function codeForms(tr: Translator, csrfToken: string, returnTo: string | undefined, methods: readonly string[], passkeyOptions: unknown, error: StepError | undefined): SafeHtml {
  const keep = returnTo ? hiddenInput('return_to', returnTo) : '';
  const recoveryError = error?.field === 'recovery-code' ? error.message : undefined;
  return html`${passkeyOptions ? passkeyForm(tr, { ceremony: 'authenticate', optionsJSON: passkeyOptions, action: SECOND_STEP_PATH, csrfToken, button: tr.t('mfa.step.usePasskey'), returnTo, method: 'passkey' }) : ''}
${methods.includes('totp') ? html`<form method="post" action="${SECOND_STEP_PATH}" novalidate>
${csrfInput(csrfToken)}${keep}
${hiddenInput('method', 'totp')}
${codeInput(tr, { error: error?.field === 'code' ? error.message : undefined })}
<button type="submit">${tr.t('mfa.step.verify')}</button>
</form>` : ''}
${methods.includes('recovery_code') ? html`<details${recoveryError ? html` open` : ''}>
<summary>${tr.t('mfa.step.useRecoveryInstead')}</summary>
<form method="post" action="${SECOND_STEP_PATH}" novalidate>
${csrfInput(csrfToken)}${keep}
${hiddenInput('method', 'recovery_code')}
<div class="field${recoveryError ? ' field-invalid' : ''}">
<label for="recovery-code">${tr.t('mfa.step.recoveryLabel')}</label>
${recoveryError ? html`<p class="field-error" id="recovery-code-error">${recoveryError}</p>` : ''}
<input id="recovery-code" name="code" type="text" autocomplete="off" maxlength="20" required spellcheck="false" autocapitalize="none"${recoveryError ? html` aria-invalid="true" aria-describedby="recovery-code-error"` : ''}>
</div>
<button type="submit" class="secondary">${tr.t('mfa.step.useRecovery')}</button>
</form>
</details>` : ''}`;
}

/** The problem box above the forms: a summary linking to the field, or the message itself. */
function stepErrorBox(tr: Translator, error: StepError | undefined): SafeHtml {
  if (!error) return html``;
  if (error.field) return errorSummary(tr.t('common.errorSummary', { count: 1 }), [{ field: error.field, message: error.message }]);
  return alertBox(error.message);
}

/**
 * The second step of a sign-in (pending cookie) and step-up of a signed-in session, at
 * `/login/mfa`. The pending state grants nothing here either: without a correct factor no
 * session is created, and only this page and `/api/auth/mfa/…` read it (SEC-ASVS-09).
 */
export function registerMfaPages(app: FastifyInstance, deps: MfaPagesDeps): void {
  const { csrf, auth, signIn } = deps;

  async function page(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined, body: (csrfToken: string) => SafeHtml, status = 200, headers?: Readonly<Record<string, string>>, scripts = false): Promise<FastifyReply> {
    const formAction = deps.formActionFor ? await deps.formActionFor(returnTo) : [];
    return sendPage(reply, { title: translatorFor(request).t('mfa.step.title'), status, ...(headers ? { headers } : {}), formAction, body: body(csrf.formToken(request, reply)), ...(scripts ? { scripts: PASSKEY_SCRIPTS } : {}) });
  }

  /** A fresh single-use challenge for this user's passkeys, bound to this browser. */
  async function passkeyOptions(request: FastifyRequest, reply: FastifyReply, userId: string, methods: readonly string[]): Promise<unknown> {
    return methods.includes('passkey') ? deps.passkeys.authenticationOptions('second-factor', ceremonyCookieBinding(request, reply), userId) : undefined;
  }

  async function render(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined, error?: StepError): Promise<FastifyReply> {
    const tr = translatorFor(request);
    const pending = await signIn.describe(pendingCookieValue(request), 'cookie');
    if (pending?.enrol) {
      // The user's one pending TOTP set-up (the same QR code after a wrong code), and a passkey
      // registration whose challenge is bound to the pending sign-in (there is no session yet).
      const enrolment = await signIn.startEnrolment(pendingCookieValue(request), 'cookie');
      const creation = await signIn.startPasskeyEnrolment(pendingCookieValue(request), 'cookie');
      return page(request, reply, returnTo, (token) => html`<h1>${tr.t('mfa.enrolStep.title')}</h1>
${stepErrorBox(tr, error)}
<p>${tr.tHtml('mfa.enrolStep.intro', { email: html`<strong>${pending.email}</strong>` })}</p>
<h2>${tr.t('mfa.enrolStep.totpHeading')}</h2>
${enrolmentBlock(tr, enrolment, token, SECOND_STEP_PATH, { returnTo, codeError: error?.field === 'code' ? error.message : undefined })}
<h2>${tr.t('mfa.enrolStep.passkeyHeading')}</h2>
<p>${tr.t('mfa.enrolStep.passkeyIntro')}</p>
<noscript><p>${tr.t('mfa.passkey.needsScript')}</p></noscript>
${passkeyForm(tr, { ceremony: 'register', optionsJSON: creation, action: SECOND_STEP_PATH, csrfToken: token, button: tr.t('mfa.passkey.create'), returnTo, method: 'passkey', nameField: true })}`, error?.status, error?.headers, true);
    }
    if (pending) {
      const options = await passkeyOptions(request, reply, pending.userId, pending.methods);
      return page(request, reply, returnTo, (token) => html`<h1>${tr.t('mfa.step.title')}</h1>
${stepErrorBox(tr, error)}
<p>${tr.tHtml('mfa.step.signingInAs', { email: html`<strong>${pending.email}</strong>` })}</p>
${codeForms(tr, token, returnTo, pending.methods, options, error)}
<p class="links"><a href="/login">${tr.t('mfa.step.startAgain')}</a></p>`, error?.status, error?.headers, options !== undefined);
    }
    const record = await auth.current(request);
    if (!record) return reply.redirect(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login', 303);
    const { factors, recoveryCodesRemaining } = await deps.mfa.factors(record.user.id);
    // Step-up for a user without a factor: add one first (it counts as the second factor).
    if (factors.length === 0) return reply.redirect(`/account/mfa${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`, 303);
    const methods = [...new Set(factors.map((factor) => factor.kind as string)), ...(recoveryCodesRemaining > 0 ? ['recovery_code'] : [])];
    const options = await passkeyOptions(request, reply, record.user.id, methods);
    return page(request, reply, returnTo, (token) => html`<h1>${tr.t('mfa.stepUp.title')}</h1>
${stepErrorBox(tr, error)}
<p>${tr.tHtml('mfa.stepUp.intro', { email: html`<strong>${record.user.email}</strong>` })}</p>
${codeForms(tr, token, returnTo, methods, options, error)}`, error?.status, error?.headers, options !== undefined);
  }

  /** A service refusal on this page, translated by its code; a wrong code sits next to its field. */
  function refusal(tr: Translator, error: ApiError, method: SecondFactorInput['method'] | 'enrolment' | 'passkey-enrolment'): StepError {
    const context = method === 'enrolment' ? 'enrolment' : method === 'passkey-enrolment' ? 'passkey-register' : method === 'passkey' ? 'passkey' : method === 'recovery_code' ? 'recovery-code' : 'code';
    const field = error.error === 'invalid_mfa_code' && method !== 'passkey' && method !== 'passkey-enrolment' ? (method === 'recovery_code' ? 'recovery-code' as const : 'code' as const) : undefined;
    return { message: mfaServiceError(tr, error, context), status: error.status, headers: error.headers, ...(field ? { field } : {}) };
  }

  /** The same hand-over as a password sign-in (SEC-SESS-01): the previous session of this browser ends. */
  async function handOver(request: FastifyRequest, reply: FastifyReply, result: CompletedSignIn): Promise<void> {
    await auth.handOver(request, reply, result, deps.onSessionReplaced);
    csrf.renew(reply);
    clearPendingCookie(reply);
    setDeviceCookie(reply, result.device);
  }

  app.get(SECOND_STEP_PATH, PAGE_GET, async (request, reply) => render(request, reply, safeReturnTo(queryParam(request, 'return_to'))));

  app.post(SECOND_STEP_PATH, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const returnTo = safeReturnTo(fields.return_to);
    const next = returnTo ?? DEFAULT_RETURN_TO;
    const client = clientInfo(request);
    const pendingToken = pendingCookieValue(request);
    const pending = await signIn.describe(pendingToken, 'cookie');
    if (pending?.enrol) {
      const withPasskey = field(fields, 'method') === 'passkey';
      if (withPasskey && field(fields, 'credential') === '') return render(request, reply, returnTo, { message: tr.t('mfa.step.passkeyMissing'), status: 400 });
      if (!withPasskey && field(fields, 'code').trim() === '') return render(request, reply, returnTo, { message: tr.t('mfa.code.missing'), status: 400, field: 'code' });
      const result = withPasskey
        ? await attempt(() => signIn.completePasskeyEnrolment(pendingToken, 'cookie', { credential: field(fields, 'credential'), name: fields.name }, client))
        : await attempt(() => signIn.completeEnrolment(pendingToken, 'cookie', { enrolmentId: field(fields, 'enrolment_id'), code: field(fields, 'code'), name: fields.name }, client));
      if (!result.ok) return render(request, reply, returnTo, refusal(tr, result.error, withPasskey ? 'passkey-enrolment' : 'enrolment'));
      await handOver(request, reply, result.value);
      if (result.value.recoveryCodes) return sendPage(reply, { title: tr.t('mfa.recovery.title'), body: html`<h1>${tr.t('mfa.enrolStep.done')}</h1>${recoveryCodesBlock(tr, result.value.recoveryCodes, next)}` });
      return reply.redirect(next, 303);
    }
    const chosen = field(fields, 'method');
    const input: SecondFactorInput = chosen === 'passkey'
      ? { method: 'passkey', credential: field(fields, 'credential'), binding: ceremonyCookieValue(request) }
      : { method: chosen === 'recovery_code' ? 'recovery_code' : 'totp', code: field(fields, 'code') };
    if (input.method === 'passkey' && input.credential === '') return render(request, reply, returnTo, { message: tr.t('mfa.step.passkeyMissing'), status: 400 });
    if (input.method !== 'passkey' && input.code.trim() === '') {
      return render(request, reply, returnTo, input.method === 'recovery_code' ? { message: tr.t('mfa.step.recoveryMissing'), status: 400, field: 'recovery-code' } : { message: tr.t('mfa.code.missing'), status: 400, field: 'code' });
    }
    if (pending) {
      const result = await attempt(() => signIn.complete(pendingToken, 'cookie', input, client));
      if (!result.ok) return render(request, reply, returnTo, refusal(tr, result.error, input.method));
      await handOver(request, reply, result.value);
      return reply.redirect(next, 303);
    }
    const record = await auth.current(request);
    if (!record) return reply.redirect('/login', 303);
    const result = await attempt(() => signIn.stepUp(record, input, client));
    if (!result.ok) return render(request, reply, returnTo, refusal(tr, result.error, input.method));
    // SEC-SESS-02: completing step-up renews the session id.
    auth.forget(request);
    csrf.renew(reply);
    auth.setCookie(reply, result.value.token);
    return reply.redirect(next, 303);
  });

  registerMfaAccountPages(app, deps);
  registerPasskeyAssets(app);
  registerPasswordlessSignIn(app, deps, handOver);
}
