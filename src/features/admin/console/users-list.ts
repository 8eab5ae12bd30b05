import type { FastifyInstance } from 'fastify';
import { html } from '../../../ui/html.ts';
import { translatorFor, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, queryParam } from '../../../ui/routes.ts';
import type { User } from '../../accounts/store.ts';
import { ROLE_NAME } from '../users/service.ts';
import type { UserListQuery } from '../users/store.ts';
import { adminErrorMessage, noticeFrom, select, sendConsolePage, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const PAGE_SIZE = 25;

/** The filters of the list from the query string; anything malformed is dropped, never an error page. */
function filters(query: { search?: string; status?: string; role?: string; verified?: string; has_mfa?: string; cursor?: string }): UserListQuery {
  return {
    ...(query.search !== undefined && query.search.length <= 200 ? { search: query.search } : {}),
    ...(query.status === 'active' || query.status === 'disabled' ? { status: query.status } : {}),
    ...(query.role !== undefined && ROLE_NAME.test(query.role) ? { role: query.role } : {}),
    ...(query.verified === 'true' || query.verified === 'false' ? { verified: query.verified === 'true' } : {}),
    ...(query.has_mfa === 'true' || query.has_mfa === 'false' ? { hasMfa: query.has_mfa === 'true' } : {}),
    ...(query.cursor !== undefined && query.cursor.length <= 1000 ? { cursor: query.cursor } : {}),
  };
}

function queryString(filter: UserListQuery, cursor?: string | null): string {
  const params = new URLSearchParams();
  if (filter.search) params.set('search', filter.search);
  if (filter.status) params.set('status', filter.status);
  if (filter.role) params.set('role', filter.role);
  if (filter.verified !== undefined) params.set('verified', String(filter.verified));
  if (filter.hasMfa !== undefined) params.set('has_mfa', String(filter.hasMfa));
  if (cursor) params.set('cursor', cursor);
  const text = params.toString();
  return text ? `?${text}` : '';
}

export function statusTag(tr: Translator, user: User): ReturnType<typeof html> {
  return user.disabledAt === null ? html`<span class="tag">${tr.t('admin.users.active')}</span>` : html`<span class="tag admin-disabled">${tr.t('admin.users.disabled')}</span>`;
}

/** `GET /admin/users`: search (email, name), filters, cursor pages and the total — through the admin user service. */
export function registerUserList(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  app.get('/admin/users', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, ['admin:users']))) return reply;
    const tr = translatorFor(request);
    const filter = filters({ search: queryParam(request, 'search'), status: queryParam(request, 'status'), role: queryParam(request, 'role'), verified: queryParam(request, 'verified'), has_mfa: queryParam(request, 'has_mfa'), cursor: queryParam(request, 'cursor') });
    const [page, roles] = await Promise.all([tryService(() => deps.users.list({ ...filter, limit: PAGE_SIZE })), deps.roles.list()]);
    const any = { value: '', label: tr.t('admin.users.filter.any') };
    const form = html`<p><a class="button" href="/admin/users/new">${tr.t('admin.users.create')}</a></p>
<section><h2>${tr.t('admin.users.search')}</h2>
<form method="get" action="/admin/users" role="search" class="admin-filters">
<div class="field"><label for="f-search">${tr.t('admin.users.searchLabel')}</label><input type="search" id="f-search" name="search" value="${filter.search ?? ''}" maxlength="200"></div>
${select({ name: 'status', label: tr.t('admin.users.filter.status'), value: filter.status ?? '', choices: [any, { value: 'active', label: tr.t('admin.users.active') }, { value: 'disabled', label: tr.t('admin.users.disabled') }] })}
${select({ name: 'role', label: tr.t('admin.users.filter.role'), value: filter.role ?? '', choices: [any, ...roles.map((role) => ({ value: role.name, label: role.name }))] })}
${select({ name: 'verified', label: tr.t('admin.users.filter.verified'), value: filter.verified === undefined ? '' : String(filter.verified), choices: [any, { value: 'true', label: tr.t('admin.yes') }, { value: 'false', label: tr.t('admin.no') }] })}
${select({ name: 'has_mfa', label: tr.t('admin.users.filter.mfa'), value: filter.hasMfa === undefined ? '' : String(filter.hasMfa), choices: [any, { value: 'true', label: tr.t('admin.users.mfaOn') }, { value: 'false', label: tr.t('admin.users.mfaOff') }] })}
<div><button type="submit">${tr.t('admin.users.searchSubmit')}</button></div>
</form></section>`;
    if (!page.ok) return sendConsolePage(request, reply, { section: 'users', title: tr.t('admin.users.title'), status: page.error.status, error: adminErrorMessage(tr, page.error), body: form });
    const { users, total, nextCursor } = page.value;
    const list = html`<section><h2>${tr.t('admin.users.results', { count: total })}</h2>
${users.length === 0 ? html`<p>${tr.t('admin.users.none')}</p>` : html`<ul class="sessions admin-rows" data-users>
${users.map((user) => html`<li><span><a href="/admin/users/${user.id}">${user.email}</a></span><span>${user.name ?? ''}</span><span>${statusTag(tr, user)} ${user.roles.join(', ')}</span></li>`)}
</ul>`}
<p class="links">${filter.cursor ? html`<a href="/admin/users${queryString({ ...filter, cursor: undefined })}">${tr.t('admin.pages.first')}</a> ` : ''}${nextCursor ? html`<a href="/admin/users${queryString(filter, nextCursor)}" rel="next">${tr.t('admin.pages.next')}</a>` : ''}</p>
</section>`;
    return sendConsolePage(request, reply, { section: 'users', title: tr.t('admin.users.title'), notice: noticeFrom(tr, request.query, { deleted: 'admin.notice.userDeleted' }), body: html`${form}${list}` });
  });
}
