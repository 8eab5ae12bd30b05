import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html } from '../../../ui/html.ts';
import { csrfInput } from '../../../ui/forms.ts';
import { translatorFor, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET } from '../../../ui/routes.ts';
import type { UserDetail } from '../users/service.ts';
import { auditEventLabel, auditOutcomeLabel } from './audit.ts';
import { actionButton, adminErrorMessage, checkbox, noticeFrom, sendConsolePage, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';
import { statusTag } from './users-list.ts';

const NOTICES = {
  saved: 'admin.notice.userSaved',
  created: 'admin.notice.userCreated',
  disabled: 'admin.notice.userDisabled',
  enabled: 'admin.notice.userEnabled',
  'reset-sent': 'admin.notice.resetSent',
  'mfa-reset': 'admin.notice.mfaReset',
  'signed-out': 'admin.notice.signedOut',
  'session-revoked': 'admin.notice.sessionRevoked',
  'grant-revoked': 'admin.notice.grantRevoked',
} as const;

function profile(tr: Translator, detail: UserDetail): ReturnType<typeof html> {
  const { user } = detail;
  return html`<section><h2>${tr.t('admin.user.profile')}</h2>
<dl class="admin-facts">
<dt>${tr.t('admin.user.email')}</dt><dd data-email>${user.email}</dd>
<dt>${tr.t('admin.user.name')}</dt><dd>${user.name ?? '—'}</dd>
<dt>${tr.t('admin.user.status')}</dt><dd data-status="${user.disabledAt === null ? 'active' : 'disabled'}">${statusTag(tr, user)}</dd>
<dt>${tr.t('admin.user.verified')}</dt><dd>${user.emailVerifiedAt === null ? tr.t('admin.no') : tr.t('admin.yes')}</dd>
<dt>${tr.t('admin.user.roles')}</dt><dd>${user.roles.length === 0 ? '—' : user.roles.join(', ')}</dd>
<dt>${tr.t('admin.user.created')}</dt><dd>${tr.dateTime(user.createdAt)}</dd>
<dt>${tr.t('admin.user.id')}</dt><dd><code>${user.id}</code></dd>
</dl></section>`;
}

/** `GET /admin/users/:userId`: everything the admin API's "get one" gives, with every action's first step. */
export function registerUserDetail(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  app.get<{ Params: { userId: string } }>('/admin/users/:userId', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, ['admin:users']))) return reply;
    return renderUser(request, reply, deps, request.params.userId, noticeFrom(translatorFor(request), request.query, NOTICES));
  });
}

export async function renderUser(request: FastifyRequest, reply: FastifyReply, deps: AdminConsoleDeps, userId: string, notice?: string, problem?: { status: number; message: string }): Promise<FastifyReply> {
  const tr = translatorFor(request);
  const found = await tryService(() => deps.users.get(userId.slice(0, 64)));
  if (!found.ok) return sendConsolePage(request, reply, { section: 'users', title: tr.t('admin.user.title'), status: found.error.status, error: adminErrorMessage(tr, found.error), body: html`<p class="links"><a href="/admin/users">${tr.t('admin.user.back')}</a></p>` });
  const detail = found.value;
  const { user } = detail;
  const [roles, factors] = await Promise.all([deps.roles.list(), deps.mfa.factors(user.id)]);
  const token = deps.csrf.formToken(request, reply);
  const base = `/admin/users/${user.id}`;
  const edit = html`<section><h2>${tr.t('admin.user.edit')}</h2>
<form method="post" action="${base}/edit">
${csrfInput(token)}
<div class="field"><label for="f-name">${tr.t('admin.user.name')}</label><input type="text" id="f-name" name="name" value="${user.name ?? ''}" maxlength="200" autocomplete="off"></div>
<div class="field"><label for="f-email">${tr.t('admin.user.email')}</label><p class="hint" id="f-email-hint">${tr.t('admin.user.emailHint')}</p><input type="email" id="f-email" name="email" value="${user.email}" maxlength="320" required autocomplete="off" aria-describedby="f-email-hint"></div>
${checkbox({ name: 'email_verified', label: tr.t('admin.user.verified'), checked: user.emailVerifiedAt !== null })}
<fieldset><legend>${tr.t('admin.user.roles')}</legend>
${roles.map((role) => checkbox({ name: `role:${role.name}`, label: role.name, checked: user.roles.includes(role.name) }))}
</fieldset>
<button type="submit">${tr.t('admin.user.save')}</button>
</form></section>`;
  const actions = html`<section><h2>${tr.t('admin.user.actions')}</h2>
${user.disabledAt === null
    ? actionButton({ action: `${base}/disable`, csrfToken: token, label: tr.t('admin.user.disable'), danger: true })
    : actionButton({ action: `${base}/enable`, csrfToken: token, label: tr.t('admin.user.enable') })}
${actionButton({ action: `${base}/password-reset`, csrfToken: token, label: tr.t('admin.user.sendReset'), secondary: true })}
${actionButton({ action: `${base}/reset-mfa`, csrfToken: token, label: tr.t('admin.user.resetMfa'), secondary: true })}
${actionButton({ action: `${base}/sign-out`, csrfToken: token, label: tr.t('admin.user.signOut'), secondary: true })}
${actionButton({ action: `${base}/delete`, csrfToken: token, label: tr.t('admin.user.delete'), danger: true })}
</section>`;
  const lists = html`<section><h2>${tr.t('admin.user.factors')}</h2>
${factors.factors.length === 0 ? html`<p>${tr.t('admin.user.noFactors')}</p>` : html`<ul class="sessions">${factors.factors.map((factor) => html`<li><code>${factor.kind}</code> ${factor.name} · ${tr.dateTime(factor.createdAt)}</li>`)}</ul>`}
<p class="hint">${tr.t('admin.user.recoveryCodes', { count: factors.recoveryCodesRemaining })}</p>
<h2>${tr.t('admin.user.identities')}</h2>
${detail.identities.length === 0 ? html`<p>${tr.t('admin.user.noIdentities')}</p>` : html`<ul class="identities">${detail.identities.map((identity) => html`<li><strong>${identity.providerId}</strong> ${identity.email ?? identity.subject} · ${tr.dateTime(identity.linkedAt)}</li>`)}</ul>`}
<h2>${tr.t('admin.user.sessions')}</h2>
${detail.sessions.length === 0 ? html`<p>${tr.t('admin.user.noSessions')}</p>` : html`<ul class="sessions" data-sessions>${detail.sessions.map((session) => html`<li>${tr.t('admin.user.sessionSeen', { when: tr.dateTime(session.lastSeenAt) })} · ${session.ip ?? ''}<br><span class="ua">${session.userAgent ?? ''}</span>
${actionButton({ action: `${base}/sessions/${session.id}/revoke`, csrfToken: token, label: tr.t('admin.user.revokeSession'), secondary: true })}</li>`)}</ul>`}
<h2>${tr.t('admin.user.applications')}</h2>
${detail.applications.length === 0 ? html`<p>${tr.t('admin.user.noApplications')}</p>` : html`<ul class="sessions">${detail.applications.map((application) => html`<li><strong>${application.name}</strong> <code>${application.client_id}</code> · ${application.scopes.join(' ')} · ${tr.t('admin.user.activeGrants', { count: application.active_grants })}
${actionButton({ action: `${base}/grants/${encodeURIComponent(application.client_id)}/revoke`, csrfToken: token, label: tr.t('admin.user.revokeGrant'), secondary: true })}</li>`)}</ul>`}
<h2>${tr.t('admin.user.events')}</h2>
${detail.recentEvents.length === 0 ? html`<p>${tr.t('admin.audit.none')}</p>` : html`<ul class="sessions admin-rows">${detail.recentEvents.map((event) => html`<li><span>${auditEventLabel(tr, event.type)} <code>${event.type}</code> · ${auditOutcomeLabel(tr, event.outcome)}</span><span>${tr.dateTime(event.at)}</span><span>${event.actorId ?? ''}</span></li>`)}</ul>`}
<p class="links"><a href="/admin/audit?user_id=${user.id}">${tr.t('admin.user.allEvents')}</a></p>
</section>`;
  return sendConsolePage(request, reply, {
    section: 'users',
    title: user.email,
    status: problem?.status ?? 200,
    notice,
    error: problem?.message,
    body: html`<p class="links"><a href="/admin/users">${tr.t('admin.user.back')}</a></p>${profile(tr, detail)}${actions}${edit}${lists}`,
  });
}
