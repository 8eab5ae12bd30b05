import type { FastifyInstance } from 'fastify';
import { checkedForm, field } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import { actionButton, adminErrorMessage, checkbox, confirmForm, noticeFrom, sendConsolePage, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const NOTICES = { rotated: 'admin.notice.keyRotated', retired: 'admin.notice.keyRetired' } as const;

/** `/admin/keys`: the signing keys through the KeyService, as `/api/admin/keys` and `gatehouse keys` (scope admin:keys). */
export function registerKeyPages(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  const { keys, csrf } = deps;
  const scope = ['admin:keys'] as const;

  app.get('/admin/keys', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    await keys.tick();
    const token = csrf.formToken(request, reply);
    return sendConsolePage(request, reply, {
      section: 'keys',
      title: tr.t('admin.keys.title'),
      notice: noticeFrom(tr, request.query, NOTICES),
      body: html`<section><ul class="sessions admin-rows">
${keys.list().map((key) => html`<li><span><code>${key.kid}</code></span><span>${key.alg} · <strong>${tr.t(`admin.keys.state.${key.state}`)}</strong></span><span>${tr.t('admin.keys.activates', { when: tr.dateTime(key.activatesAt) })}${key.removeAfter === null ? '' : html`<br>${tr.t('admin.keys.removeAfter', { when: tr.dateTime(key.removeAfter) })}`}
${key.state === 'retired' ? '' : actionButton({ action: `/admin/keys/${encodeURIComponent(key.kid)}/retire`, csrfToken: token, label: tr.t('admin.keys.retire'), danger: true })}</span></li>`)}
</ul>
${actionButton({ action: '/admin/keys/rotate', csrfToken: token, label: tr.t('admin.keys.rotate') })}</section>`,
    });
  });

  app.post('/admin/keys/rotate', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, {
        section: 'keys', title: tr.t('admin.confirm.title'),
        body: html`<form method="post" action="/admin/keys/rotate">${confirmInner(tr, csrf.formToken(request, reply))}</form><p class="links"><a href="/admin/keys">${tr.t('admin.confirm.cancel')}</a></p>`,
      });
    }
    // Audited by the key service's onRotated (`signing-key-rotated`) with the acting admin.
    const outcome = await tryService(() => keys.rotate({ immediate: field(fields, 'immediate') === 'on', actorId: caller.id }));
    if (outcome.ok) return reply.redirect('/admin/keys?notice=rotated', 303);
    return sendConsolePage(request, reply, { section: 'keys', title: tr.t('admin.keys.title'), status: outcome.error.status, error: adminErrorMessage(tr, outcome.error), body: html`` });
  });

  app.post<{ Params: { kid: string } }>('/admin/keys/:kid/retire', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const kid = request.params.kid.slice(0, 128);
    const known = async () => keys.list().some((key) => key.kid === kid) || (await keys.tick(), keys.list().some((key) => key.kid === kid));
    if (!(await known())) return sendConsolePage(request, reply, { section: 'keys', title: tr.t('admin.keys.title'), status: 404, error: tr.t('admin.error.notFound'), body: html`` });
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, {
        section: 'keys', title: tr.t('admin.confirm.title'),
        body: html`${confirmForm(tr, { action: request.url, csrfToken: csrf.formToken(request, reply), question: tr.t('admin.confirm.retireKey', { kid }), submit: tr.t('admin.keys.retire'), danger: true, cancel: '/admin/keys' })}`,
      });
    }
    const unpublish = field(fields, 'unpublish') === 'on';
    // Audited by the key service (`signing-key-retired`) with the acting admin, as through the API.
    const outcome = await tryService(() => keys.retire(kid, { unpublish, actorId: caller.id }));
    if (!outcome.ok) return sendConsolePage(request, reply, { section: 'keys', title: tr.t('admin.keys.title'), status: outcome.error.status, error: adminErrorMessage(tr, outcome.error), body: html`` });
    return reply.redirect('/admin/keys?notice=retired', 303);
  });

  function confirmInner(tr: ReturnType<typeof translatorFor>, token: string) {
    return html`<input type="hidden" name="csrf" value="${token}"><input type="hidden" name="confirm" value="yes">
<p>${tr.t('admin.confirm.rotateKey')}</p>
${checkbox({ name: 'immediate', label: tr.t('admin.keys.immediate'), checked: false })}
<button type="submit">${tr.t('admin.keys.rotate')}</button>`;
  }
}
