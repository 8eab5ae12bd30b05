import type { ApiError } from '../../errors/catalog.ts';
import type { TotpEnrolment } from '../../features/mfa/service.ts';
import { csrfInput, hiddenInput, input } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import type { Translator } from '../i18n/index.ts';
import { currentBrand } from '../theme/brand.ts';

/** Pieces shared by the second-step page and /account/mfa. */

/** The 6-digit code field, with its problem next to it (aria-invalid, aria-describedby). */
export function codeInput(tr: Translator, options: { label?: string; id?: string; error?: string | undefined } = {}): SafeHtml {
  const id = options.id ?? 'code';
  return html`<div class="field${options.error ? ' field-invalid' : ''}">
<label for="${id}">${options.label ?? tr.t('mfa.code.label')}</label>
${options.error ? html`<p class="field-error" id="${id}-error">${options.error}</p>` : ''}
<input id="${id}" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required spellcheck="false" autocapitalize="none"${options.error ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}>
</div>`;
}

/**
 * Where a refusal happened, so that one error code reads right: `invalid_request` is "this set-up
 * expired" while adding an app, "the passkey answer could not be read" after a passkey, …
 */
export type MfaErrorContext = 'code' | 'recovery-code' | 'passkey' | 'enrolment' | 'passkey-register' | 'passwordless' | 'factors';

/** A service refusal in the page's language, by its error code and where it happened (never its English description). */
export function mfaServiceError(tr: Translator, error: ApiError, context: MfaErrorContext): string {
  switch (error.error) {
    case 'too_many_requests': return tr.t('mfa.error.tooManyRequests', { wait: tr.duration(Number(error.headers['retry-after'] ?? 60)) });
    case 'unauthenticated': return tr.t('mfa.error.expired');
    case 'invalid_mfa_code':
      return context === 'passkey' || context === 'passkey-register' || context === 'passwordless' ? tr.t('mfa.error.passkeyRefused')
        : context === 'recovery-code' ? tr.t('mfa.error.recoveryCodeWrong')
        : context === 'enrolment' ? tr.t('mfa.error.enrolmentCodeWrong')
        : tr.t('mfa.error.codeWrong');
    case 'invalid_credentials': return context === 'passwordless' ? tr.t('mfa.error.passwordlessRefused') : tr.t('mfa.error.passkeyRefused');
    case 'conflict': return context === 'passkey-register' ? tr.t('mfa.error.passkeyConflict') : tr.t('mfa.error.tooManyFactors');
    case 'invalid_request':
      return context === 'enrolment' ? tr.t('mfa.error.enrolmentExpired')
        : context === 'passkey' || context === 'passkey-register' || context === 'passwordless' ? tr.t('mfa.error.passkeyUnreadable')
        : context === 'factors' ? tr.t('mfa.error.noFactor')
        : tr.t('mfa.error.generic');
    default: return error.status === 503 ? tr.t('mfa.error.unavailable') : tr.t('mfa.error.generic');
  }
}

/** The QR code (an SVG in a data: image, allowed by `img-src data:`) and the secret for typing. */
export function enrolmentBlock(tr: Translator, enrolment: TotpEnrolment, csrfToken: string, action: string, options: { returnTo?: string | undefined; name?: string | undefined; codeError?: string | undefined; nameError?: string | undefined } = {}): SafeHtml {
  const image = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg, 'utf8').toString('base64')}`;
  return html`<p>${tr.t('mfa.enrol.scan')}</p>
<p><img src="${image}" alt="${tr.t('mfa.enrol.qrAlt')}" width="200" height="200"></p>
<p>${tr.tHtml('mfa.enrol.manual', { key: html`<code class="secret">${enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code>` })}</p>
<form method="post" action="${action}" novalidate>
${csrfInput(csrfToken)}
${hiddenInput('enrolment_id', enrolment.enrolmentId)}
${options.returnTo ? hiddenInput('return_to', options.returnTo) : ''}
${input({ name: 'name', label: tr.t('mfa.enrol.nameLabel'), type: 'text', autocomplete: 'off', value: options.name ?? tr.t('mfa.enrol.defaultName'), maxLength: 64, error: options.nameError })}
${codeInput(tr, { error: options.codeError })}
<button type="submit">${tr.t('mfa.enrol.submit')}</button>
</form>`;
}

/** Recovery codes, shown once, with a download of the same text. */
export function recoveryCodesBlock(tr: Translator, codes: readonly string[], next: string): SafeHtml {
  const text = `${tr.t('mfa.recovery.fileHeading', { product: currentBrand().productName })}\n\n${codes.join('\n')}\n`;
  const download = `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`;
  return html`<h2>${tr.t('mfa.recovery.yourCodes')}</h2>
<p>${tr.tHtml('mfa.recovery.keepSafe', { strong: html`<strong>${tr.t('mfa.recovery.keepSafeStrong')}</strong>` })}</p>
<pre class="recovery-codes">${codes.join('\n')}</pre>
<p><a href="${download}" download="recovery-codes.txt">${tr.t('mfa.recovery.download')}</a></p>
<p><a class="button" href="${next}">${tr.t('mfa.recovery.continue')}</a></p>`;
}
