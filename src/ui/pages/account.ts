import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord } from '../../features/sessions/store.ts';
import type { PagesDeps } from '../deps.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, queryParam } from '../routes.ts';
import { accountBody, type AccountView } from './account-view.ts';

/** Fixed messages chosen by `?notice=` after a POST-redirect-GET; nothing is reflected. */
const NOTICES: Readonly<Record<string, string>> = {
  'profile-saved': 'Your profile was saved.',
  'email-verified': 'Your email address is confirmed.',
  'verification-sent': 'We sent a new confirmation link. It works once.',
  'session-revoked': 'That session was signed out.',
  'others-signed-out': 'You were signed out everywhere else.',
  'password-changed': 'Your password was changed and your other sessions were signed out.',
  'application-revoked': 'The application can no longer use your account.',
  'identity-linked': 'That account is linked: you can now sign in with it.',
  'identity-unlinked': 'That account is no longer linked.',
};

/** Where a signed-out browser is sent from the account page. */
export const LOGIN_FOR_ACCOUNT = `/login?return_to=${encodeURIComponent('/account')}`;

export type AccountRender = (
  request: FastifyRequest,
  reply: FastifyReply,
  record: SessionRecord,
  view?: Partial<Pick<AccountView, 'notice' | 'error' | 'typedName'>> & { status?: number; headers?: Readonly<Record<string, string>> },
) => Promise<FastifyReply>;

/** Renders the account page for `record` (used by GET and by failed POSTs). */
export function accountRenderer(deps: PagesDeps): AccountRender {
  const { csrf, sessions, config } = deps;
  return async (request, reply, record, view = {}) => {
    const { status, headers, ...rest } = view;
    const list = await sessions.list(record.user.id);
    const applications = deps.applications ? await deps.applications.list(record.user.id) : [];
    const signInMethods = deps.social ? await deps.social.accountView(record.user.id) : undefined;
    const body = accountBody({
      ...rest,
      record,
      sessions: list,
      applications,
      ...(signInMethods ? { signInMethods } : {}),
      csrfToken: csrf.formToken(request, reply),
      passwordMinLength: config.passwordMinLength,
    });
    return sendPage(reply, { title: 'Your account', status: status ?? 200, ...(headers ? { headers } : {}), formAction: signInMethods?.formAction ?? [], body });
  };
}

/** `GET /account`: signed-out browsers go to the sign-in page and come back here. */
export function registerAccountPage(app: FastifyInstance, deps: PagesDeps): void {
  const render = accountRenderer(deps);
  app.get('/account', PAGE_GET, async (request, reply) => {
    const record = await deps.auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    return render(request, reply, record, { notice: NOTICES[queryParam(request, 'notice') ?? ''] });
  });
}
