import type { FastifyInstance } from 'fastify';
import type { Csrf } from '../../http/csrf.ts';
import { checkedForm, csrfInput, field, hiddenInput } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import { LOCALES, isLocale, setLanguageCookie, type Locale, type Translator } from '../i18n/index.ts';
import { safeReturnTo } from '../return-to.ts';
import { pagePost } from '../routes.ts';

export const LANGUAGE_PATH = '/language';
/**
 * The page to go back to. Not `return_to`: that field is the sign-in form's own, and `ui_locales`
 * inside a `return_to` would pick the language of this very request.
 */
const BACK_FIELD = 'back';

/**
 * Each language by its own name. Not translated on purpose: a reader who cannot read the page's
 * language still finds their own (W3C i18n, "language selector"), and each carries its `lang`.
 */
export const LANGUAGE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', de: 'Deutsch', fr: 'Français', es: 'Español' };

/**
 * The language picker (sign-in and start pages): one submit button per other language, the
 * current one named as such. A POST with the CSRF token, so no other site can switch it.
 */
export function languagePicker(tr: Translator, view: { csrfToken: string; back: string }): SafeHtml {
  return html`<form method="post" action="${LANGUAGE_PATH}" class="language-picker" aria-label="${tr.t('common.language')}">
${csrfInput(view.csrfToken)}
${hiddenInput(BACK_FIELD, view.back)}
<ul class="languages">
${LOCALES.map((locale) => (locale === tr.locale
    ? html`<li><span lang="${locale}" aria-current="true">${tr.t('signIn.language.current', { language: LANGUAGE_NAMES[locale] })}</span></li>`
    : html`<li><button type="submit" class="secondary" name="locale" value="${locale}" lang="${locale}">${LANGUAGE_NAMES[locale]}</button></li>`))}
</ul>
</form>`;
}

/**
 * `return_to` with every `ui_locales` in it (its own and that of a `return_to` it carries, one
 * level deep) set to the chosen language: `ui_locales` outranks the cookie, so an authorization
 * that asked for French must not switch back after the user chose German.
 */
export function withLocale(returnTo: string, locale: Locale): string {
  const url = new URL(returnTo, 'https://gatehouse.invalid');
  if (url.searchParams.has('ui_locales')) url.searchParams.set('ui_locales', locale);
  const nested = safeReturnTo(url.searchParams.get('return_to'));
  if (nested !== undefined) {
    const inner = new URL(nested, 'https://gatehouse.invalid');
    if (inner.searchParams.has('ui_locales')) {
      inner.searchParams.set('ui_locales', locale);
      url.searchParams.set('return_to', inner.pathname + inner.search + inner.hash);
    }
  }
  return safeReturnTo(url.pathname + url.search + url.hash) ?? '/';
}

/** `POST /language`: remembers the choice in a cookie and goes back (303) to the page it came from. */
export function registerLanguageRoute(app: FastifyInstance, deps: { csrf: Csrf }): void {
  app.post(LANGUAGE_PATH, pagePost(deps.csrf), async (request, reply) => {
    const fields = checkedForm(request, deps.csrf);
    const back = safeReturnTo(fields[BACK_FIELD]) ?? '/';
    const locale = field(fields, 'locale');
    // An unknown value changes nothing (no reflected text, no cookie); the page reloads as it was.
    if (!isLocale(locale)) return reply.redirect(back, 303);
    setLanguageCookie(request, reply, locale);
    return reply.redirect(withLocale(back, locale), 303);
  });
}
