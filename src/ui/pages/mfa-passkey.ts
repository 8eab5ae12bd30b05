import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { csrfInput, hiddenInput, input } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';
import type { Translator } from '../i18n/index.ts';

/**
 * The browser side of passkeys. Pages stay script-free except where a passkey is offered: there
 * the page loads @simplewebauthn/browser's bundle and the glue below, each `<script>` allowed by
 * the page's CSP nonce (src/ui/layout.ts). The ceremony's options travel in a `data-options`
 * attribute and its one user-visible message, already translated, in `data-failed`; the answer
 * goes back in an ordinary form post (with its CSRF token), so the server side is the same form
 * handling as every other page. The challenge's browser binding (the `__Host-gatehouse-webauthn`
 * cookie) is the JSON API's as well: `ceremonyCookieBinding` / `ceremonyCookieValue` in
 * src/features/mfa/http.ts.
 */

export const WEBAUTHN_LIBRARY_PATH = '/assets/simplewebauthn-browser.js';
export const PASSKEY_GLUE_PATH = '/assets/passkeys.js';
export const PASSKEY_SCRIPTS: readonly string[] = [WEBAUTHN_LIBRARY_PATH, PASSKEY_GLUE_PATH];

/**
 * A form the glue script drives: hidden until the script finds WebAuthn (no-JS browsers see the
 * other ways in), then on submit runs the ceremony and posts its answer as `credential`.
 * `autofill`: also start a conditional-mediation request (passkeys offered in the username field's autofill).
 */
export function passkeyForm(tr: Translator, options: { ceremony: 'register' | 'authenticate'; optionsJSON: unknown; action: string; csrfToken: string; button: string; returnTo?: string | undefined; method?: string; autofill?: boolean; nameField?: boolean; secondary?: boolean }): SafeHtml {
  return html`<form method="post" action="${options.action}" class="passkey" data-webauthn="${options.ceremony}" data-options="${JSON.stringify(options.optionsJSON)}" data-failed="${tr.t('mfa.passkey.notUsed')}"${options.autofill ? html` data-autofill=""` : ''} hidden>
${csrfInput(options.csrfToken)}
${options.returnTo ? hiddenInput('return_to', options.returnTo) : ''}
${options.method ? hiddenInput('method', options.method) : ''}
<input type="hidden" name="credential" value="">
${options.nameField ? input({ name: 'name', label: tr.t('mfa.passkey.nameLabel'), type: 'text', autocomplete: 'off', value: tr.t('mfa.passkey.defaultName'), maxLength: 64, id: 'passkey-name' }) : ''}
<button type="submit"${options.secondary ? html` class="secondary"` : ''}>${options.button}</button>
<p class="hint" role="status" aria-live="polite"></p>
</form>`;
}

// The glue: plain ES2017, no build step; SimpleWebAuthnBrowser is the UMD bundle's global.
const GLUE = `'use strict';
(function () {
  var lib = window.SimpleWebAuthnBrowser;
  if (!lib || !lib.browserSupportsWebAuthn()) return;
  document.querySelectorAll('form[data-webauthn]').forEach(function (form) {
    var options = JSON.parse(form.getAttribute('data-options'));
    var field = form.querySelector('input[name=credential]');
    var status = form.querySelector('[role=status]');
    var register = form.getAttribute('data-webauthn') === 'register';
    function run(autofill) {
      var ceremony = register ? lib.startRegistration({ optionsJSON: options }) : lib.startAuthentication({ optionsJSON: options, useBrowserAutofill: autofill });
      return ceremony.then(function (answer) {
        field.value = JSON.stringify(answer);
        form.submit();
      }, function (error) {
        // The message comes translated from the page (data-failed); the error's name helps support.
        if (!autofill && status) status.textContent = form.getAttribute('data-failed') + (error && error.name ? ' (' + error.name + ')' : '');
      });
    }
    form.hidden = false;
    form.addEventListener('submit', function (event) {
      if (field.value !== '') return;
      event.preventDefault();
      run(false);
    });
    if (form.hasAttribute('data-autofill')) lib.browserSupportsWebAuthnAutofill().then(function (yes) { if (yes) run(true); });
  });
})();
`;

function libraryBundle(): string {
  // The package's exports do not name the bundle; find it beside the resolved entry point.
  const entry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  let root = dirname(entry);
  while (!root.endsWith(join('@simplewebauthn', 'browser')) && dirname(root) !== root) root = dirname(root);
  return readFileSync(join(root, 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
}

/** Serves the two scripts (same origin, so `script-src` needs only the nonce). */
export function registerPasskeyAssets(app: FastifyInstance): void {
  let bundle: string | undefined;
  const send = (reply: FastifyReply, body: string) => reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(body);
  app.get(WEBAUTHN_LIBRARY_PATH, { schema: { hide: true } }, async (_request, reply) => send(reply, (bundle ??= libraryBundle())));
  app.get(PASSKEY_GLUE_PATH, { schema: { hide: true } }, async (_request, reply) => send(reply, GLUE));
}
