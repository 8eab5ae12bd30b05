import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import type { Csrf } from '../../http/csrf.ts';
import type { AuditLog } from '../../features/audit/audit-log.ts';
import type { ClientStore } from '../../features/clients/store.ts';
import type { ConsentStore } from '../../features/oauth/consents/store.ts';
import { SCOPE_TEXT } from '../../features/oauth/authorize/routes.ts';
import type { DeviceInteraction, DeviceState } from '../../features/oauth/device/state.ts';
import { displayUserCode, normalizeUserCode } from '../../features/oauth/device/user-code.ts';
import { clientKey } from '../../features/rate-limit/client-key.ts';
import { tooManyRequests, type RateLimiter, type RateLimitRule } from '../../features/rate-limit/limiter.ts';
import type { SessionAuth } from '../../features/sessions/http.ts';
import { sendErrorPage } from '../error-page.ts';
import { alertBox, checkedForm, csrfInput, field, hiddenInput, input } from '../forms.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, pagePost, queryParam } from '../routes.ts';

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
    return sendPage(reply, {
      title: 'Connect a device',
      ...(view.status ? { status: view.status } : {}),
      ...(view.headers ? { headers: view.headers } : {}),
      body: html`<h1>Connect a device</h1>
${alertBox(view.error)}
<p>Enter the code shown on your TV, console or command line.</p>
<form method="post" action="/device" novalidate>
${csrfInput(csrf.formToken(request, reply))}
${input({ name: 'user_code', label: 'Code', type: 'text', autocomplete: 'one-time-code', value: view.userCode, required: true, maxLength: 64, hint: 'Eight letters, for example BDFH-JKLM. Upper or lower case.' })}
<button type="submit">Continue</button>
</form>`,
    });
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
      const error = tooManyRequests(budget);
      return codeForm(request, reply, { userCode: typed.slice(0, 64), error: error.description, status: error.status, headers: error.headers });
    }
    const found = await state.lookup(typed);
    if (!found) {
      await deps.limiter.hit(rule, ip);
      return codeForm(request, reply, { userCode: typed.slice(0, 64), error: 'That code is not valid or has expired. Check the code on your device.', status: 400 });
    }
    const interaction = await state.saveInteraction({ deviceKey: found.deviceKey, userCodeKey: found.userCodeKey, userCode: displayUserCode(normalizeUserCode(typed)!), expiresAt: found.record.expiresAt });
    return reply.redirect(`${CONFIRM}?interaction=${interaction.id}`, 303);
  });

  const gone = (request: FastifyRequest, reply: FastifyReply) => sendErrorPage(request, reply, apiError('invalid_request', 'This code has expired or was already used. Start again on your device.'));

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
    if (!client) return sendErrorPage(request, reply, apiError('invalid_client', 'This application is no longer registered.'));
    return confirmPage(request, reply, { interaction, clientName: client.name, clientId: client.clientId, scope: record.scope, email: session.user.email });
  });

  function confirmPage(request: FastifyRequest, reply: FastifyReply, view: { interaction: DeviceInteraction; clientName: string; clientId: string; scope: string[]; email: string }): FastifyReply {
    return sendPage(reply, {
      title: `Allow ${view.clientName}?`,
      body: html`<h1>Allow <strong>${view.clientName}</strong> on your device?</h1>
<p>Signed in as <strong>${view.email}</strong>.</p>
<p>Check that your device shows this code: <strong class="user-code">${view.interaction.userCode}</strong>. If it does not, or you did not start this yourself, press Deny.</p>
<p><strong>${view.clientName}</strong> (<code>${view.clientId}</code>) asks to:</p>
<ul>${view.scope.map((scope) => html`<li>${SCOPE_TEXT[scope] ?? `Use “${scope}”`}</li>`)}</ul>
<form method="post" action="${CONFIRM}">
${csrfInput(csrf.formToken(request, reply))}
${hiddenInput('interaction', view.interaction.id)}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>`,
    });
  }

  app.post(CONFIRM, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const session = await auth.current(request);
    if (!session) return sendErrorPage(request, reply, apiError('unauthenticated', 'Your session ended. Start again on your device.'));
    const interaction = await state.interaction(field(fields, 'interaction'));
    // Bound to one browser session: an answer from another browser is refused (SEC-OAUTH-30).
    if (!interaction || interaction.sessionId !== session.session.id) return gone(request, reply);
    const record = await state.record(interaction.deviceKey);
    const approved = field(fields, 'decision') === 'allow';
    const answered = record !== undefined && await state.answer(interaction, { approved, userId: session.user.id, sessionId: session.session.id, authTime: session.session.authTime, amr: session.session.authMethods });
    if (!answered) return gone(request, reply);
    if (!approved) {
      await deps.audit.record({ type: 'consent-granted', outcome: 'failure', userId: session.user.id, detail: { client_id: record.clientId, reason: 'denied', flow: 'device' } });
      return sendPage(reply, { title: 'Request denied', body: html`<h1>Request denied</h1><p>The device was not connected to your account. You can close this page.</p>` });
    }
    await deps.consents.grant(session.user.id, record.clientId, record.scope, deps.now());
    await deps.audit.record({ type: 'consent-granted', outcome: 'success', userId: session.user.id, detail: { client_id: record.clientId, scope: record.scope.join(' '), flow: 'device' } });
    return sendPage(reply, { title: 'Device connected', body: html`<h1>Device connected</h1><div class="notice" role="status"><p>You are all set. Return to your device; it continues on its own.</p></div>` });
  });
}
