import type { FastifyInstance } from 'fastify';
import type { PagesDeps } from '../deps.ts';
import { alertBox, checkedForm, csrfInput, field } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { LOCALES, isLocale, setLanguageCookie, translatorFor, type Translator } from '../i18n/index.ts';
import { pagePost } from '../routes.ts';
import { LOGIN_FOR_ACCOUNT, accountRenderer } from './account.ts';
// Each language by its own name, as on the sign-in page's picker.
import { LANGUAGE_NAMES } from './language.ts';

/** The Language section: a select of the shipped languages, the current one selected. */
export function languageSection(tr: Translator, view: { csrfToken: string; error?: string | undefined }): SafeHtml {
  return html`<section aria-labelledby="language">
<h2 id="language">${tr.t('account.language.title')}</h2>
${alertBox(view.error)}
<form method="post" action="/account/language">
${csrfInput(view.csrfToken)}
<label for="locale">${tr.t('account.language.label')}</label>
<select id="locale" name="locale" aria-describedby="locale-hint">
${LOCALES.map((locale) => html`<option value="${locale}" lang="${locale}"${locale === tr.locale ? html` selected` : ''}>${LANGUAGE_NAMES[locale]}</option>`)}
</select>
<p class="hint" id="locale-hint">${tr.t('account.language.hint')}</p>
<button type="submit" class="secondary">${tr.t('account.language.submit')}</button>
</form>
</section>`;
}

/**
 * `POST /account/language`: remembers the chosen language in this browser (the
 * `__Host-gatehouse_lang` preference cookie, src/ui/i18n/request.ts), which then comes before
 * Accept-Language on every page; `ui_locales` from an application still wins for its flow.
 */
export function registerAccountLanguage(app: FastifyInstance, deps: PagesDeps): void {
  const render = accountRenderer(deps);
  app.post('/account/language', pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    const record = await deps.auth.current(request);
    if (!record) return reply.redirect(LOGIN_FOR_ACCOUNT, 303);
    const locale = field(fields, 'locale');
    if (!isLocale(locale)) {
      return render(request, reply, record, { status: 400, error: { section: 'language', message: translatorFor(request).t('account.language.unknown') } });
    }
    setLanguageCookie(request, reply, locale);
    return reply.redirect('/account?notice=language-saved#language', 303);
  });
}
