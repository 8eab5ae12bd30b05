import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { checkPassword } from '../../crypto/passwords/policy.ts';
import type { ApiError } from '../../errors/catalog.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { SessionRecord } from '../../features/sessions/store.ts';
import type { PagesDeps } from '../deps.ts';
import { checkedForm, field, type FieldError, type FormFields } from '../forms.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { attempt, pagePost } from '../routes.ts';
import { LOGIN_FOR_ACCOUNT, accountRenderer } from './account.ts';
import { registerAccountLanguage } from './account-language.ts';
import { secondStepUrl } from './mfa.ts';

const MAX_NAME_LENGTH = 200;
const MAX_SESSION_ID_LENGTH = 64;
/** The schema's default, for deps typed without `passwordMaxLength`. */
const DEFAULT_PASSWORD_MAX_LENGTH = 256;

type Action = (request: FastifyRequest<{ Params: Record<string, string> }>, reply: FastifyReply, record: SessionRecord, fields: FormFields, tr: Translator) => Promise<FastifyReply>;

/**
 * A service refusal in the page's language, by its error code (never its English description):
 * the wait of a rate limit from its Retry-After, an unavailable backend, else a generic message.
 */
export function accountServiceError(tr: Translator, error: ApiError): string {
  if (error.error === 'too_many_requests') return tr.t('account.error.tooManyRequests', { wait: tr.duration(Number(error.headers['retry-after'] ?? 60)) });
  if (error.status === 503) return tr.t('account.error.unavailable');
  return tr.t('account.error.generic');
}

/** Why a new password is refused, translated (the same checks as the service: well-formed text, then the policy). */
function newPasswordProblem(tr: Translator, password: string, limits: { minLength: number; maxLength: number }, context: { email: string; name?: string; previous?: string }): string | undefined {
  if (password === '') return tr.t('account.password.newMissing');
  if (!password.isWellFormed()) return tr.t('account.password.notText');
  const verdict = checkPassword(password, limits, context);
  if (verdict.ok) return undefined;
  switch (verdict.reason) {
    case 'too_short': return tr.t('account.password.tooShort', { min: limits.minLength });
    case 'too_long': return tr.t('account.password.tooLong', { max: limits.maxLength });
    case 'context': return tr.t('account.password.fromContext');
    case 'common': return tr.t('account.password.common');
  }
}

/**
 * The account page's POSTs. Each runs the same pipeline: Origin check (route hook) → form body
 * and CSRF token (`checkedForm`, SEC-ASVS-07) → a live session, else to the sign-in page → the
 * action, which redirects (POST-redirect-GET) or shows the page again with the errors in place.
 */
export function registerAccountActions(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, auth, sessions, accounts, audit } = deps;
  const render = accountRenderer(deps);
  const limits = {
    minLength: deps.config.passwordMinLength,
    maxLength: (deps.config as Partial<Pick<Config, 'passwordMaxLength'>>).passwordMaxLength ?? DEFAULT_PASSWORD_MAX_LENGTH,
  };

  function post(path: string, action: Action): void {
    app.post<{ Params: Record<string, string> }>(path, pagePost(csrf), async (request, reply) => {
      const fields = checkedForm(request, csrf);
      const record = await auth.current(request);
      if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
      return action(request, reply, record, fields, translatorFor(request));
    });
  }

  post('/account/applications/:clientId/revoke', async (request, reply, record, _fields, tr) => {
    const clientId = request.params.clientId ?? '';
    if (!deps.applications || clientId.length > 256 || !(await deps.applications.revoke(record.user.id, clientId))) {
      return render(request, reply, record, { status: 404, error: { section: 'applications', message: tr.t('account.applications.notFound') } });
    }
    return reply.redirect('/account?notice=application-revoked', 303);
  });

  post('/account/profile', async (request, reply, record, fields, tr) => {
    const name = field(fields, 'name');
    if (name.length > MAX_NAME_LENGTH) {
      const fieldErrors = [{ field: 'name', message: tr.t('account.profile.nameTooLong', { max: MAX_NAME_LENGTH }) }];
      return render(request, reply, record, { status: 400, typedName: name, fieldErrors, fieldErrorsSection: 'profile' });
    }
    await accounts.updateProfile(record, { name });
    const client = clientInfo(request);
    await audit.record({ type: 'profile-update', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent });
    return reply.redirect('/account?notice=profile-saved', 303);
  });

  post('/account/verify-email/resend', async (request, reply, record, _fields, tr) => {
    const result = await attempt(() => accounts.resendVerification(record, clientInfo(request)));
    if (!result.ok) return render(request, reply, record, { status: result.error.status, headers: result.error.headers, error: { section: 'email', message: accountServiceError(tr, result.error) } });
    return reply.redirect('/account?notice=verification-sent', 303);
  });

  post('/account/sessions/:id/revoke', async (request, reply, record, _fields, tr) => {
    const id = request.params.id ?? '';
    const client = clientInfo(request);
    // Another user's session id is indistinguishable from an unknown one (SEC-ASVS-02).
    if (id.length > MAX_SESSION_ID_LENGTH || !(await sessions.revoke(id, record.user.id))) {
      return render(request, reply, record, { status: 404, error: { section: 'sessions', message: tr.t('account.sessions.notFound') } });
    }
    await audit.record({ type: 'session-revoked', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { session_id: id } });
    if (id === record.session.id) {
      auth.forget(request);
      auth.clearCookie(reply);
      csrf.renew(reply);
      return reply.redirect('/login?notice=signed-out', 303);
    }
    return reply.redirect('/account?notice=session-revoked', 303);
  });

  post('/account/sessions/revoke-others', async (request, reply, record) => {
    const revoked = await sessions.revokeAllForUser(record.user.id, record.session.id);
    const client = clientInfo(request);
    await audit.record({ type: 'session-revoked', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent, detail: { others: revoked } });
    return reply.redirect('/account?notice=others-signed-out', 303);
  });

  post('/account/password', async (request, reply, record, fields, tr) => {
    const currentPassword = field(fields, 'current_password');
    const newPassword = field(fields, 'new_password');
    const context = { email: record.user.email, ...(record.user.name ? { name: record.user.name } : {}), ...(currentPassword !== '' ? { previous: currentPassword } : {}) };
    // Every problem the form shows at once; neither password is ever sent back.
    const fieldErrors: FieldError[] = [];
    if (currentPassword === '') fieldErrors.push({ field: 'current_password', message: tr.t('account.password.currentMissing') });
    const problem = newPasswordProblem(tr, newPassword, limits, context);
    if (problem !== undefined) fieldErrors.push({ field: 'new_password', message: problem });
    if (fieldErrors.length > 0) return render(request, reply, record, { status: 400, fieldErrors, fieldErrorsSection: 'password' });

    const result = await attempt(() => accounts.changePassword(record, { currentPassword, newPassword }, clientInfo(request)));
    // A user with a second factor proves it first (step-up), like for factor changes (docs/mfa.md).
    if (!result.ok && result.error.error === 'mfa_step_up_required') return reply.redirect(secondStepUrl('/account'), 303);
    if (!result.ok) {
      const { error } = result;
      const show = { status: error.status, headers: error.headers, fieldErrorsSection: 'password' as const };
      if (error.error === 'invalid_credentials') return render(request, reply, record, { ...show, fieldErrors: [{ field: 'current_password', message: tr.t('account.password.currentWrong') }] });
      if (error.error === 'invalid_password') return render(request, reply, record, { ...show, fieldErrors: [{ field: 'new_password', message: problem ?? tr.t('account.password.refused') }] });
      return render(request, reply, record, { ...show, error: { section: 'password', message: accountServiceError(tr, error) } });
    }
    // The session was rotated: this browser gets the new token, the old one no longer works.
    auth.setCookie(reply, result.value.token);
    return reply.redirect('/account?notice=password-changed', 303);
  });

  registerAccountLanguage(app, deps);
}
