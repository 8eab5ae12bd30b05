import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import { recentSecondFactor } from '../../features/mfa/policy.ts';
import type { FactorView, TotpEnrolment } from '../../features/mfa/service.ts';
import type { SessionRecord } from '../../features/sessions/store.ts';
import { alertBox, checkedForm, csrfInput, field, input, noticeBox, type FormFields } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { sendPage } from '../layout.ts';
import { attempt, PAGE_GET, pagePost, queryParam } from '../routes.ts';
import { enrolmentBlock, recoveryCodesBlock } from './mfa-view.ts';
import type { MfaPagesDeps } from './mfa.ts';
import { ceremonyBinding, ceremonyCookieValue, PASSKEY_SCRIPTS, passkeyForm } from './mfa-passkey.ts';

const LOGIN_FOR_MFA = `/login?return_to=${encodeURIComponent('/account/mfa')}`;
const STEP_UP_FOR_MFA = `/login/mfa?return_to=${encodeURIComponent('/account/mfa')}`;

const NOTICES: Readonly<Record<string, string>> = {
  'totp-added': 'The authenticator app was added.',
  'passkey-added': 'The passkey was added.',
  'factor-renamed': 'The name was saved.',
  'factor-removed': 'That second factor was removed.',
};

function when(ms: number | null): SafeHtml {
  if (ms === null) return html`never`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

function factorItem(factor: FactorView, csrfToken: string): SafeHtml {
  const base = `/account/mfa/factors/${encodeURIComponent(factor.id)}`;
  return html`<li>
<p><strong>${factor.name}</strong> <span class="ua">${factor.kind === 'totp' ? 'Authenticator app' : 'Passkey'}</span></p>
<p>Added: ${when(factor.createdAt)}<br>Last used: ${when(factor.lastUsedAt)}</p>
<form method="post" action="${base}/rename" novalidate>
${csrfInput(csrfToken)}
${input({ name: 'name', label: 'Name', type: 'text', autocomplete: 'off', value: factor.name, maxLength: 64, id: `name-${factor.id}` })}
<button type="submit" class="secondary">Rename</button>
</form>
<form method="post" action="${base}/remove">
${csrfInput(csrfToken)}
<button type="submit" class="danger">Remove</button>
</form>
</li>`;
}

/**
 * `/account/mfa`: the user's second factors (name, added, last used), adding an authenticator
 * app, renaming, removing, and recovery codes. Removing a factor and new recovery codes need a
 * second factor from the last 15 minutes (step-up through /login/mfa).
 */
export function registerMfaAccountPages(app: FastifyInstance, deps: MfaPagesDeps): void {
  const { csrf, auth, mfa } = deps;

  async function overview(request: FastifyRequest, reply: FastifyReply, record: SessionRecord, view: { notice?: string | undefined; error?: string; status?: number; headers?: Readonly<Record<string, string>> } = {}): Promise<FastifyReply> {
    const csrfToken = csrf.formToken(request, reply);
    const { factors, recoveryCodesRemaining } = await mfa.factors(record.user.id);
    return sendPage(reply, {
      title: 'Two-step verification',
      status: view.status ?? 200,
      ...(view.headers ? { headers: view.headers } : {}),
      body: html`<h1>Two-step verification</h1>
${noticeBox(view.notice)}
${alertBox(view.error)}
<p>${factors.length === 0 ? 'Add a second factor: after your password, signing in will also ask for a code from your phone.' : 'Signing in asks for one of these after your password.'}</p>
<h2 id="factors">Your second factors</h2>
${factors.length === 0 ? html`<p>None yet.</p>` : html`<ul class="sessions">${factors.map((factor) => factorItem(factor, csrfToken))}</ul>`}
<form method="post" action="/account/mfa/totp">
${csrfInput(csrfToken)}
<button type="submit">Add an authenticator app</button>
</form>
<form method="post" action="/account/mfa/passkey">
${csrfInput(csrfToken)}
<button type="submit" class="secondary">Add a passkey</button>
</form>
${factors.length > 0 ? html`<h2 id="recovery-codes">Recovery codes</h2>
<p>${recoveryCodesRemaining} of 10 unused. Each works once, if you lose your second factor.</p>
<form method="post" action="/account/mfa/recovery-codes">
${csrfInput(csrfToken)}
<button type="submit" class="secondary">Create new recovery codes</button>
</form>` : ''}
<p class="links"><a href="/account">Back to your account</a></p>`,
    });
  }

  function enrolmentPage(request: FastifyRequest, reply: FastifyReply, enrolment: TotpEnrolment, error?: { message: string; status: number; headers?: Readonly<Record<string, string>> }): FastifyReply {
    return sendPage(reply, {
      title: 'Add an authenticator app',
      status: error?.status ?? 200,
      ...(error?.headers ? { headers: error.headers } : {}),
      body: html`<h1>Add an authenticator app</h1>${alertBox(error?.message)}${enrolmentBlock(enrolment, csrf.formToken(request, reply), '/account/mfa/totp/confirm')}`,
    });
  }

  type Action = (request: FastifyRequest<{ Params: Record<string, string> }>, reply: FastifyReply, record: SessionRecord, fields: FormFields) => Promise<FastifyReply>;
  function post(path: string, action: Action, options: { recent?: boolean } = {}): void {
    app.post<{ Params: Record<string, string> }>(path, pagePost(csrf), async (request, reply) => {
      const fields = checkedForm(request, csrf);
      const record = await auth.current(request);
      if (!record) return reply.redirect(LOGIN_FOR_MFA, 303);
      // Sensitive: a second factor proved recently, when the user has one.
      if (options.recent && !recentSecondFactor(record.session, deps.now()) && (await mfa.hasFactors(record.user.id))) return reply.redirect(STEP_UP_FOR_MFA, 303);
      return action(request, reply, record, fields);
    });
  }

  app.get('/account/mfa', PAGE_GET, async (request, reply) => {
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_MFA, 303);
    return overview(request, reply, record, { notice: NOTICES[queryParam(request, 'notice') ?? ''] });
  });

  post('/account/mfa/totp', async (request, reply, record) => {
    const result = await attempt(() => mfa.startTotp(record.user.id, record.user.email));
    if (!result.ok) return overview(request, reply, record, { error: result.error.description, status: result.error.status });
    return enrolmentPage(request, reply, result.value);
  }, { recent: true });

  post('/account/mfa/totp/confirm', async (request, reply, record, fields) => {
    const enrolmentId = field(fields, 'enrolment_id');
    const result = await attempt(() => mfa.confirmTotp(record.user.id, record.user.email, { enrolmentId, code: field(fields, 'code'), name: fields.name }, clientInfo(request)));
    if (!result.ok) {
      // The same secret again while its set-up lasts; a new one once it expired.
      const retry = await attempt(() => mfa.startTotp(record.user.id, record.user.email));
      if (!retry.ok) return overview(request, reply, record, { error: result.error.description, status: result.error.status });
      return enrolmentPage(request, reply, retry.value, { message: `${result.error.description} Scan the new code below.`, status: result.error.status, headers: result.error.headers });
    }
    if (result.value.recoveryCodes) return sendPage(reply, { title: 'Recovery codes', body: html`<h1>Authenticator app added</h1>${recoveryCodesBlock(result.value.recoveryCodes, '/account/mfa?notice=totp-added')}` });
    return reply.redirect('/account/mfa?notice=totp-added', 303);
  });

  // Passkeys: the registration options (a fresh challenge bound to this browser), then the answer.
  post('/account/mfa/passkey', async (request, reply, record) => {
    const options = await deps.passkeys.registrationOptions({ id: record.user.id, email: record.user.email, name: record.user.name }, ceremonyBinding(request, reply));
    return sendPage(reply, {
      title: 'Add a passkey',
      scripts: PASSKEY_SCRIPTS,
      body: html`<h1>Add a passkey</h1>
<p>A passkey signs you in with this device's screen lock or a security key. It works as a second factor after your password and, on devices that keep it, as a sign-in without a password.</p>
<noscript><p>Adding a passkey needs JavaScript.</p></noscript>
${passkeyForm({ ceremony: 'register', optionsJSON: options, action: '/account/mfa/passkey/confirm', csrfToken: csrf.formToken(request, reply), button: 'Create the passkey', nameField: true })}
<p class="links"><a href="/account/mfa">Cancel</a></p>`,
    });
  }, { recent: true });

  post('/account/mfa/passkey/confirm', async (request, reply, record, fields) => {
    const result = await attempt(() => mfa.addPasskey(record.user, { credential: field(fields, 'credential'), binding: ceremonyCookieValue(request), name: fields.name }, clientInfo(request)));
    if (!result.ok) return overview(request, reply, record, { error: result.error.description, status: result.error.status, ...(result.error.headers ? { headers: result.error.headers } : {}) });
    if (result.value.recoveryCodes) return sendPage(reply, { title: 'Recovery codes', body: html`<h1>Passkey added</h1>${recoveryCodesBlock(result.value.recoveryCodes, '/account/mfa?notice=passkey-added')}` });
    return reply.redirect('/account/mfa?notice=passkey-added', 303);
  }, { recent: true });

  post('/account/mfa/recovery-codes', async (request, reply, record) => {
    const result = await attempt(() => mfa.regenerateRecoveryCodes(record.user.id, record.user.email, clientInfo(request)));
    if (!result.ok) return overview(request, reply, record, { error: result.error.description, status: result.error.status });
    return sendPage(reply, { title: 'Recovery codes', body: html`<h1>New recovery codes</h1><p>Your old recovery codes no longer work.</p>${recoveryCodesBlock(result.value, '/account/mfa')}` });
  }, { recent: true });

  post('/account/mfa/factors/:id/rename', async (request, reply, record, fields) => {
    if (!(await mfa.rename(record.user.id, request.params.id ?? '', field(fields, 'name')))) return overview(request, reply, record, { error: 'That factor no longer exists.', status: 404 });
    return reply.redirect('/account/mfa?notice=factor-renamed', 303);
  });

  post('/account/mfa/factors/:id/remove', async (request, reply, record) => {
    if (!(await mfa.remove(record.user.id, record.user.email, request.params.id ?? '', clientInfo(request)))) return overview(request, reply, record, { error: 'That factor no longer exists.', status: 404 });
    return reply.redirect('/account/mfa?notice=factor-removed', 303);
  }, { recent: true });
}
