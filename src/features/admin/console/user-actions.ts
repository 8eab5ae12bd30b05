import type { FastifyInstance } from 'fastify';
import { checkedForm, field, type FormFields } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor, type MessageKey } from '../../../ui/i18n/index.ts';
import { pagePost } from '../../../ui/routes.ts';
import type { AdminCaller } from '../access.ts';
import type { Actor, UpdateUserInput } from '../users/service.ts';
import { adminErrorMessage, confirmForm, sendConsolePage, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';
import { renderUser } from './user-detail.ts';

type Params = { userId: string; sessionId?: string; clientId?: string };

interface UserAction {
  path: string;
  question: MessageKey;
  submit: MessageKey;
  danger?: boolean;
  /** Form fields carried from the first step to the confirmation (the edit's values). */
  carry?: (fields: FormFields) => Record<string, string>;
  /** Does it through the admin user service (audited with `actor`); answers where to go next. */
  run: (deps: AdminConsoleDeps, params: Params, actor: AdminCaller, fields: FormFields) => Promise<string>;
}

const done = (params: Params, notice: string) => `/admin/users/${params.userId}?notice=${notice}`;

/** The acting admin for the service: the audit's actor, and what they hold (role changes). */
const as = (caller: AdminCaller): Actor => ({ id: caller.id, permissions: caller.permissions });

/** The edit form's fields as the service's input: name, address, the verified flag, the ticked roles. */
export function editInput(fields: FormFields): UpdateUserInput {
  const name = field(fields, 'name').trim();
  const email = field(fields, 'email').trim();
  return {
    name: name === '' ? null : name.slice(0, 200),
    // Empty: the address stays (the service refuses a malformed one).
    ...(email === '' ? {} : { email: email.slice(0, 320) }),
    emailVerified: field(fields, 'email_verified') === 'on',
    roles: Object.keys(fields).filter((key) => key.startsWith('role:') && fields[key] === 'on').map((key) => key.slice('role:'.length)),
  };
}

const ACTIONS: readonly UserAction[] = [
  {
    path: 'edit', question: 'admin.confirm.edit', submit: 'admin.user.save',
    carry: (fields) => Object.fromEntries(Object.entries(fields).filter(([key]) => key === 'name' || key === 'email' || key === 'email_verified' || key.startsWith('role:'))),
    run: async (deps, params, actor, fields) => {
      await deps.users.update(params.userId, editInput(fields), as(actor));
      return done(params, 'saved');
    },
  },
  { path: 'disable', question: 'admin.confirm.disable', submit: 'admin.user.disable', danger: true, run: async (deps, params, actor) => (await deps.users.disable(params.userId, as(actor)), done(params, 'disabled')) },
  { path: 'enable', question: 'admin.confirm.enable', submit: 'admin.user.enable', run: async (deps, params, actor) => (await deps.users.enable(params.userId, as(actor)), done(params, 'enabled')) },
  { path: 'delete', question: 'admin.confirm.delete', submit: 'admin.user.delete', danger: true, run: async (deps, params, actor) => (await deps.users.delete(params.userId, as(actor)), '/admin/users?notice=deleted') },
  { path: 'password-reset', question: 'admin.confirm.sendReset', submit: 'admin.user.sendReset', run: async (deps, params, actor) => (await deps.users.sendPasswordReset(params.userId, as(actor)), done(params, 'reset-sent')) },
  {
    path: 'reset-mfa', question: 'admin.confirm.resetMfa', submit: 'admin.user.resetMfa', danger: true,
    run: async (deps, params, actor) => {
      // As POST /api/admin/users/:id/mfa-reset and `gatehouse users reset-mfa`: MfaService.reset, audited with the actor.
      await deps.users.resetMfa(params.userId, as(actor));
      return done(params, 'mfa-reset');
    },
  },
  { path: 'sign-out', question: 'admin.confirm.signOut', submit: 'admin.user.signOut', danger: true, run: async (deps, params, actor) => (await deps.users.signOutEverywhere(params.userId, as(actor)), done(params, 'signed-out')) },
  { path: 'sessions/:sessionId/revoke', question: 'admin.confirm.revokeSession', submit: 'admin.user.revokeSession', run: async (deps, params, actor) => (await deps.users.revokeSession(params.userId, params.sessionId ?? '', as(actor)), done(params, 'session-revoked')) },
  { path: 'grants/:clientId/revoke', question: 'admin.confirm.revokeGrant', submit: 'admin.user.revokeGrant', run: async (deps, params, actor) => (await deps.users.revokeApplication(params.userId, params.clientId ?? '', as(actor)), done(params, 'grant-revoked')) },
];

/**
 * Every user action: POST once for the confirmation page, POST again with `confirm=yes` to do
 * it. Each POST: Origin (route hook) → form and CSRF token (`checkedForm`) → the admin access
 * check → the admin user service, as `POST /api/admin/users/…` does, audited with the admin.
 */
export function registerUserActions(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  for (const action of ACTIONS) {
    app.post<{ Params: Params }>(`/admin/users/:userId/${action.path}`, pagePost(deps.csrf), async (request, reply) => {
      const fields = checkedForm(request, deps.csrf);
      const actor = await admit(request, reply, ['admin:users']);
      if (!actor) return reply;
      const tr = translatorFor(request);
      const params: Params = { userId: request.params.userId.slice(0, 64), ...(request.params.sessionId ? { sessionId: request.params.sessionId.slice(0, 64) } : {}), ...(request.params.clientId ? { clientId: request.params.clientId.slice(0, 128) } : {}) };
      if (field(fields, 'confirm') !== 'yes') {
        const found = await tryService(() => deps.users.get(params.userId));
        if (!found.ok) return sendConsolePage(request, reply, { section: 'users', title: tr.t('admin.confirm.title'), status: found.error.status, error: adminErrorMessage(tr, found.error), body: html`<p class="links"><a href="/admin/users">${tr.t('admin.user.back')}</a></p>` });
        const email = found.value.user.email;
        return sendConsolePage(request, reply, {
          section: 'users',
          title: tr.t('admin.confirm.title'),
          body: confirmForm(tr, {
            action: request.url,
            csrfToken: deps.csrf.formToken(request, reply),
            question: tr.t(action.question, { email }),
            submit: tr.t(action.submit),
            ...(action.danger ? { danger: true } : {}),
            fields: action.carry?.(fields) ?? {},
            cancel: `/admin/users/${params.userId}`,
          }),
        });
      }
      const outcome = await tryService(() => action.run(deps, params, actor, fields));
      if (outcome.ok) return reply.redirect(outcome.value, 303);
      return renderUser(request, reply, deps, params.userId, undefined, { status: outcome.error.status, message: adminErrorMessage(tr, outcome.error) });
    });
  }
}
