import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { SessionRecord } from '../../features/sessions/store.ts';
import type { PagesDeps } from '../deps.ts';
import { checkedForm, field, type FormFields } from '../forms.ts';
import { attempt, pagePost } from '../routes.ts';
import { LOGIN_FOR_ACCOUNT, accountRenderer } from './account.ts';
import { secondStepUrl } from './mfa.ts';

const MAX_NAME_LENGTH = 200;
const MAX_SESSION_ID_LENGTH = 64;

type Action = (request: FastifyRequest<{ Params: Record<string, string> }>, reply: FastifyReply, record: SessionRecord, fields: FormFields) => Promise<FastifyReply>;

/**
 * The account page's POSTs. Each runs the same pipeline: Origin check (route hook) → form body
 * and CSRF token (`checkedForm`, SEC-ASVS-07) → a live session, else to the sign-in page → the
 * action, which redirects (POST-redirect-GET) or shows the page again with the error in place.
 */
export function registerAccountActions(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, auth, sessions, accounts, audit } = deps;
  const render = accountRenderer(deps);

  function post(path: string, action: Action): void {
    app.post<{ Params: Record<string, string> }>(path, pagePost(csrf), async (request, reply) => {
      const fields = checkedForm(request, csrf);
      const record = await auth.current(request);
      if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
      return action(request, reply, record, fields);
    });
  }

  post('/account/applications/:clientId/revoke', async (request, reply, record) => {
    const clientId = request.params.clientId ?? '';
    if (!deps.applications || clientId.length > 256 || !(await deps.applications.revoke(record.user.id, clientId))) {
      return render(request, reply, record, { status: 404, error: { section: 'applications', message: 'That application has no access to your account.' } });
    }
    return reply.redirect('/account?notice=application-revoked', 303);
  });

  post('/account/profile', async (request, reply, record, fields) => {
    const name = field(fields, 'name');
    if (name.length > MAX_NAME_LENGTH) {
      return render(request, reply, record, { status: 400, typedName: name, error: { section: 'profile', message: `The name can be at most ${MAX_NAME_LENGTH} characters.` } });
    }
    await accounts.updateProfile(record, { name });
    const client = clientInfo(request);
    await audit.record({ type: 'profile-update', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent });
    return reply.redirect('/account?notice=profile-saved', 303);
  });

  post('/account/verify-email/resend', async (request, reply, record) => {
    const result = await attempt(() => accounts.resendVerification(record, clientInfo(request)));
    if (!result.ok) return render(request, reply, record, { status: result.error.status, headers: result.error.headers, error: { section: 'email', message: result.error.description } });
    return reply.redirect('/account?notice=verification-sent', 303);
  });

  post('/account/sessions/:id/revoke', async (request, reply, record) => {
    const id = request.params.id ?? '';
    const client = clientInfo(request);
    // Another user's session id is indistinguishable from an unknown one (SEC-ASVS-02).
    if (id.length > MAX_SESSION_ID_LENGTH || !(await sessions.revoke(id, record.user.id))) {
      return render(request, reply, record, { status: 404, error: { section: 'sessions', message: 'That session no longer exists.' } });
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

  post('/account/password', async (request, reply, record, fields) => {
    const currentPassword = field(fields, 'current_password');
    const newPassword = field(fields, 'new_password');
    if (currentPassword === '' || newPassword === '') {
      return render(request, reply, record, { status: 400, error: { section: 'password', message: 'Enter your current password and a new one.' } });
    }
    const result = await attempt(() => accounts.changePassword(record, { currentPassword, newPassword }, clientInfo(request)));
    // A user with a second factor proves it first (step-up), like for factor changes (docs/mfa.md).
    if (!result.ok && result.error.error === 'mfa_step_up_required') return reply.redirect(secondStepUrl('/account'), 303);
    if (!result.ok) return render(request, reply, record, { status: result.error.status, headers: result.error.headers, error: { section: 'password', message: result.error.description } });
    // The session was rotated: this browser gets the new token, the old one no longer works.
    auth.setCookie(reply, result.value.token);
    return reply.redirect('/account?notice=password-changed', 303);
  });
}
