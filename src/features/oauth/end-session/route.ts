import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { Csrf } from '../../../http/csrf.ts';
import { sendErrorPage } from '../../../ui/error-page.ts';
import { checkedForm, csrfInput, hiddenInput } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { formActionSource, sendPage } from '../../../ui/layout.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { SessionService } from '../../sessions/service.ts';
import { clientRedirect } from '../authorize/request.ts';

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
  async function parse(params: Record<string, unknown>): Promise<LogoutRequest | { error: string }> {
    for (const [name, value] of Object.entries(params)) if (Array.isArray(value)) return { error: `The parameter ${name.slice(0, 40)} appears more than once.` };
    const text = (name: string) => (typeof params[name] === 'string' && params[name] !== '' ? (params[name] as string) : undefined);
    const hint = text('id_token_hint');
    let hintClaims: Record<string, unknown> | undefined;
    if (hint !== undefined) {
      hintClaims = await deps.jwt.verify(hint, { typ: 'JWT', requiredClaims: ['sub', 'aud'], ignoreExpiry: true }).catch(() => undefined);
      if (!hintClaims) return { error: 'The id_token_hint is not a valid ID token of this server.' };
    }
    const hintAud = hintClaims ? (Array.isArray(hintClaims.aud) ? hintClaims.aud[0] : hintClaims.aud) : undefined;
    const clientId = text('client_id') ?? (typeof hintAud === 'string' ? hintAud : undefined);
    if (hintClaims && text('client_id') !== undefined && text('client_id') !== hintAud) return { error: 'client_id does not match the id_token_hint.' };
    const postLogout = text('post_logout_redirect_uri');
    let redirect: string | undefined;
    // Only a valid id_token_hint of ours lets the logout end at the application (SEC-OIDF-16);
    // without one the user still signs out, and stays on Gatehouse.
    if (postLogout !== undefined && hintClaims === undefined) return { redirect: undefined, clientId, postLogout: undefined, state: undefined, hint: undefined, hintSid: undefined, hintSub: undefined };
    if (postLogout !== undefined) {
      const client = clientId ? await deps.clients.get(clientId) : undefined;
      if (!client || !client.postLogoutRedirectUris.includes(postLogout)) return { error: 'The post_logout_redirect_uri is not registered for this application.' };
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

  const done = (reply: FastifyReply, logout: LogoutRequest) => reply.redirect(logout.redirect ?? '/login?notice=signed-out', 303);

  async function handle(request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>): Promise<FastifyReply> {
    const logout = await parse(params);
    if ('error' in logout) return sendErrorPage(request, reply, apiError('invalid_request', logout.error));
    const record = await deps.auth.current(request);
    if (!record) return done(reply, logout);
    if (logout.hintSid !== undefined && logout.hintSid === record.session.id && logout.hintSub === record.user.id) {
      await endSession(request, reply);
      return done(reply, logout);
    }
    // No proof the application speaks for this session: ask the user.
    const source = logout.redirect ? formActionSource(logout.redirect) : undefined;
    return sendPage(reply, {
      title: 'Sign out?',
      formAction: source ? [source] : [],
      body: html`<h1>Sign out?</h1>
<p>An application asks to sign you out of Gatehouse (<strong>${record.user.email}</strong>).</p>
<form method="post" action="/oauth/end-session/confirm">
${csrfInput(deps.csrf.formToken(request, reply))}
${logout.clientId ? hiddenInput('client_id', logout.clientId) : ''}
${logout.postLogout ? hiddenInput('post_logout_redirect_uri', logout.postLogout) : ''}
${logout.state ? hiddenInput('state', logout.state) : ''}
${logout.hint && logout.postLogout ? hiddenInput('id_token_hint', logout.hint) : ''}
<button type="submit">Sign out</button>
</form>
<p class="links"><a href="/account">Stay signed in</a></p>`,
    });
  }

  app.get('/oauth/end-session', PAGE_GET, (request, reply) => handle(request, reply, request.query as Record<string, unknown>));
  app.post('/oauth/end-session', PAGE_GET, (request, reply) => handle(request, reply, (request.body ?? {}) as Record<string, unknown>));
  app.post('/oauth/end-session/confirm', pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    // The same checks again: only a URI registered for the named client is followed.
    const logout = await parse({ client_id: fields.client_id, post_logout_redirect_uri: fields.post_logout_redirect_uri, state: fields.state, id_token_hint: fields.id_token_hint });
    await endSession(request, reply);
    return reply.redirect('error' in logout ? '/login?notice=signed-out' : (logout.redirect ?? '/login?notice=signed-out'), 303);
  });
}
