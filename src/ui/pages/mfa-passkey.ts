import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomToken } from '../../crypto/random.ts';
import { hostCookie, readCookie } from '../../http/cookies.ts';
import { CEREMONY_TTL_MS } from '../../features/mfa/passkeys.ts';
import { csrfInput, hiddenInput, input } from '../forms.ts';
import { html, type SafeHtml } from '../html.ts';

/**
 * The browser side of passkeys. Pages stay script-free except where a passkey is offered: there
 * the page loads @simplewebauthn/browser's bundle and the glue below, each `<script>` allowed by
 * the page's CSP nonce (src/ui/layout.ts). The ceremony's options travel in a `data-options`
 * attribute; the answer goes back in an ordinary form post (with its CSRF token), so the server
 * side is the same form handling as every other page.
 */

export const WEBAUTHN_LIBRARY_PATH = '/assets/simplewebauthn-browser.js';
export const PASSKEY_GLUE_PATH = '/assets/passkeys.js';
export const PASSKEY_SCRIPTS: readonly string[] = [WEBAUTHN_LIBRARY_PATH, PASSKEY_GLUE_PATH];

/** The cookie that binds a WebAuthn challenge to this browser (HttpOnly, 5 minutes). */
export const CEREMONY_COOKIE = '__Host-gatehouse-webauthn';

/** This browser's ceremony binding: the one it has (a tab each may run a ceremony), else a new one. */
export function ceremonyBinding(request: FastifyRequest, reply: FastifyReply): string {
  const present = readCookie(request.headers.cookie, CEREMONY_COOKIE);
  const binding = present && /^[A-Za-z0-9_-]{43}$/.test(present) ? present : randomToken(32);
  reply.header('set-cookie', hostCookie(CEREMONY_COOKIE, binding, { maxAgeSeconds: CEREMONY_TTL_MS / 1000 }));
  return binding;
}

export function ceremonyCookieValue(request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, CEREMONY_COOKIE);
}

/**
 * A form the glue script drives: hidden until the script finds WebAuthn (no-JS browsers see the
 * other ways in), then on submit runs the ceremony and posts its answer as `credential`.
 * `autofill`: also start a conditional-mediation request (passkeys offered in the username field's autofill).
 */
export function passkeyForm(options: { ceremony: 'register' | 'authenticate'; optionsJSON: unknown; action: string; csrfToken: string; button: string; returnTo?: string | undefined; method?: string; autofill?: boolean; nameField?: boolean }): SafeHtml {
  return html`<form method="post" action="${options.action}" class="passkey" data-webauthn="${options.ceremony}" data-options="${JSON.stringify(options.optionsJSON)}"${options.autofill ? html` data-autofill=""` : ''} hidden>
${csrfInput(options.csrfToken)}
${options.returnTo ? hiddenInput('return_to', options.returnTo) : ''}
${options.method ? hiddenInput('method', options.method) : ''}
<input type="hidden" name="credential" value="">
${options.nameField ? input({ name: 'name', label: 'Name (so you can tell your passkeys apart)', type: 'text', autocomplete: 'off', value: 'Passkey', maxLength: 64, id: 'passkey-name' }) : ''}
<button type="submit">${options.button}</button>
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
        if (!autofill && status) status.textContent = 'The passkey was not used (' + (error && error.name ? error.name : 'error') + '). Try again or use another way.';
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
