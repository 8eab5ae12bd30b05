import type { FastifyInstance } from 'fastify';
import { checkedForm, csrfInput, field } from '../../../ui/forms.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { translatorFor, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import { actionButton, adminErrorMessage, confirmForm, lines, noticeFrom, sendConsolePage, textarea, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const NOTICES = { created: 'admin.notice.roleCreated', saved: 'admin.notice.roleSaved', deleted: 'admin.notice.roleDeleted' } as const;

/** `name`: the role being edited (no name field); `typedName`: a refused create's name, kept. */
function roleForm(tr: Translator, token: string, options: { action: string; name?: string; typedName?: string; description: string; permissions: string; submit: string }): SafeHtml {
  return html`<form method="post" action="${options.action}">
${csrfInput(token)}
${options.name === undefined ? html`<div class="field"><label for="f-role-name">${tr.t('admin.roles.name')}</label><input type="text" id="f-role-name" name="name" value="${options.typedName ?? ''}" maxlength="64" required autocomplete="off"></div>` : ''}
<div class="field"><label for="f-description">${tr.t('admin.roles.description')}</label><input type="text" id="f-description" name="description" value="${options.description}" maxlength="500" autocomplete="off"></div>
${textarea({ name: 'permissions', label: tr.t('admin.roles.permissions'), value: options.permissions, hint: tr.t('admin.roles.permissionsHint') })}
<button type="submit">${options.submit}</button>
</form>`;
}

/** `/admin/roles`: the role catalog through the same RoleCatalog as `/api/admin/roles` (scope admin:roles). */
export function registerRolePages(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  const { roles, csrf } = deps;
  const scope = ['admin:roles'] as const;

  app.get('/admin/roles', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const token = csrf.formToken(request, reply);
    const list = await roles.list();
    return sendConsolePage(request, reply, {
      section: 'roles',
      title: tr.t('admin.roles.title'),
      notice: noticeFrom(tr, request.query, NOTICES),
      body: html`<section><h2>${tr.t('admin.roles.catalog')}</h2><ul class="sessions admin-rows">
${list.map((role) => html`<li><span>${role.builtIn ? html`<strong>${role.name}</strong> <span class="tag">${tr.t('admin.roles.builtIn')}</span>` : html`<a href="/admin/roles/${role.name}">${role.name}</a>`}</span><span>${role.builtIn ? tr.t('admin.roles.builtInDescription') : role.description ?? ''}</span><span><code>${role.permissions.join(' ')}</code></span></li>`)}
</ul></section>
<section><h2>${tr.t('admin.roles.create')}</h2>${roleForm(tr, token, { action: '/admin/roles', description: '', permissions: '', submit: tr.t('admin.roles.createSubmit') })}</section>`,
    });
  });

  app.post('/admin/roles', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const actor = await admit(request, reply, scope);
    if (!actor) return reply;
    const tr = translatorFor(request);
    const description = field(fields, 'description').trim();
    const outcome = await tryService(() => roles.create({ name: field(fields, 'name').trim(), description: description === '' ? null : description, permissions: lines(fields.permissions) }, { id: actor.id, permissions: actor.permissions }));
    if (outcome.ok) return reply.redirect('/admin/roles?notice=created', 303);
    return sendConsolePage(request, reply, {
      section: 'roles', title: tr.t('admin.roles.create'), status: outcome.error.status, error: adminErrorMessage(tr, outcome.error),
      body: html`<section>${roleForm(tr, csrf.formToken(request, reply), { action: '/admin/roles', typedName: field(fields, 'name').trim().slice(0, 64), description, permissions: lines(fields.permissions).join('\n'), submit: tr.t('admin.roles.createSubmit') })}</section>`,
    });
  });

  app.get<{ Params: { name: string } }>('/admin/roles/:name', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const found = await tryService(() => roles.get(request.params.name.slice(0, 64)));
    if (!found.ok) return sendConsolePage(request, reply, { section: 'roles', title: tr.t('admin.roles.title'), status: found.error.status, error: adminErrorMessage(tr, found.error), body: html`` });
    const role = found.value;
    const token = csrf.formToken(request, reply);
    return sendConsolePage(request, reply, {
      section: 'roles',
      title: role.name,
      body: html`<section><h2>${tr.t('admin.roles.edit')}</h2>${roleForm(tr, token, { action: `/admin/roles/${role.name}`, name: role.name, description: role.description ?? '', permissions: role.permissions.join('\n'), submit: tr.t('admin.save') })}</section>
<section>${actionButton({ action: `/admin/roles/${role.name}/delete`, csrfToken: token, label: tr.t('admin.roles.delete'), danger: true })}</section>`,
    });
  });

  app.post<{ Params: { name: string } }>('/admin/roles/:name', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const actor = await admit(request, reply, scope);
    if (!actor) return reply;
    const tr = translatorFor(request);
    const description = field(fields, 'description').trim();
    const outcome = await tryService(() => roles.update(request.params.name.slice(0, 64), { description: description === '' ? null : description, permissions: lines(fields.permissions) }, { id: actor.id, permissions: actor.permissions }));
    if (outcome.ok) return reply.redirect('/admin/roles?notice=saved', 303);
    return sendConsolePage(request, reply, { section: 'roles', title: tr.t('admin.roles.edit'), status: outcome.error.status, error: adminErrorMessage(tr, outcome.error), body: html`<p class="links"><a href="/admin/roles">${tr.t('admin.roles.back')}</a></p>` });
  });

  app.post<{ Params: { name: string } }>('/admin/roles/:name/delete', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const actor = await admit(request, reply, scope);
    if (!actor) return reply;
    const tr = translatorFor(request);
    const name = request.params.name.slice(0, 64);
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, { section: 'roles', title: tr.t('admin.confirm.title'), body: confirmForm(tr, { action: request.url, csrfToken: csrf.formToken(request, reply), question: tr.t('admin.confirm.deleteRole', { name }), submit: tr.t('admin.roles.delete'), danger: true, cancel: `/admin/roles/${name}` }) });
    }
    const outcome = await tryService(() => roles.delete(name, { id: actor.id, permissions: actor.permissions }));
    if (outcome.ok) return reply.redirect('/admin/roles?notice=deleted', 303);
    return sendConsolePage(request, reply, { section: 'roles', title: tr.t('admin.roles.delete'), status: outcome.error.status, error: adminErrorMessage(tr, outcome.error), body: html`<p class="links"><a href="/admin/roles">${tr.t('admin.roles.back')}</a></p>` });
  });
}
