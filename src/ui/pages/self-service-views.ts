import { html, type SafeHtml } from '../html.ts';
import { alertBox, csrfInput, errorFor, errorSummary, hiddenInput, input, type FieldError } from '../forms.ts';
import type { Translator } from '../i18n/index.ts';

/** The pieces of the self-service pages (routes: ./self-service-pages.ts; sections: ./account-self-service.ts). */

export interface FormState {
  errors?: readonly FieldError[] | undefined;
  /** A problem that belongs to no field (rate limit, backend down). */
  alert?: string | undefined;
  newEmail?: string | undefined;
}

export function emailChangeForm(tr: Translator, view: { csrfToken: string } & FormState): SafeHtml {
  return html`${errorSummary(tr.t('common.errorSummary', { count: view.errors?.length ?? 0 }), view.errors)}${alertBox(view.alert)}
<form method="post" action="/account/email" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'new_email', id: 'new-email', label: tr.t('selfService.email.newLabel'), type: 'email', autocomplete: 'email', required: true, maxLength: 320, value: view.newEmail, error: errorFor(view.errors, 'new_email') })}
${input({ name: 'password', id: 'email-change-password', label: tr.t('selfService.email.passwordLabel'), type: 'password', autocomplete: 'current-password', hint: tr.t('selfService.email.passwordHint'), error: errorFor(view.errors, 'password') })}
<button type="submit" class="secondary">${tr.t('selfService.email.submit')}</button>
</form>`;
}

export function deleteForm(tr: Translator, view: { csrfToken: string; email: string } & FormState): SafeHtml {
  return html`<h1>${tr.t('selfService.deletePage.title')}</h1>
${errorSummary(tr.t('common.errorSummary', { count: view.errors?.length ?? 0 }), view.errors)}${alertBox(view.alert)}
<p>${tr.t('selfService.deletePage.warning')}</p>
<p>${tr.tHtml('selfService.deletePage.account', { email: html`<strong>${view.email}</strong>` })}</p>
<form method="post" action="/account/delete" novalidate>
${csrfInput(view.csrfToken)}
${input({ name: 'password', id: 'delete-password', label: tr.t('selfService.email.passwordLabel'), type: 'password', autocomplete: 'current-password', hint: tr.t('selfService.deletePage.passwordHint'), error: errorFor(view.errors, 'password') })}
<button type="submit" class="danger">${tr.t('selfService.deletePage.submit')}</button>
</form>
<p><a href="/account">${tr.t('selfService.deletePage.cancel')}</a></p>`;
}

/** The button page behind a mailed link: a GET never uses the single-use link up (mail scanners). */
export function linkButtonPage(tr: Translator, view: { csrfToken: string; action: string; token: string; title: string; intro: string; submit: string; danger?: boolean }): SafeHtml {
  return html`<h1>${view.title}</h1>
<p>${view.intro}</p>
<form method="post" action="${view.action}">
${csrfInput(view.csrfToken)}
${hiddenInput('token', view.token)}
<button type="submit"${view.danger ? html` class="danger"` : ''}>${view.submit}</button>
</form>`;
}

export function messagePage(view: { title: string; body: string; link?: { href: string; label: string } | undefined; alert?: boolean }): SafeHtml {
  return html`<h1>${view.title}</h1>
${view.alert ? alertBox(view.body) : html`<p>${view.body}</p>`}
${view.link ? html`<p><a href="${view.link.href}">${view.link.label}</a></p>` : ''}`;
}
