import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../../errors/catalog.ts';
import { html, type SafeHtml } from '../../../ui/html.ts';
import { translatorFor, type MessageKey, type Translator } from '../../../ui/i18n/index.ts';
import { sendPage } from '../../../ui/layout.ts';
import { csrfInput, hiddenInput } from '../../../ui/forms.ts';
import { ClientMetadataError } from '../../clients/validation.ts';
import { ProviderSettingsError } from '../../social/providers.ts';
import { admittedCaller, holdsAdminScope, type AdminScope } from '../access.ts';
import { PrivilegeError, type PrivilegeRefusal } from '../privilege.ts';

/** The console's stylesheet (served by assets.ts); linked once the layout takes extra stylesheets. */
export const ADMIN_STYLESHEET = '/assets/admin.css';

export type Section = 'dashboard' | 'users' | 'roles' | 'clients' | 'providers' | 'keys' | 'branding' | 'audit';

/** `scope`: shown only to callers holding it (the page would answer them 403 anyway). */
const NAV: readonly { section: Section; href: string; label: MessageKey; scope?: AdminScope }[] = [
  { section: 'dashboard', href: '/admin', label: 'admin.nav.dashboard' },
  { section: 'users', href: '/admin/users', label: 'admin.nav.users' },
  { section: 'roles', href: '/admin/roles', label: 'admin.nav.roles' },
  { section: 'clients', href: '/admin/clients', label: 'admin.nav.clients' },
  { section: 'providers', href: '/admin/identity-providers', label: 'admin.nav.providers' },
  { section: 'keys', href: '/admin/keys', label: 'admin.nav.keys' },
  { section: 'branding', href: '/admin/branding', label: 'admin.nav.branding', scope: 'admin:branding' },
  { section: 'audit', href: '/admin/audit', label: 'admin.nav.audit' },
];

function nav(request: FastifyRequest, tr: Translator, current: Section): SafeHtml {
  const caller = admittedCaller(request);
  const shown = NAV.filter((item) => item.scope === undefined || (caller !== undefined && holdsAdminScope(caller, item.scope)));
  return html`<nav class="account-nav admin-nav" aria-label="${tr.t('admin.nav.label')}"><ul>
${shown.map((item) => html`<li><a href="${item.href}"${item.section === current ? html` aria-current="page"` : ''}>${tr.t(item.label)}</a></li>`)}
</ul></nav>`;
}

export interface ConsolePage {
  section: Section;
  title: string;
  body: SafeHtml;
  status?: number;
  notice?: string | undefined;
  error?: string | undefined;
}

/** A console page: the wide layout, the console's navigation, an optional notice or error. */
export function sendConsolePage(request: FastifyRequest, reply: FastifyReply, page: ConsolePage): FastifyReply {
  const tr = translatorFor(request);
  return sendPage(reply, {
    width: 'wide',
    styles: [ADMIN_STYLESHEET],
    status: page.status ?? 200,
    title: page.title,
    body: html`${nav(request, tr, page.section)}
<h1>${page.title}</h1>
${page.notice ? html`<div class="notice" role="status"><p>${page.notice}</p></div>` : ''}
${page.error ? html`<div class="alert" role="alert"><p>${page.error}</p></div>` : ''}
${page.body}`,
  });
}

/**
 * A service's refusal in the page's language, by its code (and the field it names): never the
 * English description on a page (docs/branding.md, Translations).
 */
export function adminErrorMessage(tr: Translator, error: ApiError): string {
  if (error instanceof ClientMetadataError || error instanceof ProviderSettingsError) return tr.t('admin.error.field', { field: error.field });
  switch (error.error) {
    case 'not_found': return tr.t('admin.error.notFound');
    case 'conflict': return tr.t('admin.error.conflict');
    // Reaching a page already passed the access check: a service's 403 is the no-privilege-escalation rule.
    case 'forbidden': return tr.t(error instanceof PrivilegeError ? PRIVILEGE_MESSAGES[error.refusal] : 'admin.error.forbiddenRole');
    case 'invalid_request': return tr.t('admin.error.invalid');
    case 'too_many_requests': return tr.t('admin.error.tooManyRequests');
    default: return error.status === 503 ? tr.t('admin.error.unavailable') : tr.t('admin.error.generic');
  }
}

/**
 * The console's words for each refusal of the no-privilege-escalation rule (docs/admin.md).
 */
const PRIVILEGE_MESSAGES: Readonly<Record<PrivilegeRefusal, MessageKey>> = {
  role: 'admin.error.forbiddenRole',
  account: 'admin.error.forbiddenAccount',
  'role-permissions': 'admin.error.forbiddenRolePermissions',
};

/** Runs a service call; its ApiError comes back as a value for the page to show in place. */
export async function tryService<T>(work: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: ApiError }> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    if (error instanceof ApiError) return { ok: false, error };
    throw error;
  }
}

/**
 * The confirmation step of an action: the same POST again with `confirm=yes`. Without
 * JavaScript, a wrong click costs one page, never a change.
 */
export function confirmForm(tr: Translator, options: { action: string; csrfToken: string; question: string; submit: string; danger?: boolean; fields?: Readonly<Record<string, string>>; cancel: string }): SafeHtml {
  return html`<section class="admin-confirm">
<p>${options.question}</p>
<form method="post" action="${options.action}">
${csrfInput(options.csrfToken)}
${hiddenInput('confirm', 'yes')}
${Object.entries(options.fields ?? {}).map(([name, value]) => hiddenInput(name, value))}
<button type="submit"${options.danger ? html` class="danger"` : ''}>${options.submit}</button>
</form>
<p class="links"><a href="${options.cancel}">${tr.t('admin.confirm.cancel')}</a></p>
</section>`;
}

/** A one-button POST form (the first step of an action: it leads to its confirmation). */
export function actionButton(options: { action: string; csrfToken: string; label: string; danger?: boolean; secondary?: boolean }): SafeHtml {
  const kind = options.danger ? html` class="danger"` : options.secondary ? html` class="secondary"` : html``;
  return html`<form method="post" action="${options.action}" class="admin-action">${csrfInput(options.csrfToken)}<button type="submit"${kind}>${options.label}</button></form>`;
}

/** A `<select>` with a real label. */
export function select(options: { name: string; label: string; value: string; choices: readonly { value: string; label: string }[] }): SafeHtml {
  const id = `f-${options.name.replace(/[^a-z0-9-]/gi, '-')}`;
  return html`<div class="field"><label for="${id}">${options.label}</label><select id="${id}" name="${options.name}">
${options.choices.map((choice) => html`<option value="${choice.value}"${choice.value === options.value ? html` selected` : ''}>${choice.label}</option>`)}
</select></div>`;
}

/** A checkbox (`value="on"`) with its label beside it. */
export function checkbox(options: { name: string; label: string; checked: boolean }): SafeHtml {
  const id = `f-${options.name.replace(/[^a-z0-9-]/gi, '-')}`;
  return html`<div class="field admin-check"><input type="checkbox" id="${id}" name="${options.name}" value="on"${options.checked ? html` checked` : ''}> <label for="${id}">${options.label}</label></div>`;
}

/** A multi-line text field (one value a line). */
export function textarea(options: { name: string; label: string; value: string; hint?: string }): SafeHtml {
  const id = `f-${options.name.replace(/[^a-z0-9-]/gi, '-')}`;
  return html`<div class="field"><label for="${id}">${options.label}</label>${options.hint ? html`<p class="hint" id="${id}-hint">${options.hint}</p>` : ''}<textarea id="${id}" name="${options.name}" rows="3"${options.hint ? html` aria-describedby="${id}-hint"` : ''}>${options.value}</textarea></div>`;
}

/** Values of a one-per-line (or space-separated) field, without blanks or repeats. */
export function lines(text: string | undefined): string[] {
  return [...new Set((text ?? '').split(/[\s,]+/).map((part) => part.trim()).filter(Boolean))];
}

/** Fixed notices chosen by `?notice=` after a POST-redirect-GET; nothing is reflected. */
export function noticeFrom(tr: Translator, query: unknown, notices: Readonly<Record<string, MessageKey>>): string | undefined {
  const name = (query as Record<string, unknown> | undefined)?.notice;
  return typeof name === 'string' && Object.hasOwn(notices, name) ? tr.t(notices[name]!) : undefined;
}
