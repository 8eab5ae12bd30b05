import type { Session, SessionRecord } from '../../features/sessions/store.ts';
import type { SignInMethodsView } from '../../features/social/service.ts';
import { alertBox, csrfInput, errorFor, errorSummary, input, noticeBox, type FieldError } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import type { MessageKey, Translator } from '../i18n/index.ts';
import { scopeDescriptions } from '../scopes.ts';
import { dangerZoneSection, emailSection } from './account-self-service.ts';
import { languageSection } from './account-language.ts';
import { deviceName } from './user-agent.ts';

/** Which part of the account page an error belongs to. */
export type AccountSection = 'profile' | 'email' | 'sessions' | 'applications' | 'password' | 'sign-in-methods' | 'language';

/** The second factors, in short, for the Security section (when the pages have the MFA service). */
export interface MfaSummary {
  totp: number;
  passkeys: number;
  recoveryCodesRemaining: number;
}

export interface AccountView {
  tr: Translator;
  record: SessionRecord;
  sessions: readonly Session[];
  /** Applications the user authorised (empty when the provider is not wired). */
  applications?: readonly { client_id: string; name: string; scopes: string[]; consented_at: number | null }[];
  /** Linked upstream identities (social login), when the feature is wired. */
  signInMethods?: SignInMethodsView;
  mfa?: MfaSummary | undefined;
  /** An address waiting for confirmation before it replaces the current one. */
  pendingEmail: string | null;
  csrfToken: string;
  passwordMinLength: number;
  notice?: string | undefined;
  /** A problem that belongs to a section rather than to one field (already translated). */
  error?: { section: AccountSection; message: string } | undefined;
  /** Problems with the fields of one form (already translated), shown next to each field. */
  fieldErrors?: readonly FieldError[] | undefined;
  /** Which form `fieldErrors` belong to (its summary is shown above it). */
  fieldErrorsSection?: AccountSection | undefined;
  /** The name as typed, when the profile form is shown again after an error. */
  typedName?: string | undefined;
}

/** A time inside a machine-readable `<time>`, written in the page's language (UTC). */
export function when(tr: Translator, ms: number): SafeHtml {
  return html`<time datetime="${new Date(ms).toISOString()}">${tr.t('account.timeUtc', { time: tr.dateTime(ms) })}</time>`;
}

function sectionError(view: AccountView, section: AccountSection): SafeHtml {
  const summary = view.fieldErrorsSection === section ? errorSummary(view.tr.t('common.errorSummary', { count: view.fieldErrors?.length ?? 0 }), view.fieldErrors) : html``;
  return html`${summary}${alertBox(view.error?.section === section ? view.error.message : undefined)}`;
}

/** The sections in page order: the in-page navigation links to each heading. */
const SECTIONS: readonly { id: string; title: MessageKey }[] = [
  { id: 'profile', title: 'account.profile.title' },
  { id: 'security', title: 'account.security.title' },
  { id: 'applications', title: 'account.applications.title' },
  { id: 'linked-accounts', title: 'account.linked.title' },
  { id: 'language', title: 'account.language.title' },
  { id: 'danger-zone', title: 'account.danger.title' },
];

function navigation(view: AccountView): SafeHtml {
  const shown = SECTIONS.filter((section) => section.id !== 'linked-accounts' || view.signInMethods);
  return html`<nav class="account-nav" aria-label="${view.tr.t('account.nav.label')}">
<ul>
${shown.map((section) => html`<li><a href="#${section.id}">${view.tr.t(section.title)}</a></li>`)}
</ul>
</nav>`;
}

function profileSection(view: AccountView): SafeHtml {
  const { tr } = view;
  const { user } = view.record;
  return html`<section aria-labelledby="profile">
<h2 id="profile">${tr.t('account.profile.title')}</h2>
${sectionError(view, 'profile')}
<form method="post" action="/account/profile" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'name', label: tr.t('account.profile.name'), type: 'text', autocomplete: 'name', value: view.typedName ?? user.name ?? '', maxLength: 200, error: errorFor(view.fieldErrors, 'name') })}
<button type="submit">${tr.t('account.profile.save')}</button>
</form>
${emailSection(tr, { email: user.email, pendingEmail: view.pendingEmail, csrfToken: view.csrfToken })}
${sectionError(view, 'email')}
<p>${tr.tHtml(user.emailVerified ? 'account.email.confirmed' : 'account.email.unconfirmed', { email: html`<strong>${user.email}</strong>` })}</p>
${user.emailVerified ? '' : html`<form method="post" action="/account/verify-email/resend">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">${tr.t('account.email.resend')}</button>
</form>`}
</section>`;
}

function passwordBlock(view: AccountView): SafeHtml {
  const { tr } = view;
  if (view.signInMethods && !view.signInMethods.hasPassword) {
    return html`<h3 id="password">${tr.t('account.password.title')}</h3>
<p>${tr.tHtml('account.password.none', { link: html`<a href="/forgot-password">${tr.t('account.password.noneLink')}</a>` })}</p>`;
  }
  return html`<h3 id="password">${tr.t('account.password.change')}</h3>
${sectionError(view, 'password')}
<form method="post" action="/account/password" novalidate>
${csrfInput(view.csrfToken)}
<input type="text" name="username" autocomplete="username" value="${view.record.user.email}" hidden>
${input({ name: 'current_password', label: tr.t('account.password.current'), type: 'password', autocomplete: 'current-password', required: true, error: errorFor(view.fieldErrors, 'current_password') })}
${input({ name: 'new_password', label: tr.t('account.password.new'), type: 'password', autocomplete: 'new-password', required: true, hint: tr.t('account.password.hint', { min: view.passwordMinLength }), error: errorFor(view.fieldErrors, 'new_password') })}
<button type="submit">${tr.t('account.password.submit')}</button>
</form>`;
}

function mfaBlock(view: AccountView): SafeHtml {
  const { tr, mfa } = view;
  const on = mfa !== undefined && mfa.totp + mfa.passkeys > 0;
  const parts = on ? [
    ...(mfa.totp > 0 ? [tr.t('account.mfa.totpCount', { count: mfa.totp })] : []),
    ...(mfa.passkeys > 0 ? [tr.t('account.mfa.passkeyCount', { count: mfa.passkeys })] : []),
  ] : [];
  return html`<h3 id="mfa">${tr.t('account.mfa.title')}</h3>
${mfa === undefined ? html`<p>${tr.t('account.mfa.intro')}</p>` : on ? html`<p>${tr.t('account.mfa.on', { factors: tr.list(parts) })}</p>
<p>${tr.t('account.mfa.recoveryLeft', { count: mfa.recoveryCodesRemaining })}</p>` : html`<p>${tr.t('account.mfa.off')}</p>`}
<p><a href="/account/mfa">${tr.t(on || mfa === undefined ? 'account.mfa.manage' : 'account.mfa.setUp')}</a></p>`;
}

function sessionItem(session: Session, view: AccountView): SafeHtml {
  const { tr } = view;
  const current = session.id === view.record.session.id;
  return html`<li>
<p><strong>${deviceName(tr, session.userAgent)}</strong>${current ? html` <span class="tag">${tr.t('account.sessions.thisDevice')}</span>` : ''}</p>
<p>${tr.t('account.sessions.ip', { ip: session.ip ?? tr.t('account.sessions.ipUnknown') })}<br>${tr.tHtml('account.sessions.signedIn', { time: when(tr, session.createdAt) })}<br>${tr.tHtml('account.sessions.lastActive', { time: when(tr, session.lastSeenAt) })}</p>
<details>
<summary>${tr.t('account.sessions.details')}</summary>
<p class="ua">${session.userAgent ?? tr.t('account.sessions.noUserAgent')}</p>
</details>
<form method="post" action="/account/sessions/${encodeURIComponent(session.id)}/revoke">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">${tr.t(current ? 'account.sessions.signOutThis' : 'account.sessions.revoke')}</button>
</form>
</li>`;
}

function sessionsBlock(view: AccountView): SafeHtml {
  const { tr } = view;
  const others = view.sessions.filter((session) => session.id !== view.record.session.id).length;
  return html`<h3 id="sessions">${tr.t('account.sessions.title')}</h3>
${sectionError(view, 'sessions')}
<ul class="sessions">
${view.sessions.map((session) => sessionItem(session, view))}
</ul>
${others > 0 ? html`<form method="post" action="/account/sessions/revoke-others">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">${tr.t('account.sessions.revokeOthers')}</button>
</form>` : html`<p>${tr.t('account.sessions.noOthers')}</p>`}`;
}

function applicationsSection(view: AccountView): SafeHtml {
  const { tr } = view;
  const applications = view.applications ?? [];
  return html`<section aria-labelledby="applications">
<h2 id="applications">${tr.t('account.applications.title')}</h2>
${sectionError(view, 'applications')}
${applications.length === 0 ? html`<p>${tr.t('account.applications.none')}</p>` : html`<ul class="sessions applications">
${applications.map((application) => html`<li>
<p><strong>${application.name}</strong> <span class="ua">${application.client_id}</span></p>
<p>${tr.t('account.applications.may')}</p>
<ul class="scopes">${scopeDescriptions(tr, application.scopes).map((text) => html`<li>${text}</li>`)}</ul>
${application.consented_at !== null ? html`<p>${tr.tHtml('account.applications.allowed', { time: when(tr, application.consented_at * 1000) })}</p>` : ''}
<form method="post" action="/account/applications/${encodeURIComponent(application.client_id)}/revoke">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">${tr.t('account.applications.revoke')}</button>
</form>
</li>`)}
</ul>`}
</section>`;
}

/** Linked accounts (social login): each can be removed unless it is the last way in; others can be linked. */
function linkedAccountsSection(methods: SignInMethodsView, view: AccountView): SafeHtml {
  const { tr } = view;
  const last = !methods.hasPassword && methods.identities.length <= 1;
  return html`<section aria-labelledby="linked-accounts">
<h2 id="linked-accounts">${tr.t('account.linked.title')}</h2>
<p id="sign-in-methods">${tr.t('account.linked.intro')}</p>
${sectionError(view, 'sign-in-methods')}
<ul class="identities">
${methods.hasPassword ? html`<li><p><strong>${tr.t('account.linked.password')}</strong></p></li>` : ''}
${methods.identities.map((identity) => html`<li>
<p><strong>${identity.providerName}</strong>${identity.email ? html` <span class="ua">${identity.email}</span>` : ''}</p>
<p>${tr.tHtml('account.linked.linkedAt', { time: when(tr, identity.linkedAt) })}</p>
${last ? html`<p class="hint">${tr.t('account.linked.onlyWay')}</p>` : html`<form method="post" action="/account/identities/${encodeURIComponent(identity.id)}/unlink">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">${tr.t('account.linked.remove', { provider: identity.providerName })}</button>
</form>`}
</li>`)}
</ul>
${methods.linkable.map((provider) => html`<form method="post" action="/account/identities/link/${encodeURIComponent(provider.id)}">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">${tr.t('account.linked.link', { provider: provider.name })}</button>
</form>`)}
</section>`;
}

export function accountBody(view: AccountView): SafeHtml {
  const { tr } = view;
  return html`<h1>${tr.t('account.title')}</h1>
${noticeBox(view.notice)}
${navigation(view)}
${profileSection(view)}
<section aria-labelledby="security">
<h2 id="security">${tr.t('account.security.title')}</h2>
${passwordBlock(view)}
${mfaBlock(view)}
${sessionsBlock(view)}
<h3 id="sign-out">${tr.t('account.signOut.title')}</h3>
<form method="post" action="/logout">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">${tr.t('account.signOut.submit')}</button>
</form>
</section>
${applicationsSection(view)}
${view.signInMethods ? linkedAccountsSection(view.signInMethods, view) : ''}
${languageSection(tr, { csrfToken: view.csrfToken, error: view.error?.section === 'language' ? view.error.message : undefined })}
<section aria-labelledby="danger-zone">
${dangerZoneSection(tr, { csrfToken: view.csrfToken })}
</section>`;
}
