import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkedForm, csrfInput, field, type FormFields } from '../../../ui/forms.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { translatorFor, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import { callbackUrl, type Provider } from '../../social/providers.ts';
import { changeActor } from '../clients-routes.ts';
import { actionButton, adminErrorMessage, checkbox, confirmForm, lines, noticeFrom, select, sendConsolePage, textarea, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const NOTICES = { created: 'admin.notice.providerCreated', saved: 'admin.notice.providerSaved', deleted: 'admin.notice.providerDeleted' } as const;
const BASE = '/admin/identity-providers';

/** The form as the admin API's body: only the fields filled in (a preset fills the rest); a blank secret keeps the current one. */
export function providerInput(fields: FormFields, options: { creating: boolean }): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const name of ['id', 'name', 'issuer', 'client_id', 'client_secret'] as const) {
    const value = field(fields, name).trim();
    if (value !== '' && (options.creating || name !== 'id')) body[name] = value;
  }
  const preset = field(fields, 'preset');
  if (options.creating && (preset === 'google' || preset === 'github')) body.preset = preset;
  const type = field(fields, 'type');
  if (options.creating && body.preset === undefined && (type === 'oidc' || type === 'oauth2')) body.type = type;
  const scopes = lines(fields.scopes);
  if (scopes.length > 0) body.scopes = scopes;
  body.enabled = field(fields, 'enabled') === 'on';
  return body;
}

function providerForm(tr: Translator, token: string, action: string, provider: Provider | undefined): SafeHtml {
  const creating = provider === undefined;
  const text = (name: string, label: string, value: string, required = false) => html`<div class="field"><label for="f-p-${name}">${label}</label><input type="text" id="f-p-${name}" name="${name}" value="${value}" maxlength="2000" autocomplete="off"${required ? html` required` : ''}></div>`;
  return html`<form method="post" action="${action}">
${csrfInput(token)}
${creating ? html`${text('id', tr.t('admin.providers.id'), '', true)}
${select({ name: 'preset', label: tr.t('admin.providers.preset'), value: '', choices: [{ value: '', label: tr.t('admin.providers.noPreset') }, { value: 'google', label: 'Google' }, { value: 'github', label: 'GitHub' }] })}
${select({ name: 'type', label: tr.t('admin.providers.type'), value: 'oidc', choices: [{ value: 'oidc', label: 'OpenID Connect' }, { value: 'oauth2', label: 'OAuth 2.0' }] })}` : ''}
${text('name', tr.t('admin.providers.name'), provider?.name ?? '')}
${text('issuer', tr.t('admin.providers.issuer'), provider?.issuer ?? '')}
${text('client_id', tr.t('admin.providers.clientId'), provider?.client_id ?? '', creating)}
<div class="field"><label for="f-p-secret">${tr.t('admin.providers.clientSecret')}</label>${creating ? '' : html`<p class="hint" id="f-p-secret-hint">${tr.t('admin.providers.secretKeep')}</p>`}<input type="password" id="f-p-secret" name="client_secret" autocomplete="off" maxlength="1000"${creating ? html` required` : html` aria-describedby="f-p-secret-hint"`}></div>
${textarea({ name: 'scopes', label: tr.t('admin.providers.scopes'), value: (provider?.scopes ?? []).join(' '), hint: tr.t('admin.spaceSeparated') })}
${checkbox({ name: 'enabled', label: tr.t('admin.providers.enabled'), checked: provider?.enabled ?? true })}
<button type="submit">${creating ? tr.t('admin.providers.createSubmit') : tr.t('admin.save')}</button>
</form>`;
}

/** `/admin/identity-providers`: the provider registry, as `/api/admin/identity-providers` (scope admin:identity-providers). */
export function registerProviderPages(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  const { providers, csrf } = deps;
  const scope = ['admin:identity-providers'] as const;
  const fail = (request: FastifyRequest, reply: FastifyReply, error: Parameters<typeof adminErrorMessage>[1]) => {
    const tr = translatorFor(request);
    return sendConsolePage(request, reply, { section: 'providers', title: tr.t('admin.providers.title'), status: error.status, error: adminErrorMessage(tr, error), body: html`<p class="links"><a href="${BASE}">${tr.t('admin.providers.back')}</a></p>` });
  };

  app.get(BASE, PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const list = await providers.list();
    return sendConsolePage(request, reply, {
      section: 'providers',
      title: tr.t('admin.providers.title'),
      notice: noticeFrom(tr, request.query, NOTICES),
      body: html`<section>${list.length === 0 ? html`<p>${tr.t('admin.providers.none')}</p>` : html`<ul class="sessions admin-rows">
${list.map((provider) => html`<li><span>${provider.source === 'api' ? html`<a href="${BASE}/${provider.id}">${provider.name}</a>` : provider.name}</span><span><code>${provider.id}</code> ${provider.issuer}</span><span>${provider.enabled ? tr.t('admin.providers.on') : tr.t('admin.providers.off')} · ${provider.source}</span></li>`)}
</ul>`}</section>
<section><h2>${tr.t('admin.providers.create')}</h2>${providerForm(tr, csrf.formToken(request, reply), BASE, undefined)}</section>`,
    });
  });

  app.post(BASE, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const outcome = await tryService(() => providers.create(providerInput(fields, { creating: true }), changeActor(caller)));
    return outcome.ok ? reply.redirect(`${BASE}?notice=created`, 303) : fail(request, reply, outcome.error);
  });

  app.get<{ Params: { id: string } }>(`${BASE}/:id`, PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const provider = await providers.get(request.params.id.slice(0, 32));
    if (!provider) return sendConsolePage(request, reply, { section: 'providers', title: tr.t('admin.providers.title'), status: 404, error: tr.t('admin.error.notFound'), body: html`` });
    const token = csrf.formToken(request, reply);
    return sendConsolePage(request, reply, {
      section: 'providers',
      title: provider.name,
      body: html`<p class="links"><a href="${BASE}">${tr.t('admin.providers.back')}</a></p>
<section><p>${tr.t('admin.providers.callback')} <code>${callbackUrl(deps.publicUrl, provider.id)}</code></p>
${actionButton({ action: `${BASE}/${provider.id}/delete`, csrfToken: token, label: tr.t('admin.providers.delete'), danger: true })}</section>
<section><h2>${tr.t('admin.providers.edit')}</h2>${providerForm(tr, token, `${BASE}/${provider.id}`, provider)}</section>`,
    });
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id`, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const outcome = await tryService(() => providers.update(request.params.id.slice(0, 32), providerInput(fields, { creating: false }), changeActor(caller)));
    return outcome.ok ? reply.redirect(`${BASE}?notice=saved`, 303) : fail(request, reply, outcome.error);
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id/delete`, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const id = request.params.id.slice(0, 32);
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, { section: 'providers', title: tr.t('admin.confirm.title'), body: confirmForm(tr, { action: request.url, csrfToken: csrf.formToken(request, reply), question: tr.t('admin.confirm.deleteProvider', { id }), submit: tr.t('admin.providers.delete'), danger: true, cancel: `${BASE}/${id}` }) });
    }
    const outcome = await tryService(() => providers.remove(id, changeActor(caller)));
    return outcome.ok ? reply.redirect(`${BASE}?notice=deleted`, 303) : fail(request, reply, outcome.error);
  });
}
