import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { Csrf } from '../../../http/csrf.ts';
import { sendErrorPage } from '../../../ui/error-page.ts';
import { checkedForm, csrfInput, hiddenInput } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { fromUiLocales, translator, translatorFor, type Locale, type MessageKey } from '../../../ui/i18n/index.ts';
import { formActionSource, sendPage } from '../../../ui/layout.ts';
import { currentBrand } from '../../../ui/theme/brand.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { SessionService } from '../../sessions/service.ts';
import { clientRedirect } from '../authorize/request.ts';
import { clientBrand } from '../authorize/consent-page.ts';

interface JWTVerifier {
  verify(token: string, expect: { typ: string; requiredClaims?: string[]; ignoreExpiry?: boolean }): Promise<Record<string, unknown>>;
}

interface LogoutRequest {
  redirect: string | undefined;
  clientId: string | undefined;
  postLogout: string | undefined;
  state: string | undefined;
  hint: string | undefined;
  hintSid: string | undefined;
  hintSub: string | undefined;
}

/**
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at `/oauth/end-session`.
 * `post_logout_redirect_uri` must be registered for the client named by the `id_token_hint`
 * (or `client_id`), else an error page and no redirect (SEC-OAUTH-04). The session ends at once
 * when the hint names it; otherwise the user confirms with a CSRF-protected form, so a
 * cross-site link cannot sign anyone out. Ending the session revokes the tokens tied to it.
 */
export function registerEndSessionRoutes(app: FastifyInstance, deps: { issuer: string; clients: ClientStore; jwt: JWTVerifier; auth: SessionAuth; sessions: SessionService; csrf: Csrf; audit: AuditLog }): void {
  // Refusals name an `oauth.signOut.*` message: the page shows it in the page's language.
  async function parse(params: Record<string, unknown>): Promise<LogoutRequest | { error: MessageKey }> {
    for (const value of Object.values(params)) if (Array.isArray(value)) return { error: 'oauth.signOut.repeatedParameter' };
    const text = (name: string) => (typeof params[name] === 'string' && params[name] !== '' ? (params[name] as string) : undefined);
    const hint = text('id_token_hint');
    let hintClaims: Record<string, unknown> | undefined;
    if (hint !== undefined) {
      hintClaims = await deps.jwt.verify(hint, { typ: 'JWT', requiredClaims: ['sub', 'aud'], ignoreExpiry: true }).catch(() => undefined);
      if (!hintClaims) return { error: 'oauth.signOut.invalidHint' };
    }
    const hintAud = hintClaims ? (Array.isArray(hintClaims.aud) ? hintClaims.aud[0] : hintClaims.aud) : undefined;
    const clientId = text('client_id') ?? (typeof hintAud === 'string' ? hintAud : undefined);
    if (hintClaims && text('client_id') !== undefined && text('client_id') !== hintAud) return { error: 'oauth.signOut.clientMismatch' };
    const postLogout = text('post_logout_redirect_uri');
    let redirect: string | undefined;
    // Only a valid id_token_hint of ours lets the logout end at the application (SEC-OIDF-16);
    // without one the user still signs out, and stays on Gatehouse.
    if (postLogout !== undefined && hintClaims === undefined) return { redirect: undefined, clientId, postLogout: undefined, state: undefined, hint: undefined, hintSid: undefined, hintSub: undefined };
    if (postLogout !== undefined) {
      const client = clientId ? await deps.clients.get(clientId) : undefined;
      if (!client || !client.postLogoutRedirectUris.includes(postLogout)) return { error: 'oauth.signOut.unregisteredRedirect' };
      redirect = clientRedirect(postLogout, { state: text('state')?.slice(0, 2048) });
    }
    return {
      redirect,
      clientId,
      postLogout,
      state: text('state')?.slice(0, 2048),
      hint,
      hintSid: typeof hintClaims?.sid === 'string' ? hintClaims.sid : undefined,
      hintSub: typeof hintClaims?.sub === 'string' ? hintClaims.sub : undefined,
    };
  }

  async function endSession(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const record = await deps.auth.current(request);
    if (record) {
      await deps.sessions.revoke(record.session.id, record.user.id);
      await deps.audit.record({ type: 'sign-out', outcome: 'success', userId: record.user.id, detail: { via: 'end-session' } });
    }
    deps.auth.forget(request);
    deps.auth.clearCookie(reply);
    deps.csrf.renew(reply);
  }

  // RP-Initiated Logout §2 ui_locales: the sign-out pages, and the sign-in page after them, keep the language.
  const uiLocale = (value: unknown): Locale | undefined => fromUiLocales(typeof value === 'string' ? value : undefined);
  const signedOut = (locale: Locale | undefined) => `/login?notice=signed-out${locale ? `&ui_locales=${locale}` : ''}`;
  const done = (reply: FastifyReply, logout: LogoutRequest, locale: Locale | undefined) => reply.redirect(logout.redirect ?? signedOut(locale), 303);

  async function handle(request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>): Promise<FastifyReply> {
    const logout = await parse(params);
    if ('error' in logout) return sendErrorPage(request, reply, apiError('invalid_request', translator('en').t(logout.error)), { message: translatorFor(request).t(logout.error) });
    const locale = uiLocale(params.ui_locales);
    const record = await deps.auth.current(request);
    if (!record) return done(reply, logout, locale);
    if (logout.hintSid !== undefined && logout.hintSid === record.session.id && logout.hintSub === record.user.id) {
      await endSession(request, reply);
      return done(reply, logout, locale);
    }
    // No proof the application speaks for this session: ask the user, naming the application
    // when client_id or id_token_hint identifies a registered one.
    const client = logout.clientId ? await deps.clients.get(logout.clientId) : undefined;
    const tr = translatorFor(request);
    const product = currentBrand().productName;
    const source = logout.redirect ? formActionSource(logout.redirect) : undefined;
    return sendPage(reply, {
      title: tr.t('oauth.signOut.title'),
      formAction: source ? [source] : [],
      ...(client ? { client: clientBrand(client) } : {}),
      body: html`<h1>${tr.t('oauth.signOut.title')}</h1>
<p>${client ? tr.tHtml('oauth.signOut.clientAsks', { client: html`<strong>${client.name}</strong>`, product }) : tr.t('oauth.signOut.someoneAsks', { product })}
${tr.tHtml('oauth.signOut.signedInAs', { email: html`<strong>${record.user.email}</strong>` })}</p>
<form method="post" action="/oauth/end-session/confirm">
${csrfInput(deps.csrf.formToken(request, reply))}
${logout.clientId ? hiddenInput('client_id', logout.clientId) : ''}
${logout.postLogout ? hiddenInput('post_logout_redirect_uri', logout.postLogout) : ''}
${logout.state ? hiddenInput('state', logout.state) : ''}
${logout.hint && logout.postLogout ? hiddenInput('id_token_hint', logout.hint) : ''}
${locale ? hiddenInput('ui_locales', locale) : ''}
<button type="submit">${tr.t('oauth.signOut.confirm')}</button>
</form>
<p class="links"><a href="/account">${tr.t('oauth.signOut.stay')}</a></p>`,
    });
  }

  app.get('/oauth/end-session', PAGE_GET, (request, reply) => handle(request, reply, request.query as Record<string, unknown>));
  app.post('/oauth/end-session', PAGE_GET, (request, reply) => handle(request, reply, (request.body ?? {}) as Record<string, unknown>));
  app.post('/oauth/end-session/confirm', pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    // The same checks again: only a URI registered for the named client is followed.
    const logout = await parse({ client_id: fields.client_id, post_logout_redirect_uri: fields.post_logout_redirect_uri, state: fields.state, id_token_hint: fields.id_token_hint });
    await endSession(request, reply);
    const locale = uiLocale(fields.ui_locales);
    return reply.redirect('error' in logout ? signedOut(locale) : (logout.redirect ?? signedOut(locale)), 303);
  });
}
