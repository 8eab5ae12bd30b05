import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError, type ErrorCode } from '../../../errors/catalog.ts';
import type { Csrf } from '../../../http/csrf.ts';
import { sendErrorPage } from '../../../ui/error-page.ts';
import { checkedForm, field } from '../../../ui/forms.ts';
import { fromUiLocales, translator, translatorFor, type Locale, type MessageKey } from '../../../ui/i18n/index.ts';
import { formActionSource } from '../../../ui/layout.ts';
import { PAGE_GET, pagePost, queryParam } from '../../../ui/routes.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { Client } from '../../clients/model.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { SessionRecord } from '../../sessions/store.ts';
import type { ConsentStore } from '../consents/store.ts';
import { clientRedirect, validateAuthorizationRequest } from './request.ts';
import type { AuthorizationState, Interaction } from './state.ts';
import type { Resolution } from '../par/resolve.ts';
import { acrFor } from '../../mfa/policy.ts';
import { bindContinuation, continuesInSameBrowser } from '../par/continuation.ts';
import { sendConsentPage } from './consent-page.ts';

export interface AuthorizeDeps {
  issuer: string;
  clients: ClientStore;
  consents: ConsentStore;
  state: AuthorizationState;
  auth: SessionAuth;
  csrf: Csrf;
  audit: AuditLog;
  firstPartySkipConsent: boolean;
  /** Verifies our own ID tokens (`id_token_hint`). */
  jwt: { verify(token: string, expect: { typ: string; requiredClaims?: string[]; ignoreExpiry?: boolean }): Promise<Record<string, unknown>> };
  now: () => number;
  /** Pushed authorization requests (RFC 9126, src/features/oauth/par): `request_uri` → its parameters. */
  pushedRequests?: { resolve(params: Record<string, string | string[] | undefined>): Promise<Resolution>; required(client: Client): boolean };
}

const CONTINUE = '/oauth/authorize/continue';

/**
 * Where the browser continues an interaction. It carries the request's `ui_locales` (resolved to
 * one supported locale), so the sign-in page (its `return_to`), the consent page and the error
 * pages after them speak the language the client asked for (OIDC Core §3.1.2.1).
 */
function continueUrl(interactionId: string, locale: Locale | undefined): string {
  return `${CONTINUE}?interaction=${interactionId}${locale ? `&ui_locales=${locale}` : ''}`;
}

/** The interaction id a `return_to` continues, or undefined when it is no continuation. */
export function continuedInteraction(returnTo: string | undefined): string | undefined {
  if (!returnTo?.startsWith(`${CONTINUE}?`)) return undefined;
  return new URLSearchParams(returnTo.slice(CONTINUE.length + 1)).get('interaction') ?? undefined;
}

/** An error page whose text is an `oauth.error.*` message: English for the log, the page's language on screen. */
function failPage(request: FastifyRequest, reply: FastifyReply, code: ErrorCode, key: MessageKey): FastifyReply {
  return sendErrorPage(request, reply, apiError(code, translator('en').t(key)), { message: translatorFor(request).t(key) });
}

/**
 * The authorization endpoint (OAuth 2.1 §4.1, OIDC Core §3.1.2): validate the request
 * (`request.ts`), then sign-in through the hosted `/login` when needed, then consent when needed,
 * then a single-use code delivered to the registered redirect URI with `state` and `iss`.
 * Interactions between those steps live in the ephemeral store, bound to the browser session.
 */
export function registerAuthorizeRoutes(app: FastifyInstance, deps: AuthorizeDeps): void {
  const { state, auth, csrf, consents, now } = deps;

  function errorRedirect(reply: FastifyReply, redirectUri: string, stateValue: string | undefined, error: string, description: string): FastifyReply {
    return reply.redirect(clientRedirect(redirectUri, { error, error_description: description, state: stateValue, iss: deps.issuer }), 303);
  }

  async function start(request: FastifyRequest, reply: FastifyReply, params: Record<string, string | string[] | undefined>): Promise<FastifyReply> {
    const pushed = deps.pushedRequests ? await deps.pushedRequests.resolve(params) : undefined;
    if (pushed && !pushed.ok) return sendErrorPage(request, reply, pushed.error);
    const checked = pushed?.params ?? params;
    const locale = fromUiLocales(typeof checked.ui_locales === 'string' ? checked.ui_locales : undefined);
    const result = await validateAuthorizationRequest(checked, { clients: deps.clients, issuer: deps.issuer, pushed: pushed?.pushed === true, ...(deps.pushedRequests ? { requirePushed: deps.pushedRequests.required } : {}) });
    if (!result.ok) {
      const failure = result.failure;
      if (failure.kind === 'page') return sendErrorPage(request, reply, failure.error);
      return errorRedirect(reply, failure.redirectUri, failure.state, failure.error, failure.description);
    }
    // id_token_hint (OIDC Core §3.1.2.1): one of our ID tokens (possibly expired) naming the user
    // the client expects; anything else — an access token, a forged or foreign token — is refused.
    const hint = typeof checked.id_token_hint === 'string' && checked.id_token_hint !== '' ? checked.id_token_hint : undefined;
    let hintSub: string | undefined;
    if (hint !== undefined) {
      const claims = await deps.jwt.verify(hint, { typ: 'JWT', requiredClaims: ['sub', 'aud'], ignoreExpiry: true }).catch(() => undefined);
      if (!claims || typeof claims.sub !== 'string') return errorRedirect(reply, result.request.redirectUri, result.request.state, 'invalid_request', 'The id_token_hint is not a valid ID token of this server.');
      hintSub = claims.sub;
    }
    const browserBinding = pushed?.pushed === true ? bindContinuation(request, reply) : undefined;
    const interaction = await state.saveInteraction({ request: { ...result.request, prompt: [...result.request.prompt] }, createdAt: now(), ...(hintSub ? { hintSub } : {}), ...(browserBinding ? { browserBinding } : {}) });
    return proceed(request, reply, interaction, result.client, locale);
  }

  /** Sign-in, then consent, then the code — whichever is still missing. */
  async function proceed(request: FastifyRequest, reply: FastifyReply, interaction: Interaction, client: Client, locale: Locale | undefined): Promise<FastifyReply> {
    const { request: authz } = interaction;
    const record = await auth.current(request);
    // Fresh: the user signed in after this request sent them to the sign-in page.
    const freshLogin = record !== undefined && interaction.loginRequested === true && record.session.authTime >= interaction.createdAt;
    const tooOld = record !== undefined && authz.maxAge !== undefined && now() - record.session.authTime > authz.maxAge * 1000 && !freshLogin;
    // A hint naming another user than the signed-in one never switches accounts silently.
    const otherUser = record !== undefined && interaction.hintSub !== undefined && interaction.hintSub !== record.user.id && !freshLogin;
    const needsLogin = !record || tooOld || otherUser || (authz.prompt.includes('login') && !freshLogin);
    if (needsLogin) {
      if (authz.prompt.includes('none')) return finishWithError(reply, interaction, 'login_required', 'The user is not signed in.');
      await state.updateInteraction({ ...interaction, loginRequested: true });
      return reply.redirect(`/login?return_to=${encodeURIComponent(continueUrl(interaction.id, locale))}`, 303);
    }
    // Step-up (OIDC Core §3.1.2.1 acr_values): only MFA-level values requested and a session
    // without a second factor → the second step (or enrolment), then back here.
    if (acrFor(authz.acrValues, record.session.authMethods) === undefined) {
      if (authz.prompt.includes('none')) return finishWithError(reply, interaction, 'interaction_required', 'The requested authentication level needs the user’s second factor.');
      return reply.redirect(`/login/mfa?return_to=${encodeURIComponent(continueUrl(interaction.id, locale))}`, 303);
    }
    const skip = client.firstParty && deps.firstPartySkipConsent;
    const consent = skip ? undefined : await consents.get(record.user.id, client.clientId);
    const covered = skip || (consent !== undefined && authz.scope.every((scope) => consent.scopes.includes(scope)));
    if (!covered || authz.prompt.includes('consent')) {
      if (authz.prompt.includes('none')) return finishWithError(reply, interaction, 'consent_required', 'The user has not consented to this application.');
      // The consent page and its answer belong to this browser session only.
      await state.updateInteraction({ ...interaction, sessionId: record.session.id });
      // A pushed request's ui_locales is not in this URL: continue where it is, so the page speaks it.
      if (locale && translatorFor(request).locale !== locale) return reply.redirect(continueUrl(interaction.id, locale), 303);
      return sendConsentPage(request, reply, { interactionId: interaction.id, client, email: record.user.email, scope: interaction.request.scope, redirectUri: interaction.request.redirectUri, csrfToken: csrf.formToken(request, reply), locale });
    }
    const finished = await state.finishInteraction(interaction.id);
    if (!finished) return failPage(request, reply, 'invalid_request', 'oauth.error.alreadyCompleted');
    return issueCode(reply, finished, record);
  }

  async function finishWithError(reply: FastifyReply, interaction: Interaction, error: string, description: string): Promise<FastifyReply> {
    await state.finishInteraction(interaction.id);
    return errorRedirect(reply, interaction.request.redirectUri, interaction.request.state, error, description);
  }

  async function issueCode(reply: FastifyReply, interaction: Interaction, record: SessionRecord): Promise<FastifyReply> {
    const { request: authz } = interaction;
    const code = await state.issueCode({
      clientId: authz.clientId,
      userId: record.user.id,
      sessionId: record.session.id,
      redirectUri: authz.redirectUri,
      redirectUriSent: authz.redirectUriSent,
      scope: authz.scope,
      audience: authz.audience,
      nonce: authz.nonce,
      codeChallenge: authz.codeChallenge,
      authTime: record.session.authTime,
      amr: record.session.authMethods,
      acr: acrFor(authz.acrValues, record.session.authMethods) ?? '1',
      issuedAt: now(),
    });
    return reply.redirect(clientRedirect(authz.redirectUri, { code, state: authz.state, iss: deps.issuer }), 303);
  }

  const authorizeSchema = { hide: true } as const;
  app.get('/oauth/authorize', { ...PAGE_GET, schema: authorizeSchema }, async (request, reply) => start(request, reply, request.query as Record<string, string | string[] | undefined>));
  // OIDC Core §3.1.2.1: the request may also come as a form POST (a cross-site navigation by design).
  app.post('/oauth/authorize', { ...PAGE_GET, schema: authorizeSchema }, async (request, reply) => {
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return failPage(request, reply, 'invalid_request', 'oauth.error.queryOrForm');
    return start(request, reply, (request.body ?? {}) as Record<string, string | string[] | undefined>);
  });

  app.get(CONTINUE, PAGE_GET, async (request, reply) => {
    const interaction = await state.interaction(queryParam(request, 'interaction') ?? '');
    if (!interaction) return failPage(request, reply, 'invalid_request', 'oauth.error.expired');
    // A pushed request is one-time: its continuation only in the browser that started it (RFC 9126 §7.3).
    if (!continuesInSameBrowser(request, interaction.browserBinding)) return failPage(request, reply, 'invalid_request', 'oauth.error.otherBrowser');
    const client = await deps.clients.get(interaction.request.clientId);
    if (!client) return failPage(request, reply, 'invalid_client', 'oauth.error.clientGone');
    return proceed(request, reply, interaction, client, fromUiLocales(queryParam(request, 'ui_locales')));
  });

  app.post('/oauth/authorize/consent', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return failPage(request, reply, 'unauthenticated', 'oauth.error.sessionEnded');
    const pending = await state.interaction(field(fields, 'interaction'));
    // Bound to one interaction and one browser session: a consent for another request or from
    // another browser is refused (SEC-OAUTH-30).
    if (!pending || pending.sessionId !== record.session.id) return failPage(request, reply, 'invalid_request', 'oauth.error.consentInvalid');
    const interaction = await state.finishInteraction(pending.id);
    if (!interaction) return failPage(request, reply, 'invalid_request', 'oauth.error.consentAnswered');
    const decision = field(fields, 'decision');
    if (decision !== 'allow') {
      await deps.audit.record({ type: 'consent-granted', outcome: 'failure', userId: record.user.id, detail: { client_id: interaction.request.clientId, reason: 'denied' } });
      return errorRedirect(reply, interaction.request.redirectUri, interaction.request.state, 'access_denied', 'The user denied the request.');
    }
    await consents.grant(record.user.id, interaction.request.clientId, interaction.request.scope, now());
    await deps.audit.record({ type: 'consent-granted', outcome: 'success', userId: record.user.id, detail: { client_id: interaction.request.clientId, scope: interaction.request.scope.join(' ') } });
    return issueCode(reply, interaction, record);
  });
}

/** Form-action sources for the sign-in page when it returns into an authorization (see layout.ts). */
export function authorizationFormAction(state: AuthorizationState) {
  return async (returnTo: string | undefined): Promise<string[]> => {
    const id = continuedInteraction(returnTo);
    if (id === undefined) return [];
    const interaction = await state.interaction(id);
    const source = interaction ? formActionSource(interaction.request.redirectUri) : undefined;
    return source ? [source] : [];
  };
}
