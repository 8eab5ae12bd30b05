import type { Session, SessionRecord } from '../../features/sessions/store.ts';
import type { SignInMethodsView } from '../../features/social/service.ts';
import { alertBox, csrfInput, input, noticeBox } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';

/** Which part of the account page an error belongs to. */
export type AccountSection = 'profile' | 'email' | 'sessions' | 'applications' | 'password' | 'sign-in-methods';

export interface AccountView {
  record: SessionRecord;
  sessions: readonly Session[];
  /** Applications the user authorised (empty when the provider is not wired). */
  applications?: readonly { client_id: string; name: string; scopes: string[]; consented_at: number | null }[];
  /** Linked upstream identities (social login), when the feature is wired. */
  signInMethods?: SignInMethodsView;
  csrfToken: string;
  passwordMinLength: number;
  notice?: string | undefined;
  error?: { section: AccountSection; message: string } | undefined;
  /** The name as typed, when the profile form is shown again after an error. */
  typedName?: string | undefined;
}

/** `2025-01-31 14:05 UTC` inside a machine-readable `<time>`. */
function when(ms: number): SafeHtml {
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** A short, human name for a User-Agent string; the full string is shown beside it. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return 'Unknown device';
  const browser = /Edg\//.test(userAgent) ? 'Edge'
    : /OPR\//.test(userAgent) ? 'Opera'
    : /Firefox\//.test(userAgent) ? 'Firefox'
    : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome'
    : /Safari\//.test(userAgent) ? 'Safari'
    : /^curl\//.test(userAgent) ? 'curl'
    : undefined;
  const system = /Android/.test(userAgent) ? 'Android'
    : /iPhone|iPad|iPod/.test(userAgent) ? 'iOS'
    : /Windows/.test(userAgent) ? 'Windows'
    : /Mac OS X|Macintosh/.test(userAgent) ? 'macOS'
    : /CrOS/.test(userAgent) ? 'ChromeOS'
    : /Linux/.test(userAgent) ? 'Linux'
    : undefined;
  if (browser && system) return `${browser} on ${system}`;
  return browser ?? system ?? 'Unknown browser';
}

function errorFor(view: AccountView, section: AccountSection): SafeHtml {
  return alertBox(view.error?.section === section ? view.error.message : undefined);
}

function sessionItem(session: Session, view: AccountView): SafeHtml {
  const current = session.id === view.record.session.id;
  return html`<li>
<p><strong>${describeDevice(session.userAgent)}</strong>${current ? html` <span class="tag">This device</span>` : ''}</p>
<p class="ua">${session.userAgent ?? 'No user agent sent'}</p>
<p>IP address: ${session.ip ?? 'unknown'}<br>Signed in: ${when(session.createdAt)}<br>Last seen: ${when(session.lastSeenAt)}</p>
<form method="post" action="/account/sessions/${encodeURIComponent(session.id)}/revoke">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">${current ? 'Sign out this device' : 'Revoke'}</button>
</form>
</li>`;
}

/** Linked accounts (social login): each can be removed unless it is the last way in; others can be linked. */
function signInMethodsSection(methods: SignInMethodsView, view: AccountView): SafeHtml {
  const last = !methods.hasPassword && methods.identities.length <= 1;
  return html`<h2 id="sign-in-methods">Ways to sign in</h2>
${errorFor(view, 'sign-in-methods')}
<ul class="identities">
${methods.hasPassword ? html`<li><p><strong>Password</strong></p></li>` : ''}
${methods.identities.map((identity) => html`<li>
<p><strong>${identity.providerName}</strong>${identity.email ? html` <span class="ua">${identity.email}</span>` : ''}</p>
<p>Linked: ${when(identity.linkedAt)}</p>
${last ? html`<p class="hint">This is your only way to sign in, so it cannot be removed.</p>` : html`<form method="post" action="/account/identities/${encodeURIComponent(identity.id)}/unlink">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">Remove ${identity.providerName}</button>
</form>`}
</li>`)}
</ul>
${methods.linkable.map((provider) => html`<form method="post" action="/account/identities/link/${encodeURIComponent(provider.id)}">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">Link ${provider.name}</button>
</form>`)}`;
}

export function accountBody(view: AccountView): SafeHtml {
  const { user } = view.record;
  const others = view.sessions.filter((session) => session.id !== view.record.session.id).length;
  return html`<h1>Your account</h1>
${noticeBox(view.notice)}

<h2 id="profile">Profile</h2>
${errorFor(view, 'profile')}
<form method="post" action="/account/profile" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'name', label: 'Name', type: 'text', autocomplete: 'name', value: view.typedName ?? user.name ?? '', maxLength: 200 })}
<button type="submit">Save</button>
</form>

<h2 id="email">Email address</h2>
${errorFor(view, 'email')}
<p><strong>${user.email}</strong> — ${user.emailVerified ? 'confirmed' : 'not confirmed yet'}</p>
${user.emailVerified ? '' : html`<form method="post" action="/account/verify-email/resend">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">Send a new confirmation link</button>
</form>`}

<h2 id="sessions">Where you are signed in</h2>
${errorFor(view, 'sessions')}
<ul class="sessions">
${view.sessions.map((session) => sessionItem(session, view))}
</ul>
${others > 0 ? html`<form method="post" action="/account/sessions/revoke-others">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">Sign out everywhere else</button>
</form>` : html`<p>You are not signed in anywhere else.</p>`}

<h2 id="applications">Applications you authorised</h2>
${errorFor(view, 'applications')}
${(view.applications ?? []).length === 0 ? html`<p>No application can use your account.</p>` : html`<ul class="sessions">
${(view.applications ?? []).map((application) => html`<li>
<p><strong>${application.name}</strong> <span class="ua">${application.client_id}</span></p>
<p>May: ${application.scopes.join(', ')}${application.consented_at !== null ? html`<br>Allowed: ${when(application.consented_at * 1000)}` : ''}</p>
<form method="post" action="/account/applications/${encodeURIComponent(application.client_id)}/revoke">
${csrfInput(view.csrfToken)}
<button type="submit" class="danger">Revoke access</button>
</form>
</li>`)}
</ul>`}

${view.signInMethods ? signInMethodsSection(view.signInMethods, view) : ''}
${view.signInMethods && !view.signInMethods.hasPassword ? html`<h2 id="password">Password</h2>
<p>You sign in without a password. To have one as well, use <a href="/forgot-password">Forgot your password?</a>: we email you a link to choose it.</p>` : html`<h2 id="password">Change password</h2>
${errorFor(view, 'password')}
<form method="post" action="/account/password" novalidate>
${csrfInput(view.csrfToken)}
<input type="text" name="username" autocomplete="username" value="${user.email}" hidden>
${input({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', required: true })}
${input({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', required: true, hint: `At least ${view.passwordMinLength} characters. Changing it signs you out everywhere else.` })}
<button type="submit">Change password</button>
</form>`}

<h2 id="mfa">Two-step verification</h2>
<p><a href="/account/mfa">Second factors and recovery codes</a></p>

<h2 id="sign-out">Sign out</h2>
<form method="post" action="/logout">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">Sign out</button>
</form>`;
}
