import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkedForm, csrfInput, field, type FormFields } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import type { CreateUserInput } from '../users/service.ts';
import { adminErrorMessage, checkbox, sendConsolePage, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

/** The create form's fields as the service's input (the same fields as `POST /api/admin/users`). */
export function createInput(fields: FormFields): CreateUserInput {
  const name = field(fields, 'name').trim();
  return {
    email: field(fields, 'email').trim().slice(0, 320),
    name: name === '' ? null : name.slice(0, 200),
    roles: Object.keys(fields).filter((key) => key.startsWith('role:') && fields[key] === 'on').map((key) => key.slice('role:'.length)),
    emailVerified: field(fields, 'email_verified') === 'on',
    sendPasswordMail: field(fields, 'send_password_mail') === 'on',
  };
}

async function createPage(request: FastifyRequest, reply: FastifyReply, deps: AdminConsoleDeps, typed: CreateUserInput, problem?: { status: number; message: string }): Promise<FastifyReply> {
  const tr = translatorFor(request);
  const roles = await deps.roles.list();
  return sendConsolePage(request, reply, {
    section: 'users',
    title: tr.t('admin.users.create'),
    status: problem?.status ?? 200,
    error: problem?.message,
    body: html`<p class="links"><a href="/admin/users">${tr.t('admin.user.back')}</a></p>
<section><form method="post" action="/admin/users">
${csrfInput(deps.csrf.formToken(request, reply))}
<div class="field"><label for="f-email">${tr.t('admin.user.email')}</label><input type="email" id="f-email" name="email" value="${typed.email}" maxlength="320" required autocomplete="off"></div>
<div class="field"><label for="f-name">${tr.t('admin.user.name')}</label><input type="text" id="f-name" name="name" value="${typed.name ?? ''}" maxlength="200" autocomplete="off"></div>
${checkbox({ name: 'email_verified', label: tr.t('admin.user.verified'), checked: typed.emailVerified === true })}
<fieldset><legend>${tr.t('admin.user.roles')}</legend>
${roles.map((role) => checkbox({ name: `role:${role.name}`, label: role.name, checked: typed.roles?.includes(role.name) ?? false }))}
</fieldset>
${checkbox({ name: 'send_password_mail', label: tr.t('admin.users.invite'), checked: typed.sendPasswordMail ?? true })}
<button type="submit">${tr.t('admin.users.createSubmit')}</button>
</form></section>`,
  });
}

/**
 * `/admin/users/new` and `POST /admin/users`: a user without a password, optionally mailed the
 * set-password link — the admin user service's `create`, as `POST /api/admin/users`, audited with
 * the admin. A refused form comes back with everything typed in it.
 */
export function registerUserCreate(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  app.get('/admin/users/new', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, ['admin:users']))) return reply;
    return createPage(request, reply, deps, { email: '', name: null, roles: [], emailVerified: false, sendPasswordMail: true });
  });

  app.post('/admin/users', pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    const caller = await admit(request, reply, ['admin:users']);
    if (!caller) return reply;
    const input = createInput(fields);
    const outcome = await tryService(() => deps.users.create(input, { id: caller.id, permissions: caller.permissions }));
    if (outcome.ok) return reply.redirect(`/admin/users/${outcome.value.id}?notice=created`, 303);
    return createPage(request, reply, deps, input, { status: outcome.error.status, message: adminErrorMessage(translatorFor(request), outcome.error) });
  });
}
