import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import type { Csrf } from '../../http/csrf.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { clearPendingCookie, pendingCookieValue } from '../../features/mfa/http.ts';
import type { Passkeys } from '../../features/mfa/passkeys.ts';
import type { MfaService, SecondFactorInput } from '../../features/mfa/service.ts';
import type { CompletedSignIn, MfaSignIn } from '../../features/mfa/sign-in.ts';
import { setDeviceCookie } from '../../features/password-login/http.ts';
import type { SessionAuth } from '../../features/sessions/http.ts';
import type { SessionService } from '../../features/sessions/service.ts';
import { alertBox, checkedForm, csrfInput, field, hiddenInput } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { sendPage } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';
import { codeInput, enrolmentBlock, recoveryCodesBlock } from './mfa-view.ts';
import { registerMfaAccountPages } from './mfa-account.ts';
import { ceremonyBinding, ceremonyCookieValue, PASSKEY_SCRIPTS, passkeyForm, registerPasskeyAssets } from './mfa-passkey.ts';
import { registerPasswordlessSignIn } from './mfa-passwordless.ts';

export interface MfaPagesDeps {
  config: Pick<Config, 'env'>;
  csrf: Csrf;
  auth: SessionAuth;
  sessions: SessionService;
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

function codeForms(csrfToken: string, returnTo: string | undefined, methods: readonly string[], passkeyOptions?: unknown): SafeHtml {
  const keep = returnTo ? hiddenInput('return_to', returnTo) : '';
  return html`${passkeyOptions ? passkeyForm({ ceremony: 'authenticate', optionsJSON: passkeyOptions, action: SECOND_STEP_PATH, csrfToken, button: 'Use your passkey', returnTo, method: 'passkey' }) : ''}
${methods.includes('totp') ? html`<form method="post" action="${SECOND_STEP_PATH}" novalidate>
${csrfInput(csrfToken)}${keep}
${hiddenInput('method', 'totp')}
${codeInput()}
<button type="submit">Verify</button>
</form>` : ''}
${methods.includes('recovery_code') ? html`<details>
<summary>Use a recovery code instead</summary>
<form method="post" action="${SECOND_STEP_PATH}" novalidate>
${csrfInput(csrfToken)}${keep}
${hiddenInput('method', 'recovery_code')}
<label for="recovery-code">Recovery code</label>
<input id="recovery-code" name="code" type="text" autocomplete="off" maxlength="20" required spellcheck="false" autocapitalize="none">
<button type="submit" class="secondary">Use recovery code</button>
</form>
</details>` : ''}`;
}

/**
 * The second step of a sign-in (pending cookie) and step-up of a signed-in session, at
 * `/login/mfa`. The pending state grants nothing here either: without a correct factor no
 * session is created, and only this page and `/api/auth/mfa/…` read it (SEC-ASVS-09).
 */
export function registerMfaPages(app: FastifyInstance, deps: MfaPagesDeps): void {
  const { csrf, auth, sessions, signIn } = deps;

  async function page(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined, body: (csrfToken: string) => SafeHtml, status = 200, headers?: Readonly<Record<string, string>>, scripts = false): Promise<FastifyReply> {
    const formAction = deps.formActionFor ? await deps.formActionFor(returnTo) : [];
    return sendPage(reply, { title: 'Two-step verification', status, ...(headers ? { headers } : {}), formAction, body: body(csrf.formToken(request, reply)), ...(scripts ? { scripts: PASSKEY_SCRIPTS } : {}) });
  }

  /** A fresh single-use challenge for this user's passkeys, bound to this browser. */
  async function passkeyOptions(request: FastifyRequest, reply: FastifyReply, userId: string, methods: readonly string[]): Promise<unknown> {
    return methods.includes('passkey') ? deps.passkeys.authenticationOptions('second-factor', ceremonyBinding(request, reply), userId) : undefined;
  }

  async function render(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined, error?: { message: string; status: number; headers?: Readonly<Record<string, string>> }): Promise<FastifyReply> {
    const pending = await signIn.describe(pendingCookieValue(request), 'cookie');
    if (pending?.enrol) {
      const enrolment = await signIn.startEnrolment(pendingCookieValue(request), 'cookie');
      return page(request, reply, returnTo, (token) => html`<h1>Set up two-step verification</h1>
${alertBox(error?.message)}
<p>Your account needs a second factor. Signing in as <strong>${pending.email}</strong>.</p>
${enrolmentBlock(enrolment, token, SECOND_STEP_PATH, returnTo)}`, error?.status, error?.headers);
    }
    if (pending) {
      const options = await passkeyOptions(request, reply, pending.userId, pending.methods);
      return page(request, reply, returnTo, (token) => html`<h1>Two-step verification</h1>
${alertBox(error?.message)}
<p>Signing in as <strong>${pending.email}</strong>.</p>
${codeForms(token, returnTo, pending.methods, options)}
<p class="links"><a href="/login">Start again</a></p>`, error?.status, error?.headers, options !== undefined);
    }
    const record = await auth.current(request);
    if (!record) return reply.redirect(returnTo ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login', 303);
    const { factors, recoveryCodesRemaining } = await deps.mfa.factors(record.user.id);
    // Step-up for a user without a factor: add one first (it counts as the second factor).
    if (factors.length === 0) return reply.redirect(`/account/mfa${returnTo ? `?return_to=${encodeURIComponent(returnTo)}` : ''}`, 303);
    const methods = [...new Set(factors.map((factor) => factor.kind as string)), ...(recoveryCodesRemaining > 0 ? ['recovery_code'] : [])];
    const options = await passkeyOptions(request, reply, record.user.id, methods);
    return page(request, reply, returnTo, (token) => html`<h1>Confirm it is you</h1>
${alertBox(error?.message)}
<p>This needs your second factor. Signed in as <strong>${record.user.email}</strong>.</p>
${codeForms(token, returnTo, methods, options)}`, error?.status, error?.headers, options !== undefined);
  }

  /** The same hand-over as a password sign-in (SEC-SESS-01): the previous session of this browser ends. */
  async function handOver(request: FastifyRequest, reply: FastifyReply, result: CompletedSignIn): Promise<void> {
    const previous = await auth.current(request);
    if (previous) {
      if (previous.user.id === result.user.id) await deps.onSessionReplaced?.(previous.session.id, result.session.id);
      await sessions.revoke(previous.session.id, previous.user.id);
    }
    auth.forget(request);
    csrf.renew(reply);
    clearPendingCookie(reply);
    auth.setCookie(reply, result.token);
    setDeviceCookie(reply, result.device);
  }

  app.get(SECOND_STEP_PATH, PAGE_GET, async (request, reply) => render(request, reply, safeReturnTo(queryParam(request, 'return_to'))));

  app.post(SECOND_STEP_PATH, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const returnTo = safeReturnTo(fields.return_to);
    const next = returnTo ?? DEFAULT_RETURN_TO;
    const client = clientInfo(request);
    const pendingToken = pendingCookieValue(request);
    const pending = await signIn.describe(pendingToken, 'cookie');
    if (pending?.enrol) {
      const result = await attempt(() => signIn.completeEnrolment(pendingToken, 'cookie', { enrolmentId: field(fields, 'enrolment_id'), code: field(fields, 'code'), name: fields.name }, client));
      if (!result.ok) return render(request, reply, returnTo, { message: result.error.description, status: result.error.status, headers: result.error.headers });
      await handOver(request, reply, result.value);
      if (result.value.recoveryCodes) return sendPage(reply, { title: 'Recovery codes', body: html`<h1>Two-step verification is on</h1>${recoveryCodesBlock(result.value.recoveryCodes, next)}` });
      return reply.redirect(next, 303);
    }
    const chosen = field(fields, 'method');
    const input: SecondFactorInput = chosen === 'passkey'
      ? { method: 'passkey', credential: field(fields, 'credential'), binding: ceremonyCookieValue(request) }
      : { method: chosen === 'recovery_code' ? 'recovery_code' : 'totp', code: field(fields, 'code') };
    if ((input.method === 'passkey' ? input.credential : input.code.trim()) === '') return render(request, reply, returnTo, { message: input.method === 'passkey' ? 'Use your passkey.' : 'Enter the code.', status: 400 });
    if (pending) {
      const result = await attempt(() => signIn.complete(pendingToken, 'cookie', input, client));
      if (!result.ok) return render(request, reply, returnTo, { message: result.error.description, status: result.error.status, headers: result.error.headers });
      await handOver(request, reply, result.value);
      return reply.redirect(next, 303);
    }
    const record = await auth.current(request);
    if (!record) return reply.redirect('/login', 303);
    const result = await attempt(() => signIn.stepUp(record, input, client));
    if (!result.ok) return render(request, reply, returnTo, { message: result.error.description, status: result.error.status, headers: result.error.headers });
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
