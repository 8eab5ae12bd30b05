import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError, type ApiError } from '../../errors/catalog.ts';
import { clearedHostCookie, hostCookie, readCookie } from '../../http/cookies.ts';
import { randomToken } from '../../crypto/random.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { SignInResult } from '../../features/password-login/service.ts';
import { PROVIDER_ID } from '../../features/social/providers.ts';
import type { PendingLinkView, SocialSignIn } from '../../features/social/service.ts';
import { setPendingCookie } from '../../features/mfa/http.ts';
import { secondStepUrl } from './mfa.ts';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, errorSummary, field, hiddenInput, input, noticeBox } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { DEFAULT_RETURN_TO, safeReturnTo } from '../return-to.ts';
import { PAGE_GET, attempt, pagePost, queryParam, signInErrorMessage } from '../routes.ts';
import { LOGIN_FOR_ACCOUNT, accountRenderer } from './account.ts';

/** Binds a social-login transaction to this browser (SEC-OAUTH-31); sent back on the upstream's top-level redirect (Lax). */
export const SOCIAL_BINDING_COOKIE = '__Host-gatehouse-social';
/** Names the pending link of this browser (an upstream identity waiting for proof of the account). */
export const PENDING_LINK_COOKIE = '__Host-gatehouse-link';
const COOKIE_MAX_AGE_SECONDS = 15 * 60;

/**
 * Social-login pages (docs/social-login.md):
 *
 * | path                                   | GET                               | POST                                |
 * | -------------------------------------- | --------------------------------- | ----------------------------------- |
 * | /login/social/:provider                | start: 303 to the upstream        | —                                   |
 * | /login/social/:provider/callback       | finish: session, link or refusal  | —                                   |
 * | /login/social/link                     | "prove this account is yours"     | proof by password                   |
 * | /login/social/link/email               | —                                 | mail a confirmation link            |
 * | /login/social/link/confirm?token=      | confirm button (not used up)      | proof by the mailed link            |
 * | /account/identities/link/:provider     | —                                 | link another provider (CSRF, recent sign-in) |
 * | /account/identities/:id/unlink         | —                                 | remove a linked identity            |
 *
 * Starting a sign-in is a GET (a link on /login): it only creates a transaction bound to this
 * browser, which an attacker cannot finish. Linking from /account changes the account, so it is
 * a POST with the CSRF token.
 */
export function registerSocialPages(app: FastifyInstance, deps: PagesDeps): void {
  const social = deps.social;
  if (!social) return;
  const { csrf, auth } = deps;
  const renderAccount = accountRenderer(deps);

  /** The browser's binding value, created on first use and kept (two tabs may sign in at once). */
  function binding(request: FastifyRequest, reply: FastifyReply): string {
    const existing = readCookie(request.headers.cookie, SOCIAL_BINDING_COOKIE);
    const value = existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken(32);
    reply.header('set-cookie', hostCookie(SOCIAL_BINDING_COOKIE, value, { maxAgeSeconds: COOKIE_MAX_AGE_SECONDS }));
    return value;
  }

  function providerParam(request: FastifyRequest<{ Params: { provider?: string } }>): string {
    const id = request.params.provider ?? '';
    if (!PROVIDER_ID.test(id)) throw apiError('not_found', translatorFor(request).t('signIn.social.noProvider'));
    return id;
  }

  /** The same session hand-over as a password sign-in (SEC-SESS-01). */
  async function signIn(request: FastifyRequest, reply: FastifyReply, result: SignInResult, returnTo: string | null): Promise<FastifyReply> {
    await auth.handOver(request, reply, result, deps.onSessionReplaced);
    csrf.renew(reply);
    return reply.redirect(safeReturnTo(returnTo) ?? DEFAULT_RETURN_TO, 303);
  }

  /** A session, or the second step for a user with MFA: no session yet, only the pending cookie (docs/mfa.md). */
  async function signInOrSecondStep(request: FastifyRequest, reply: FastifyReply, outcome: SocialSignIn): Promise<FastifyReply> {
    if (outcome.kind === 'signed-in') return signIn(request, reply, outcome.result, outcome.returnTo);
    setPendingCookie(reply, outcome.pendingToken);
    return reply.redirect(secondStepUrl(safeReturnTo(outcome.returnTo)), 303);
  }

  app.get<{ Params: { provider: string } }>('/login/social/:provider', PAGE_GET, async (request, reply) => {
    const url = await social.start(providerParam(request), { binding: binding(request, reply), returnTo: safeReturnTo(queryParam(request, 'return_to')) }, clientInfo(request));
    return reply.redirect(url.href, 303);
  });

  app.get<{ Params: { provider: string } }>('/login/social/:provider/callback', PAGE_GET, async (request, reply) => {
    const providerId = providerParam(request);
    const rawUrl = request.raw.url ?? '';
    const query = rawUrl.includes('?') ? rawUrl.slice(rawUrl.indexOf('?') + 1) : '';
    const params = new URLSearchParams(query);
    const states = params.getAll('state');
    const outcome = await social.callback(providerId, {
      query,
      state: states.length === 1 ? states[0] : undefined,
      binding: readCookie(request.headers.cookie, SOCIAL_BINDING_COOKIE),
    }, clientInfo(request));
    if (outcome.kind === 'linked') return reply.redirect('/account?notice=identity-linked#sign-in-methods', 303);
    if (outcome.kind === 'link-required') {
      reply.header('set-cookie', hostCookie(PENDING_LINK_COOKIE, outcome.pendingToken, { maxAgeSeconds: COOKIE_MAX_AGE_SECONDS }));
      return reply.redirect('/login/social/link', 303);
    }
    return signInOrSecondStep(request, reply, outcome);
  });

  const pendingCookies = (request: FastifyRequest) => ({
    token: readCookie(request.headers.cookie, PENDING_LINK_COOKIE),
    binding: readCookie(request.headers.cookie, SOCIAL_BINDING_COOKIE),
  });

  async function renderLink(request: FastifyRequest, reply: FastifyReply, view: PendingLinkView, extra: { error?: string; passwordError?: string; status?: number; headers?: Readonly<Record<string, string>> } = {}): Promise<FastifyReply> {
    const tr = translatorFor(request);
    const csrfToken = csrf.formToken(request, reply);
    const provider = view.providerName;
    const errors = extra.passwordError ? [{ field: 'password', message: extra.passwordError }] : [];
    return sendPage(reply, {
      title: tr.t('signIn.social.linkTitle', { provider }),
      status: extra.status ?? 200,
      ...(extra.headers ? { headers: extra.headers } : {}),
      body: html`<h1>${tr.t('signIn.social.linkTitle', { provider })}</h1>
${alertBox(extra.error)}
${view.mailed ? noticeBox(tr.t('signIn.social.mailed', { email: view.email, wait: tr.duration(COOKIE_MAX_AGE_SECONDS) })) : ''}
<p>${tr.tHtml('signIn.social.existing', { email: html`<strong>${view.email}</strong>`, provider })}</p>
${view.passwordAllowed ? html`<form method="post" action="/login/social/link" novalidate>
${errorSummary(tr.t('common.errorSummary', { count: errors.length }), errors)}
${csrfInput(csrfToken)}
<input type="text" name="username" autocomplete="username" value="${view.email}" hidden>
${input({ name: 'password', label: tr.t('signIn.social.password'), type: 'password', autocomplete: 'current-password', required: true, error: extra.passwordError })}
<button type="submit">${tr.t('signIn.social.submit')}</button>
</form>
<p>${tr.t('signIn.social.orEmail')}</p>` : ''}
<form method="post" action="/login/social/link/email">
${csrfInput(csrfToken)}
<button type="submit" class="${view.passwordAllowed ? 'secondary' : ''}">${view.mailed ? tr.t('signIn.social.sendAgain') : tr.t('signIn.social.emailLink', { email: view.email })}</button>
</form>
<p class="links"><a href="/login">${tr.t('signIn.social.cancel')}</a></p>`,
    });
  }

  /** A refusal of the password proof, by its code, in the page's language. */
  function linkRefusal(tr: Translator, error: ApiError, provider: string): { error?: string; passwordError?: string } {
    if (error.error === 'invalid_credentials') return { passwordError: tr.t('signIn.social.wrongPassword') };
    if (error.error === 'invalid_request') return { error: tr.t('signIn.social.noPending') };
    if (error.error === 'conflict') return { error: tr.t('signIn.social.alreadyLinked', { provider }) };
    return { error: signInErrorMessage(tr, error, { signIn: true }) };
  }

  async function requirePending(request: FastifyRequest): Promise<PendingLinkView> {
    const { token, binding: value } = pendingCookies(request);
    const view = await social!.pendingLink(token, value);
    if (!view) throw apiError('invalid_request', translatorFor(request).t('signIn.social.noPending'));
    return view;
  }

  app.get('/login/social/link', PAGE_GET, async (request, reply) => renderLink(request, reply, await requirePending(request)));

  app.post('/login/social/link', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const view = await requirePending(request);
    const password = field(fields, 'password');
    if (password === '') return renderLink(request, reply, view, { passwordError: translatorFor(request).t('signIn.social.passwordMissing'), status: 400 });
    const { token, binding: value } = pendingCookies(request);
    const result = await attempt(() => social.linkWithPassword(token, value, password, clientInfo(request)));
    if (!result.ok) return renderLink(request, reply, view, { ...linkRefusal(translatorFor(request), result.error, view.providerName), status: result.error.status, headers: result.error.headers });
    reply.header('set-cookie', clearedHostCookie(PENDING_LINK_COOKIE));
    return signInOrSecondStep(request, reply, result.value);
  });

  app.post('/login/social/link/email', pagePost(csrf), async (request, reply) => {
    checkedForm(request, csrf);
    const { token, binding: value } = pendingCookies(request);
    await social.sendLinkMail(token, value);
    return reply.redirect('/login/social/link', 303);
  });

  app.get('/login/social/link/confirm', PAGE_GET, async (request, reply) => {
    // A mail scanner opening the link must not use it up: the POST does.
    const token = queryParam(request, 'token') ?? '';
    const csrfToken = csrf.formToken(request, reply);
    const tr = translatorFor(request);
    return sendPage(reply, {
      title: tr.t('signIn.social.confirmTitle'),
      body: html`<h1>${tr.t('signIn.social.confirmTitle')}</h1>
<p>${tr.t('signIn.social.confirmIntro')}</p>
<form method="post" action="/login/social/link/confirm">
${csrfInput(csrfToken)}
${hiddenInput('token', token)}
<button type="submit">${tr.t('signIn.social.confirmSubmit')}</button>
</form>`,
    });
  });

  app.post('/login/social/link/confirm', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const { token, binding: value } = pendingCookies(request);
    const linked = await social.linkWithMail(token, value, field(fields, 'token'), clientInfo(request));
    reply.header('set-cookie', clearedHostCookie(PENDING_LINK_COOKIE));
    return signInOrSecondStep(request, reply, linked);
  });

  app.post<{ Params: { provider: string } }>('/account/identities/link/:provider', pagePost(csrf), async (request, reply) => {
    checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const outcome = await attempt(() => social.start(providerParam(request), {
      binding: binding(request, reply),
      returnTo: '/account',
      linkFor: { userId: record.user.id, authTime: record.session.authTime },
    }, clientInfo(request)));
    if (!outcome.ok) {
      if (outcome.error.error === 'forbidden') return reply.redirect(`/login?notice=reauthenticate&return_to=${encodeURIComponent('/account')}`, 303);
      throw outcome.error;
    }
    return reply.redirect(outcome.value.href, 303);
  });

  app.post<{ Params: { id: string } }>('/account/identities/:id/unlink', pagePost(csrf), async (request, reply) => {
    checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const id = request.params.id ?? '';
    const tr = translatorFor(request);
    if (id.length > 64) throw apiError('not_found', tr.t('signIn.social.unlinkMissing'));
    const result = await attempt(() => social.unlink(record.user.id, id, clientInfo(request)));
    if (!result.ok) return renderAccount(request, reply, record, { status: result.error.status, error: { section: 'sign-in-methods', message: tr.t(result.error.error === 'conflict' ? 'signIn.social.unlinkLast' : result.error.error === 'not_found' ? 'signIn.social.unlinkMissing' : 'signIn.error.generic') } });
    return reply.redirect('/account?notice=identity-unlinked#sign-in-methods', 303);
  });
}
