import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkedForm, csrfInput, field, type FormFields } from '../../../ui/forms.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { translatorFor, type MessageKey, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import type { Client, ClientMetadata, ClientSource, GrantType, TokenEndpointAuthMethod } from '../../clients/model.ts';
import { changeActor } from '../clients-routes.ts';
import { actionButton, adminErrorMessage, checkbox, confirmForm, lines, noticeFrom, select, sendConsolePage, textarea, tryService } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const GRANTS: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
const METHODS: readonly TokenEndpointAuthMethod[] = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];
const NOTICES = { saved: 'admin.notice.clientSaved', deleted: 'admin.notice.clientDeleted' } as const;

const SOURCES: Readonly<Record<ClientSource, MessageKey>> = { api: 'admin.clients.source.api', cli: 'admin.clients.source.cli', config: 'admin.clients.source.config', dynamic: 'admin.clients.source.dynamic' };

/** "Confidential (has a secret) · Configuration file": the client's type and where it was registered. */
function typeAndSource(tr: Translator, client: Pick<Client, 'type' | 'source'>): string {
  return `${client.type === 'public' ? tr.t('admin.clients.public') : tr.t('admin.clients.confidential')} · ${tr.t(SOURCES[client.source])}`;
}

/** The form as client metadata (the registry validates it as the API's body is validated). */
export function clientInput(fields: FormFields, options: { creating: boolean }): ClientMetadata {
  const method = field(fields, 'token_endpoint_auth_method');
  const type = field(fields, 'type');
  return {
    name: field(fields, 'name').trim(),
    ...(options.creating ? { type: type === 'public' ? 'public' : 'confidential' } : {}),
    ...((METHODS as readonly string[]).includes(method) ? { token_endpoint_auth_method: method as TokenEndpointAuthMethod } : {}),
    grant_types: GRANTS.filter((grant) => field(fields, `grant:${grant}`) === 'on'),
    redirect_uris: lines(fields.redirect_uris),
    post_logout_redirect_uris: lines(fields.post_logout_redirect_uris),
    scopes: lines(fields.scopes),
    audiences: lines(fields.audiences),
    first_party: field(fields, 'first_party') === 'on',
  };
}

function clientForm(tr: Translator, token: string, action: string, client: Partial<Client> | undefined): SafeHtml {
  const creating = client?.clientId === undefined;
  return html`<form method="post" action="${action}">
${csrfInput(token)}
<div class="field"><label for="f-client-name">${tr.t('admin.clients.name')}</label><input type="text" id="f-client-name" name="name" value="${client?.name ?? ''}" maxlength="200" required autocomplete="off"></div>
${creating ? select({ name: 'type', label: tr.t('admin.clients.type'), value: client?.type ?? 'confidential', choices: [{ value: 'confidential', label: tr.t('admin.clients.confidential') }, { value: 'public', label: tr.t('admin.clients.public') }] }) : ''}
${select({ name: 'token_endpoint_auth_method', label: tr.t('admin.clients.authMethod'), value: client?.tokenEndpointAuthMethod ?? '', choices: [{ value: '', label: tr.t('admin.clients.authDefault') }, ...METHODS.map((method) => ({ value: method, label: method }))] })}
<fieldset><legend>${tr.t('admin.clients.grants')}</legend>
${GRANTS.map((grant) => checkbox({ name: `grant:${grant}`, label: grant, checked: client?.grantTypes?.includes(grant) ?? grant === 'authorization_code' }))}
</fieldset>
${textarea({ name: 'redirect_uris', label: tr.t('admin.clients.redirectUris'), value: (client?.redirectUris ?? []).join('\n'), hint: tr.t('admin.onePerLine') })}
${textarea({ name: 'post_logout_redirect_uris', label: tr.t('admin.clients.logoutUris'), value: (client?.postLogoutRedirectUris ?? []).join('\n'), hint: tr.t('admin.onePerLine') })}
${textarea({ name: 'scopes', label: tr.t('admin.clients.scopes'), value: (client?.scopes ?? []).join(' '), hint: tr.t('admin.spaceSeparated') })}
${textarea({ name: 'audiences', label: tr.t('admin.clients.audiences'), value: (client?.audiences ?? []).join('\n'), hint: tr.t('admin.onePerLine') })}
${checkbox({ name: 'first_party', label: tr.t('admin.clients.firstParty'), checked: client?.firstParty ?? false })}
<button type="submit">${creating ? tr.t('admin.clients.createSubmit') : tr.t('admin.save')}</button>
</form>`;
}

/** The one place a client secret is ever shown: the answer to create or rotate, never again. */
function secretPage(request: FastifyRequest, reply: FastifyReply, client: Client, secret: string | undefined, title: string): FastifyReply {
  const tr = translatorFor(request);
  return sendConsolePage(request, reply, {
    section: 'clients',
    title,
    body: html`<section><dl class="admin-facts"><dt>${tr.t('admin.clients.clientId')}</dt><dd><pre data-client-id>${client.clientId}</pre></dd>
${secret === undefined ? '' : html`<dt>${tr.t('admin.clients.secret')}</dt><dd><pre class="admin-secret" data-client-secret>${secret}</pre></dd>`}</dl>
${secret === undefined ? '' : html`<div class="notice" role="status"><p>${tr.t('admin.clients.secretOnce')}</p></div>`}
<p class="links"><a href="/admin/clients/${client.clientId}">${tr.t('admin.clients.open')}</a> · <a href="/admin/clients">${tr.t('admin.clients.back')}</a></p></section>`,
  });
}

/** `/admin/clients`: the client registry, as `/api/admin/clients` (scope admin:clients), audited with the admin. */
export function registerClientPages(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  const { clients, csrf } = deps;
  const scope = ['admin:clients'] as const;
  const fail = (request: FastifyRequest, reply: FastifyReply, error: Parameters<typeof adminErrorMessage>[1], body: SafeHtml = html``) => {
    const tr = translatorFor(request);
    return sendConsolePage(request, reply, { section: 'clients', title: tr.t('admin.clients.title'), status: error.status, error: adminErrorMessage(tr, error), body: html`${body}<p class="links"><a href="/admin/clients">${tr.t('admin.clients.back')}</a></p>` });
  };

  app.get('/admin/clients', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const list = await clients.list();
    return sendConsolePage(request, reply, {
      section: 'clients',
      title: tr.t('admin.clients.title'),
      notice: noticeFrom(tr, request.query, NOTICES),
      body: html`<p><a class="button" href="/admin/clients/new">${tr.t('admin.clients.create')}</a></p>
<section>${list.length === 0 ? html`<p>${tr.t('admin.clients.none')}</p>` : html`<ul class="sessions admin-rows">
${list.map((client) => html`<li><span><a href="/admin/clients/${client.clientId}">${client.name}</a></span><span><code>${client.clientId}</code></span><span>${typeAndSource(tr, client)}</span></li>`)}
</ul>`}</section>`,
    });
  });

  app.get('/admin/clients/new', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    return sendConsolePage(request, reply, { section: 'clients', title: tr.t('admin.clients.create'), body: html`<section>${clientForm(tr, csrf.formToken(request, reply), '/admin/clients', undefined)}</section>` });
  });

  app.post('/admin/clients', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const metadata = clientInput(fields, { creating: true });
    const outcome = await tryService(() => clients.create(metadata, { source: 'api', actor: changeActor(caller) }));
    if (!outcome.ok) return fail(request, reply, outcome.error, html`<section>${clientForm(tr, csrf.formToken(request, reply), '/admin/clients', { name: metadata.name ?? '', type: metadata.type ?? 'confidential', ...(metadata.token_endpoint_auth_method ? { tokenEndpointAuthMethod: metadata.token_endpoint_auth_method } : {}), grantTypes: metadata.grant_types ?? [], redirectUris: metadata.redirect_uris ?? [], postLogoutRedirectUris: metadata.post_logout_redirect_uris ?? [], scopes: metadata.scopes ?? [], audiences: metadata.audiences ?? [], firstParty: metadata.first_party ?? false })}</section>`);
    return secretPage(request, reply, outcome.value.client, outcome.value.clientSecret, tr.t('admin.clients.created'));
  });

  app.get<{ Params: { clientId: string } }>('/admin/clients/:clientId', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const client = await clients.get(request.params.clientId.slice(0, 128));
    if (!client) return sendConsolePage(request, reply, { section: 'clients', title: tr.t('admin.clients.title'), status: 404, error: tr.t('admin.error.notFound'), body: html`` });
    const token = csrf.formToken(request, reply);
    const base = `/admin/clients/${encodeURIComponent(client.clientId)}`;
    return sendConsolePage(request, reply, {
      section: 'clients',
      title: client.name,
      body: html`<p class="links"><a href="/admin/clients">${tr.t('admin.clients.back')}</a></p>
<section><dl class="admin-facts"><dt>${tr.t('admin.clients.clientId')}</dt><dd><code>${client.clientId}</code></dd><dt>${tr.t('admin.clients.type')}</dt><dd>${typeAndSource(tr, client)}</dd></dl>
${actionButton({ action: `${base}/rotate`, csrfToken: token, label: tr.t('admin.clients.rotate'), secondary: true })}
${actionButton({ action: `${base}/delete`, csrfToken: token, label: tr.t('admin.clients.delete'), danger: true })}</section>
<section><h2>${tr.t('admin.clients.edit')}</h2>${clientForm(tr, token, base, client)}</section>`,
    });
  });

  app.post<{ Params: { clientId: string } }>('/admin/clients/:clientId', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const clientId = request.params.clientId.slice(0, 128);
    const outcome = await tryService(() => clients.update(clientId, clientInput(fields, { creating: false }), { actor: changeActor(caller) }));
    if (!outcome.ok) return fail(request, reply, outcome.error);
    return reply.redirect('/admin/clients?notice=saved', 303);
  });

  app.post<{ Params: { clientId: string } }>('/admin/clients/:clientId/rotate', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const clientId = request.params.clientId.slice(0, 128);
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, { section: 'clients', title: tr.t('admin.confirm.title'), body: confirmForm(tr, { action: request.url, csrfToken: csrf.formToken(request, reply), question: tr.t('admin.confirm.rotateSecret', { id: clientId }), submit: tr.t('admin.clients.rotate'), danger: true, cancel: `/admin/clients/${encodeURIComponent(clientId)}` }) });
    }
    const outcome = await tryService(() => clients.rotateSecret(clientId, { actor: changeActor(caller) }));
    if (!outcome.ok) return fail(request, reply, outcome.error);
    return secretPage(request, reply, outcome.value.client, outcome.value.clientSecret, tr.t('admin.clients.rotated'));
  });

  app.post<{ Params: { clientId: string } }>('/admin/clients/:clientId/delete', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const clientId = request.params.clientId.slice(0, 128);
    if (field(fields, 'confirm') !== 'yes') {
      return sendConsolePage(request, reply, { section: 'clients', title: tr.t('admin.confirm.title'), body: confirmForm(tr, { action: request.url, csrfToken: csrf.formToken(request, reply), question: tr.t('admin.confirm.deleteClient', { id: clientId }), submit: tr.t('admin.clients.delete'), danger: true, cancel: `/admin/clients/${encodeURIComponent(clientId)}` }) });
    }
    const outcome = await tryService(() => clients.delete(clientId, { actor: changeActor(caller) }));
    if (!outcome.ok) return fail(request, reply, outcome.error);
    return reply.redirect('/admin/clients?notice=deleted', 303);
  });
}
