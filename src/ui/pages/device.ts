import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import type { Csrf } from '../../http/csrf.ts';
import type { AuditLog } from '../../features/audit/audit-log.ts';
import type { ClientStore } from '../../features/clients/store.ts';
import type { ConsentStore } from '../../features/oauth/consents/store.ts';
import { clientBrand } from '../../features/oauth/authorize/consent-page.ts';
import type { Client } from '../../features/clients/model.ts';
import type { DeviceInteraction, DeviceState } from '../../features/oauth/device/state.ts';
import { displayUserCode, normalizeUserCode } from '../../features/oauth/device/user-code.ts';
import { clientKey } from '../../features/rate-limit/client-key.ts';
import { type RateLimiter, type RateLimitRule } from '../../features/rate-limit/limiter.ts';
import type { SessionAuth } from '../../features/sessions/http.ts';
import { sendErrorPage } from '../error-page.ts';
import { checkedForm, errorSummary, csrfInput, field, hiddenInput, input } from '../forms.ts';
import { html } from '../html.ts';
import { translator, translatorFor, type MessageKey } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, pagePost, queryParam } from '../routes.ts';
import { scopeDescriptions } from '../scopes.ts';

export interface DevicePagesDeps {
  state: DeviceState;
  clients: ClientStore;
  consents: ConsentStore;
  auth: SessionAuth;
  csrf: Csrf;
  audit: AuditLog;
  limiter: RateLimiter;
  /** Wrong user codes per client IP (IPv6 by /64) per 15 minutes, counted on every instance. */
  attemptsPerIp: number;
  now: () => number;
}

const CONFIRM = '/device/confirm';

/**
 * The user's side of the device flow (RFC 8628 §3.3): `/device` takes the code shown on the
 * device (or pre-filled from `verification_uri_complete`, still confirmed by a button press),
 * then the hosted sign-in, then `/device/confirm` names the application, its scopes and the code
 * once more (RFC 8628 §5.4: the user checks it matches the device in front of them — so this page
 * is shown even when consent was given before), and the answer ends on a "return to your device"
 * page. The code step is bound to the browser session from the first signed-in view.
 *
 * | page            | GET                               | POST                                  |
 * | --------------- | --------------------------------- | ------------------------------------- |
 * | /device         | code form (`?user_code=` fills it)| check the code (rate limited) → confirm |
 * | /device/confirm | sign-in if needed, then confirm   | allow / deny (user code used up)      |
 */
export function registerDevicePages(app: FastifyInstance, deps: DevicePagesDeps): void {
  const { state, auth, csrf } = deps;
  const rule: RateLimitRule = { name: 'device-user-code:ip', limit: deps.attemptsPerIp, windowMs: 15 * 60_000 };

  function codeForm(request: FastifyRequest, reply: FastifyReply, view: { userCode?: string; error?: string; status?: number; headers?: Readonly<Record<string, string>> }): FastifyReply {
    const tr = translatorFor(request);
    return sendPage(reply, {
      title: tr.t('oauth.device.title'),
      ...(view.status ? { status: view.status } : {}),
      ...(view.headers ? { headers: view.headers } : {}),
      body: html`<h1>${tr.t('oauth.device.title')}</h1>
${errorSummary(tr.t('common.errorSummary', { count: 1 }), view.error ? [{ field: 'user_code', message: view.error }] : [])}
<p>${tr.t('oauth.device.intro')}</p>
<form method="post" action="/device" novalidate>
${csrfInput(csrf.formToken(request, reply))}
${input({ name: 'user_code', label: tr.t('oauth.device.codeLabel'), type: 'text', autocomplete: 'one-time-code', value: view.userCode, required: true, maxLength: 64, hint: tr.t('oauth.device.codeHint'), ...(view.error ? { error: view.error } : {}) })}
<button type="submit">${tr.t('oauth.device.continue')}</button>
</form>`,
    });
  }

  /** An error page for this flow: its text in the page's language, its link back to the code form. */
  function fail(request: FastifyRequest, reply: FastifyReply, code: 'invalid_request' | 'invalid_client' | 'unauthenticated', key: MessageKey): FastifyReply {
    const tr = translatorFor(request);
    return sendErrorPage(request, reply, apiError(code, translator('en').t(key)), { message: tr.t(key), back: { href: '/device', label: tr.t('oauth.device.enterCode') } });
  }

  app.get('/device', PAGE_GET, async (request, reply) => {
    const prefilled = queryParam(request, 'user_code')?.slice(0, 64);
    return codeForm(request, reply, prefilled ? { userCode: prefilled } : {});
  });

  app.post('/device', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const typed = field(fields, 'user_code');
    const ip = clientKey(request.ip);
    // Guessing budget shared by every instance: only wrong codes count (SEC-PWD-12 style).
    const budget = await deps.limiter.peek(rule, ip);
    if (!budget.allowed) {
      const seconds = Math.max(1, Math.ceil(budget.retryAfterSeconds));
      const tr = translatorFor(request);
      return codeForm(request, reply, { userCode: typed.slice(0, 64), error: tr.t('oauth.device.tooManyAttempts', { duration: tr.duration(seconds) }), status: 429, headers: { 'retry-after': String(seconds) } });
    }
    const found = await state.lookup(typed);
    if (!found) {
      await deps.limiter.hit(rule, ip);
      return codeForm(request, reply, { userCode: typed.slice(0, 64), error: translatorFor(request).t('oauth.device.invalidCode'), status: 400 });
    }
    const interaction = await state.saveInteraction({ deviceKey: found.deviceKey, userCodeKey: found.userCodeKey, userCode: displayUserCode(normalizeUserCode(typed)!), expiresAt: found.record.expiresAt });
    return reply.redirect(`${CONFIRM}?interaction=${interaction.id}`, 303);
  });

  const gone = (request: FastifyRequest, reply: FastifyReply) => fail(request, reply, 'invalid_request', 'oauth.device.gone');

  app.get(CONFIRM, PAGE_GET, async (request, reply) => {
    const interaction = await state.interaction(queryParam(request, 'interaction') ?? '');
    const record = interaction ? await state.record(interaction.deviceKey) : undefined;
    if (!interaction || !record || record.status !== 'pending') return gone(request, reply);
    const session = await auth.current(request);
    if (!session) return reply.redirect(`/login?return_to=${encodeURIComponent(`${CONFIRM}?interaction=${interaction.id}`)}`, 303);
    // The confirmation and its answer belong to this browser session only.
    if (interaction.sessionId !== undefined && interaction.sessionId !== session.session.id) return gone(request, reply);
    if (interaction.sessionId === undefined) await state.updateInteraction({ ...interaction, sessionId: session.session.id });
    const client = await deps.clients.get(record.clientId);
    if (!client) return fail(request, reply, 'invalid_client', 'oauth.error.clientGone');
    return confirmPage(request, reply, { interaction, client, scope: record.scope, email: session.user.email });
  });

  function confirmPage(request: FastifyRequest, reply: FastifyReply, view: { interaction: DeviceInteraction; client: Client; scope: string[]; email: string }): FastifyReply {
    const tr = translatorFor(request);
    const name = html`<strong>${view.client.name}</strong>`;
    return sendPage(reply, {
      title: tr.t('oauth.device.confirmTitle', { client: view.client.name }),
      client: clientBrand(view.client),
      body: html`<h1>${tr.tHtml('oauth.device.confirmHeading', { client: name })}</h1>
<p>${tr.tHtml('oauth.consent.signedInAs', { email: html`<strong>${view.email}</strong>` })}</p>
<p>${tr.tHtml('oauth.device.checkCode', { code: html`<strong class="user-code">${view.interaction.userCode}</strong>` })}</p>
<p>${tr.tHtml('oauth.consent.wantsTo', { client: name, clientId: html`<code>${view.client.clientId}</code>` })}</p>
<ul>${scopeDescriptions(tr, view.scope).map((text) => html`<li>${text}</li>`)}</ul>
<form method="post" action="${CONFIRM}">
${csrfInput(csrf.formToken(request, reply))}
${hiddenInput('interaction', view.interaction.id)}
<button type="submit" name="decision" value="allow">${tr.t('oauth.consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${tr.t('oauth.consent.deny')}</button>
</form>`,
    });
  }

  app.post(CONFIRM, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const session = await auth.current(request);
    if (!session) return fail(request, reply, 'unauthenticated', 'oauth.device.sessionEnded');
    const interaction = await state.interaction(field(fields, 'interaction'));
    // Bound to one browser session: an answer from another browser is refused (SEC-OAUTH-30).
    if (!interaction || interaction.sessionId !== session.session.id) return gone(request, reply);
    const record = await state.record(interaction.deviceKey);
    const approved = field(fields, 'decision') === 'allow';
    const answered = record !== undefined && await state.answer(interaction, { approved, userId: session.user.id, sessionId: session.session.id, authTime: session.session.authTime, amr: session.session.authMethods });
    if (!answered) return gone(request, reply);
    const tr = translatorFor(request);
    const client = await deps.clients.get(record.clientId);
    const clientName = client?.name ?? record.clientId;
    const brand = client ? { client: clientBrand(client) } : {};
    if (!approved) {
      await deps.audit.record({ type: 'consent-granted', outcome: 'failure', userId: session.user.id, detail: { client_id: record.clientId, reason: 'denied', flow: 'device' } });
      return sendPage(reply, { title: tr.t('oauth.device.deniedTitle'), ...brand, body: html`<h1>${tr.t('oauth.device.deniedTitle')}</h1><p>${tr.t('oauth.device.deniedText', { client: clientName })}</p>` });
    }
    await deps.consents.grant(session.user.id, record.clientId, record.scope, deps.now());
    await deps.audit.record({ type: 'consent-granted', outcome: 'success', userId: session.user.id, detail: { client_id: record.clientId, scope: record.scope.join(' '), flow: 'device' } });
    return sendPage(reply, { title: tr.t('oauth.device.connectedTitle'), ...brand, body: html`<h1>${tr.t('oauth.device.connectedTitle')}</h1><div class="notice" role="status"><p>${tr.t('oauth.device.connectedText', { client: clientName })}</p></div>` });
  });
}
