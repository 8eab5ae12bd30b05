import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord } from '../../features/sessions/store.ts';
import type { PagesDeps } from '../deps.ts';
import { translatorFor, type MessageKey } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET, queryParam } from '../routes.ts';
import { accountBody, type AccountView, type MfaSummary } from './account-view.ts';

/** Fixed messages chosen by `?notice=` after a POST-redirect-GET; nothing is reflected. */
const NOTICES: Readonly<Record<string, MessageKey>> = {
  'profile-saved': 'account.notice.profileSaved',
  'email-verified': 'account.notice.emailVerified',
  'verification-sent': 'account.notice.verificationSent',
  'session-revoked': 'account.notice.sessionRevoked',
  'others-signed-out': 'account.notice.othersSignedOut',
  'password-changed': 'account.notice.passwordChanged',
  'application-revoked': 'account.notice.applicationRevoked',
  'identity-linked': 'account.notice.identityLinked',
  'identity-unlinked': 'account.notice.identityUnlinked',
  'language-saved': 'account.notice.languageSaved',
};

/** Where a signed-out browser is sent from the account page. */
export const LOGIN_FOR_ACCOUNT = `/login?return_to=${encodeURIComponent('/account')}`;

/**
 * The MFA service, when the pages are given it (`mfa` beside the other page deps): the Security
 * section then lists the second factors in short. Read defensively until PagesDeps names it.
 */
interface MfaFactorsSource {
  factors(userId: string): Promise<{ factors: readonly { kind: string }[]; recoveryCodesRemaining: number }>;
}

async function mfaSummary(deps: PagesDeps, userId: string): Promise<MfaSummary | undefined> {
  const source = (deps as PagesDeps & { mfa?: MfaFactorsSource }).mfa;
  if (!source) return undefined;
  const { factors, recoveryCodesRemaining } = await source.factors(userId);
  return {
    totp: factors.filter((factor) => factor.kind === 'totp').length,
    passkeys: factors.filter((factor) => factor.kind === 'passkey').length,
    recoveryCodesRemaining,
  };
}

export type AccountRender = (
  request: FastifyRequest,
  reply: FastifyReply,
  record: SessionRecord,
  view?: Partial<Pick<AccountView, 'notice' | 'error' | 'typedName' | 'fieldErrors' | 'fieldErrorsSection'>> & { status?: number; headers?: Readonly<Record<string, string>> },
) => Promise<FastifyReply>;

/** Renders the account page for `record` (used by GET and by failed POSTs). */
export function accountRenderer(deps: PagesDeps): AccountRender {
  const { csrf, sessions, config } = deps;
  return async (request, reply, record, view = {}) => {
    const { status, headers, ...rest } = view;
    const tr = translatorFor(request);
    const [list, applications, signInMethods, mfa] = await Promise.all([
      sessions.list(record.user.id),
      deps.applications ? deps.applications.list(record.user.id) : [],
      deps.social ? deps.social.accountView(record.user.id) : undefined,
      mfaSummary(deps, record.user.id),
    ]);
    const pendingEmail = deps.pendingEmail ? await deps.pendingEmail(record.user.id) : null;
    const body = accountBody({
      ...rest,
      tr,
      record,
      sessions: list,
      applications,
      ...(signInMethods ? { signInMethods } : {}),
      mfa,
      pendingEmail,
      csrfToken: csrf.formToken(request, reply),
      passwordMinLength: config.passwordMinLength,
    });
    return sendPage(reply, { title: tr.t('account.title'), width: 'wide', status: status ?? 200, ...(headers ? { headers } : {}), formAction: signInMethods?.formAction ?? [], body });
  };
}

/** `GET /account`: signed-out browsers go to the sign-in page and come back here. */
export function registerAccountPage(app: FastifyInstance, deps: PagesDeps): void {
  const render = accountRenderer(deps);
  app.get('/account', PAGE_GET, async (request, reply) => {
    const record = await deps.auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const name = queryParam(request, 'notice') ?? '';
    const notice = Object.hasOwn(NOTICES, name) ? NOTICES[name] : undefined;
    return render(request, reply, record, { notice: notice ? translatorFor(request).t(notice) : undefined });
  });
}
