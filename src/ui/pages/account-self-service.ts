import { html, type SafeHtml } from '../html.ts';
import { csrfInput } from '../forms.ts';
import type { Translator } from '../i18n/index.ts';
import { emailChangeForm } from './self-service-views.ts';

/**
 * The account page's self-service sections (issue 17): the email address with its change form
 * (the new address is verified before it replaces the old one), and the danger zone (download
 * my data, delete my account). The routes they post to are in ./self-service-pages.ts.
 */
export function emailSection(tr: Translator, view: { email: string; pendingEmail: string | null; csrfToken: string }): SafeHtml {
  return html`<h2 id="email">${tr.t('selfService.email.title')}</h2>
<p>${tr.tHtml('selfService.email.current', { email: html`<strong>${view.email}</strong>` })}</p>
${view.pendingEmail ? html`<p class="hint">${tr.tHtml('selfService.email.pending', { email: html`<strong>${view.pendingEmail}</strong>` })}</p>` : ''}
${emailChangeForm(tr, { csrfToken: view.csrfToken })}`;
}

export function dangerZoneSection(tr: Translator, view: { csrfToken: string }): SafeHtml {
  return html`<h2 id="danger-zone">${tr.t('selfService.danger.title')}</h2>
<h3>${tr.t('selfService.export.title')}</h3>
<p>${tr.t('selfService.export.description')}</p>
<form method="post" action="/account/export">
${csrfInput(view.csrfToken)}
<button type="submit" class="secondary">${tr.t('selfService.export.submit')}</button>
</form>
<h3>${tr.t('selfService.delete.title')}</h3>
<p>${tr.t('selfService.delete.description')}</p>
<p><a class="button danger" href="/account/delete">${tr.t('selfService.delete.start')}</a></p>`;
}
