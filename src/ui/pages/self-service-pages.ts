import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../../errors/catalog.ts';
import type { Csrf } from '../../http/csrf.ts';
import { normalizeEmail } from '../../features/accounts/email-address.ts';
import { clientInfo } from '../../features/accounts/routes.ts';
import { sendExport } from '../../features/accounts/self-service/routes.ts';
import type { SelfService } from '../../features/accounts/self-service/service.ts';
import type { SessionAuth } from '../../features/sessions/http.ts';
import { checkedForm, field, type FieldError } from '../forms.ts';
import { html } from '../html.ts';
import { translatorFor, type Translator } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, attempt, pagePost, queryParam } from '../routes.ts';
import { LOGIN_FOR_ACCOUNT } from './account.ts';
import { secondStepUrl } from './mfa.ts';
import { deleteForm, emailChangeForm, linkButtonPage, messagePage, type FormState } from './self-service-views.ts';

const MAX_TOKEN_LENGTH = 512;
const MAX_FIELD = 4096;

/** A refused self-service step, in the page's language, next to the field it concerns. */
function problem(tr: Translator, error: ApiError, context: { newEmail?: string; currentEmail: string }): Pick<FormState, 'errors' | 'alert'> {
  const at = (name: string, message: string): FieldError[] => [{ field: name, message, id: name === 'password' ? undefined : 'new-email' }];
  switch (error.error) {
    case 'invalid_request':
      return { errors: at('new_email', normalizeEmail(context.newEmail ?? '') === context.currentEmail ? tr.t('selfService.error.sameEmail') : tr.t('selfService.error.invalidEmail')) };
    case 'invalid_credentials':
      return { errors: at('password', tr.t('selfService.error.wrongPassword')) };
    case 'forbidden':
      return { errors: at('password', tr.t('selfService.error.passwordNeeded')) };
    case 'conflict':
      return { errors: at('new_email', tr.t('selfService.error.recentlyChanged')) };
    case 'too_many_requests':
      return { alert: tr.t('selfService.error.tooMany', { wait: tr.duration(Number(error.headers['retry-after'] ?? 60)) }) };
    default:
      return { alert: tr.t('selfService.error.unavailable') };
  }
}

/** The form ids differ per page: the password field's id is the page's own. */
function withPasswordId(state: Pick<FormState, 'errors' | 'alert'>, id: string): Pick<FormState, 'errors' | 'alert'> {
  return { ...state, errors: state.errors?.map((item) => (item.field === 'password' ? { ...item, id } : item)) };
}

/**
 * The self-service pages (issue 17): `POST /account/email` (from the account page's email
 * section), `GET|POST /account/email/confirm` and `/account/email/undo` (the mailed links: a GET
 * shows a button, only the POST uses the link), `GET|POST /account/delete` (a confirmation
 * page), `POST /account/export` (the download). Every POST: Origin check, then CSRF token.
 */
export function registerSelfServicePages(app: FastifyInstance, deps: { selfService: SelfService; auth: SessionAuth; csrf: Csrf; now: () => number }): void {
  const { selfService, auth, csrf } = deps;
  const { emailChange } = selfService;

  app.post('/account/email', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const tr = translatorFor(request);
    const newEmail = field(fields, 'new_email').slice(0, MAX_FIELD);
    const password = field(fields, 'password').slice(0, MAX_FIELD);
    const result = await attempt(() => emailChange.request(record, { newEmail, password }, clientInfo(request)));
    if (result.ok) {
      return sendPage(reply, { title: tr.t('selfService.emailSent.title'), body: messagePage({ title: tr.t('selfService.emailSent.title'), body: tr.t('selfService.emailSent.body', { email: normalizeEmail(newEmail) ?? newEmail, current: record.user.email }), link: { href: '/account', label: tr.t('selfService.back') } }) });
    }
    if (result.error.error === 'mfa_step_up_required') return reply.redirect(secondStepUrl('/account'), 303);
    const state = withPasswordId(problem(tr, result.error, { newEmail, currentEmail: record.user.email }), 'email-change-password');
    return sendPage(reply, {
      title: tr.t('selfService.emailPage.title'),
      status: result.error.status,
      headers: result.error.headers,
      body: html`<h1>${tr.t('selfService.emailPage.title')}</h1>
${emailChangeForm(tr, { csrfToken: csrf.formToken(request, reply), newEmail, ...state })}
<p><a href="/account">${tr.t('selfService.back')}</a></p>`,
    });
  });

  linkPages(app, deps, {
    path: '/account/email/confirm',
    show: (tr) => ({ title: tr.t('selfService.confirm.title'), intro: tr.t('selfService.confirm.intro'), submit: tr.t('selfService.confirm.submit') }),
    run: async (request, tr, token) => {
      const { email } = await emailChange.confirm(token, clientInfo(request));
      auth.forget(request);
      return { title: tr.t('selfService.confirmed.title'), body: tr.t('selfService.confirmed.body', { email }), link: { href: '/account', label: tr.t('selfService.back') } };
    },
    conflict: (tr) => tr.t('selfService.link.taken'),
  });

  linkPages(app, deps, {
    path: '/account/email/undo',
    danger: true,
    show: (tr) => ({ title: tr.t('selfService.undo.title'), intro: tr.t('selfService.undo.intro'), submit: tr.t('selfService.undo.submit') }),
    run: async (request, tr, token, reply) => {
      const { email } = await emailChange.undo(token, clientInfo(request));
      // Every session ended, this browser's too.
      auth.clearCookie(reply);
      return { title: tr.t('selfService.undone.title'), body: tr.t('selfService.undone.body', { email }), link: { href: '/forgot-password', label: tr.t('selfService.undone.reset') } };
    },
    conflict: (tr) => tr.t('selfService.link.undoTaken'),
  });

  app.get('/account/delete', PAGE_GET, async (request, reply) => {
    const record = await auth.current(request);
    if (!record) return reply.redirect(`/login?return_to=${encodeURIComponent('/account/delete')}`, 303);
    const tr = translatorFor(request);
    return sendPage(reply, { title: tr.t('selfService.deletePage.title'), body: deleteForm(tr, { csrfToken: csrf.formToken(request, reply), email: record.user.email }) });
  });

  app.post('/account/delete', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const tr = translatorFor(request);
    const password = field(fields, 'password').slice(0, MAX_FIELD);
    const result = await attempt(() => selfService.deletion.deleteOwnAccount(record, { password }, clientInfo(request)));
    if (result.ok) {
      auth.clearCookie(reply);
      csrf.renew(reply);
      return sendPage(reply, { title: tr.t('selfService.deleted.title'), body: messagePage({ title: tr.t('selfService.deleted.title'), body: tr.t('selfService.deleted.body', { email: record.user.email }), link: { href: '/login', label: tr.t('selfService.deleted.home') } }) });
    }
    if (result.error.error === 'mfa_step_up_required') return reply.redirect(secondStepUrl('/account/delete'), 303);
    const state = withPasswordId(problem(tr, result.error, { currentEmail: record.user.email }), 'delete-password');
    return sendPage(reply, { title: tr.t('selfService.deletePage.title'), status: result.error.status, headers: result.error.headers, body: deleteForm(tr, { csrfToken: csrf.formToken(request, reply), email: record.user.email, ...state }) });
  });

  app.post('/account/export', pagePost(csrf), async (request, reply) => {
    checkedForm(request, csrf);
    const record = await auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const data = await selfService.exportData(record.user.id, record.session.id);
    if (!data) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    return sendExport(reply, data, deps.now());
  });
}

interface LinkPage {
  path: string;
  danger?: boolean;
  show: (tr: Translator) => { title: string; intro: string; submit: string };
  run: (request: FastifyRequest, tr: Translator, token: string, reply: FastifyReply) => Promise<{ title: string; body: string; link: { href: string; label: string } }>;
  conflict: (tr: Translator) => string;
}

/** GET shows the button (no session needed: the link may be opened on another device), POST acts. */
function linkPages(app: FastifyInstance, deps: { csrf: Csrf }, page: LinkPage): void {
  const { csrf } = deps;
  const broken = (reply: FastifyReply, tr: Translator, message: string, status: number) =>
    sendPage(reply, { title: tr.t('selfService.link.title'), status, body: messagePage({ title: tr.t('selfService.link.title'), body: message, alert: true, link: { href: '/account', label: tr.t('selfService.back') } }) });

  app.get(page.path, PAGE_GET, async (request, reply) => {
    const tr = translatorFor(request);
    const token = queryParam(request, 'token');
    if (token === undefined || token.length > MAX_TOKEN_LENGTH) return broken(reply, tr, tr.t('selfService.link.invalid'), 400);
    return sendPage(reply, { title: page.show(tr).title, body: linkButtonPage(tr, { csrfToken: csrf.formToken(request, reply), action: page.path, token, danger: page.danger ?? false, ...page.show(tr) }) });
  });

  app.post(page.path, pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const tr = translatorFor(request);
    const token = field(fields, 'token');
    if (token === '' || token.length > MAX_TOKEN_LENGTH) return broken(reply, tr, tr.t('selfService.link.invalid'), 400);
    const result = await attempt(() => page.run(request, tr, token, reply));
    if (!result.ok) {
      if (result.error.error === 'conflict') return broken(reply, tr, page.conflict(tr), 409);
      if (result.error.error === 'invalid_link') return broken(reply, tr, tr.t('selfService.link.invalid'), 400);
      return broken(reply, tr, tr.t('selfService.error.unavailable'), result.error.status);
    }
    return sendPage(reply, { title: result.value.title, body: messagePage(result.value) });
  });
}
