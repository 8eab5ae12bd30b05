import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { ApiError } from '../../errors/catalog.ts';
import { recentSecondFactor } from '../../features/mfa/policy.ts';
import { RECOVERY_CODE_COUNT } from '../../features/mfa/recovery-codes.ts';
import type { FactorView, TotpEnrolment } from '../../features/mfa/service.ts';
import type { SessionRecord } from '../../features/sessions/store.ts';
import { alertBox, checkedForm, csrfInput, errorSummary, field, input, noticeBox, type FormFields } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { translatorFor, type MessageKey, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { attempt, PAGE_GET, pagePost, queryParam } from '../routes.ts';
import { enrolmentBlock, mfaServiceError, recoveryCodesBlock, type MfaErrorContext } from './mfa-view.ts';
import type { MfaPagesDeps } from './mfa.ts';
import { ceremonyCookieBinding, ceremonyCookieValue } from '../../features/mfa/http.ts';
import { PASSKEY_SCRIPTS, passkeyForm } from './mfa-passkey.ts';

const LOGIN_FOR_MFA = `/login?return_to=${encodeURIComponent('/account/mfa')}`;
const STEP_UP_FOR_MFA = `/login/mfa?return_to=${encodeURIComponent('/account/mfa')}`;

const NOTICES: Readonly<Record<string, MessageKey>> = {
  'totp-added': 'mfa.notice.totpAdded',
  'passkey-added': 'mfa.notice.passkeyAdded',
  'factor-renamed': 'mfa.notice.factorRenamed',
  'factor-removed': 'mfa.notice.factorRemoved',
};

const MAX_FACTOR_NAME = 64;

function when(tr: Translator, ms: number | null): SafeHtml {
  if (ms === null) return html`${tr.t('mfa.factors.never')}`;
  return html`<time datetime="${new Date(ms).toISOString()}">${tr.t('mfa.timeUtc', { time: tr.dateTime(ms) })}</time>`;
}

/** A rename that was refused: which factor, what was typed, why. */
interface RenameError {
  factorId: string;
  typed: string;
  message: string;
}

function factorItem(tr: Translator, factor: FactorView, csrfToken: string, renameError: RenameError | undefined): SafeHtml {
  const base = `/account/mfa/factors/${encodeURIComponent(factor.id)}`;
  const mine = renameError?.factorId === factor.id ? renameError : undefined;
  return html`<li>
<p><strong>${factor.name}</strong> <span class="ua">${tr.t(factor.kind === 'totp' ? 'mfa.factors.kindTotp' : 'mfa.factors.kindPasskey')}</span></p>
<p>${tr.tHtml('mfa.factors.added', { time: when(tr, factor.createdAt) })}<br>${tr.tHtml('mfa.factors.lastUsed', { time: when(tr, factor.lastUsedAt) })}</p>
<form method="post" action="${base}/rename" novalidate>
${csrfInput(csrfToken)}
${input({ name: 'name', label: tr.t('mfa.factors.nameLabel'), type: 'text', autocomplete: 'off', value: mine ? mine.typed : factor.name, maxLength: MAX_FACTOR_NAME, id: `name-${factor.id}`, error: mine?.message })}
<button type="submit" class="secondary">${tr.t('mfa.factors.rename')}</button>
</form>
<form method="post" action="${base}/remove">
${csrfInput(csrfToken)}
<button type="submit" class="danger">${tr.t('mfa.factors.remove')}</button>
</form>
</li>`;
}

interface OverviewView {
  notice?: string | undefined;
  error?: string | undefined;
  renameError?: RenameError | undefined;
  status?: number;
  headers?: Readonly<Record<string, string>>;
}

/**
 * `/account/mfa`: the user's second factors (name, added, last used), adding an authenticator
 * app, renaming, removing, and recovery codes. Removing a factor and new recovery codes need a
 * second factor from the last 15 minutes (step-up through /login/mfa).
 */
export function registerMfaAccountPages(app: FastifyInstance, deps: MfaPagesDeps): void {
  const { csrf, auth, mfa } = deps;

  async function overview(request: FastifyRequest, reply: FastifyReply, record: SessionRecord, view: OverviewView = {}): Promise<FastifyReply> {
    const tr = translatorFor(request);
    const csrfToken = csrf.formToken(request, reply);
    const { factors, recoveryCodesRemaining } = await mfa.factors(record.user.id);
    const rename = view.renameError;
    return sendPage(reply, {
      title: tr.t('mfa.account.title'),
      width: 'wide',
      status: view.status ?? 200,
      ...(view.headers ? { headers: view.headers } : {}),
      body: html`<h1>${tr.t('mfa.account.title')}</h1>
${noticeBox(view.notice)}
${rename ? errorSummary(tr.t('common.errorSummary', { count: 1 }), [{ field: 'name', id: `name-${rename.factorId}`, message: rename.message }]) : ''}
${alertBox(view.error)}
<p>${tr.t(factors.length === 0 ? 'mfa.account.introNone' : 'mfa.account.introSome')}</p>
<h2 id="factors">${tr.t('mfa.factors.title')}</h2>
${factors.length === 0 ? html`<p>${tr.t('mfa.factors.none')}</p>` : html`<ul class="sessions">${factors.map((factor) => factorItem(tr, factor, csrfToken, rename))}</ul>`}
<form method="post" action="/account/mfa/totp">
${csrfInput(csrfToken)}
<button type="submit">${tr.t('mfa.account.addTotp')}</button>
</form>
<form method="post" action="/account/mfa/passkey">
${csrfInput(csrfToken)}
<button type="submit" class="secondary">${tr.t('mfa.account.addPasskey')}</button>
</form>
${factors.length > 0 ? html`<h2 id="recovery-codes">${tr.t('mfa.recovery.title')}</h2>
<p>${tr.t('mfa.recovery.remaining', { count: recoveryCodesRemaining, total: RECOVERY_CODE_COUNT })}</p>
<form method="post" action="/account/mfa/recovery-codes">
${csrfInput(csrfToken)}
<button type="submit" class="secondary">${tr.t('mfa.recovery.regenerate')}</button>
</form>` : ''}
<p class="links"><a href="/account">${tr.t('mfa.account.back')}</a></p>`,
    });
  }

  /** The set-up page; after a refused confirmation the same set-up again (the QR code already scanned stays valid). */
  function enrolmentPage(request: FastifyRequest, reply: FastifyReply, enrolment: TotpEnrolment, error?: { message: string; status: number; headers?: Readonly<Record<string, string>>; field?: 'code' }, typedName?: string): FastifyReply {
    const tr = translatorFor(request);
    const fieldErrors = error?.field ? [{ field: error.field, message: error.message }] : [];
    return sendPage(reply, {
      title: tr.t('mfa.totp.title'),
      status: error?.status ?? 200,
      ...(error?.headers ? { headers: error.headers } : {}),
      body: html`<h1>${tr.t('mfa.totp.title')}</h1>
${errorSummary(tr.t('common.errorSummary', { count: fieldErrors.length }), fieldErrors)}
${error && !error.field ? alertBox(error.message) : ''}
${enrolmentBlock(tr, enrolment, csrf.formToken(request, reply), '/account/mfa/totp/confirm', { name: typedName, codeError: error?.field === 'code' ? error.message : undefined })}`,
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
    const name = queryParam(request, 'notice') ?? '';
    const notice = Object.hasOwn(NOTICES, name) ? NOTICES[name] : undefined;
    return overview(request, reply, record, { notice: notice ? translatorFor(request).t(notice) : undefined });
  });

  /** A refusal on the overview, translated by its code (never the service's English text). */
  const refused = (request: FastifyRequest, reply: FastifyReply, record: SessionRecord, error: ApiError, context: MfaErrorContext) =>
    overview(request, reply, record, { error: mfaServiceError(translatorFor(request), error, context), status: error.status, headers: error.headers });

  function recoveryCodesPage(request: FastifyRequest, reply: FastifyReply, heading: MessageKey, codes: readonly string[], next: string, intro?: MessageKey): FastifyReply {
    const tr = translatorFor(request);
    return sendPage(reply, { title: tr.t('mfa.recovery.title'), body: html`<h1>${tr.t(heading)}</h1>${intro ? html`<p>${tr.t(intro)}</p>` : ''}${recoveryCodesBlock(tr, codes, next)}` });
  }

  post('/account/mfa/totp', async (request, reply, record) => {
    const result = await attempt(() => mfa.startTotp(record.user.id, record.user.email));
    if (!result.ok) return refused(request, reply, record, result.error, 'factors');
    return enrolmentPage(request, reply, result.value);
  }, { recent: true });

  post('/account/mfa/totp/confirm', async (request, reply, record, fields) => {
    const tr = translatorFor(request);
    const enrolmentId = field(fields, 'enrolment_id');
    const code = field(fields, 'code');
    const typedName = fields.name;
    const result = code.trim() === '' ? undefined : await attempt(() => mfa.confirmTotp(record.user.id, record.user.email, { enrolmentId, code, name: typedName }, clientInfo(request)));
    if (!result?.ok) {
      // The user's pending set-up is kept (10 minutes): this shows the same secret and QR code again.
      const retry = await attempt(() => mfa.startTotp(record.user.id, record.user.email));
      if (!retry.ok) return refused(request, reply, record, retry.error, 'factors');
      if (result === undefined) return enrolmentPage(request, reply, retry.value, { message: tr.t('mfa.code.missing'), status: 400, field: 'code' }, typedName);
      const { error } = result;
      return enrolmentPage(request, reply, retry.value, { message: mfaServiceError(tr, error, 'enrolment'), status: error.status, headers: error.headers, ...(error.error === 'invalid_mfa_code' ? { field: 'code' as const } : {}) }, typedName);
    }
    if (result.value.recoveryCodes) return recoveryCodesPage(request, reply, 'mfa.totp.added', result.value.recoveryCodes, '/account/mfa?notice=totp-added');
    return reply.redirect('/account/mfa?notice=totp-added', 303);
  });

  // Passkeys: the registration options (a fresh challenge bound to this browser), then the answer.
  post('/account/mfa/passkey', async (request, reply, record) => {
    const tr = translatorFor(request);
    const options = await deps.passkeys.registrationOptions({ id: record.user.id, email: record.user.email, name: record.user.name }, ceremonyCookieBinding(request, reply));
    return sendPage(reply, {
      title: tr.t('mfa.passkey.title'),
      scripts: PASSKEY_SCRIPTS,
      body: html`<h1>${tr.t('mfa.passkey.title')}</h1>
<p>${tr.t('mfa.passkey.intro')}</p>
<noscript><p>${tr.t('mfa.passkey.needsScript')}</p></noscript>
${passkeyForm(tr, { ceremony: 'register', optionsJSON: options, action: '/account/mfa/passkey/confirm', csrfToken: csrf.formToken(request, reply), button: tr.t('mfa.passkey.create'), nameField: true })}
<p class="links"><a href="/account/mfa">${tr.t('mfa.passkey.cancel')}</a></p>`,
    });
  }, { recent: true });

  post('/account/mfa/passkey/confirm', async (request, reply, record, fields) => {
    const result = await attempt(() => mfa.addPasskey(record.user, { credential: field(fields, 'credential'), binding: ceremonyCookieValue(request), name: fields.name }, clientInfo(request)));
    if (!result.ok) return refused(request, reply, record, result.error, 'passkey-register');
    if (result.value.recoveryCodes) return recoveryCodesPage(request, reply, 'mfa.passkey.added', result.value.recoveryCodes, '/account/mfa?notice=passkey-added');
    return reply.redirect('/account/mfa?notice=passkey-added', 303);
  }, { recent: true });

  post('/account/mfa/recovery-codes', async (request, reply, record) => {
    const result = await attempt(() => mfa.regenerateRecoveryCodes(record.user.id, record.user.email, clientInfo(request)));
    if (!result.ok) return refused(request, reply, record, result.error, 'factors');
    return recoveryCodesPage(request, reply, 'mfa.recovery.newTitle', result.value, '/account/mfa', 'mfa.recovery.oldInvalid');
  }, { recent: true });

  post('/account/mfa/factors/:id/rename', async (request, reply, record, fields) => {
    const tr = translatorFor(request);
    const factorId = (request.params.id ?? '').slice(0, 64);
    const name = field(fields, 'name');
    const problem = name.trim() === '' ? tr.t('mfa.factors.nameMissing') : name.length > MAX_FACTOR_NAME ? tr.t('mfa.factors.nameTooLong', { max: MAX_FACTOR_NAME }) : undefined;
    if (problem !== undefined) return overview(request, reply, record, { renameError: { factorId, typed: name, message: problem }, status: 400 });
    if (!(await mfa.rename(record.user.id, factorId, name))) return overview(request, reply, record, { error: tr.t('mfa.factors.notFound'), status: 404 });
    return reply.redirect('/account/mfa?notice=factor-renamed', 303);
  });

  post('/account/mfa/factors/:id/remove', async (request, reply, record) => {
    if (!(await mfa.remove(record.user.id, record.user.email, request.params.id ?? '', clientInfo(request)))) return overview(request, reply, record, { error: translatorFor(request).t('mfa.factors.notFound'), status: 404 });
    return reply.redirect('/account/mfa?notice=factor-removed', 303);
  }, { recent: true });
}
