import type { TotpEnrolment } from '../../features/mfa/service.ts';
import { csrfInput, hiddenInput, input } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';

/** Pieces shared by the second-step page and /account/mfa. */

export function codeInput(options: { label?: string; id?: string } = {}): SafeHtml {
  return html`<label for="${options.id ?? 'code'}">${options.label ?? 'Code from your authenticator app'}</label>
<input id="${options.id ?? 'code'}" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required spellcheck="false" autocapitalize="none">`;
}

/** The QR code (an SVG in a data: image, allowed by `img-src data:`) and the secret for typing. */
export function enrolmentBlock(enrolment: TotpEnrolment, csrfToken: string, action: string, returnTo?: string): SafeHtml {
  const image = `data:image/svg+xml;base64,${Buffer.from(enrolment.qrSvg, 'utf8').toString('base64')}`;
  return html`<p>Scan this code with an authenticator app (Google Authenticator, Authy, 1Password, FreeOTP …), then enter the 6-digit code it shows.</p>
<p><img src="${image}" alt="QR code for your authenticator app" width="200" height="200"></p>
<p>Cannot scan? Enter this key instead: <code class="secret">${enrolment.secret.replace(/(.{4})/g, '$1 ').trim()}</code></p>
<form method="post" action="${action}" novalidate>
${csrfInput(csrfToken)}
${hiddenInput('enrolment_id', enrolment.enrolmentId)}
${returnTo ? hiddenInput('return_to', returnTo) : ''}
${input({ name: 'name', label: 'Name (so you can tell your devices apart)', type: 'text', autocomplete: 'off', value: 'Authenticator app', maxLength: 64 })}
${codeInput()}
<button type="submit">Confirm</button>
</form>`;
}

/** Recovery codes, shown once, with a download of the same text. */
export function recoveryCodesBlock(codes: readonly string[], next: string): SafeHtml {
  const text = `Gatehouse recovery codes — each works once.\n\n${codes.join('\n')}\n`;
  const download = `data:text/plain;charset=utf-8,${encodeURIComponent(text)}`;
  return html`<h2>Your recovery codes</h2>
<p><strong>Keep these somewhere safe.</strong> Each code works once, when you cannot use your second factor. They are shown only now.</p>
<pre class="recovery-codes">${codes.join('\n')}</pre>
<p><a href="${download}" download="gatehouse-recovery-codes.txt">Download as a text file</a></p>
<p><a class="button" href="${next}">I saved them — continue</a></p>`;
}
