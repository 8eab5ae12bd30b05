/**
 * The one script every page loads (progressive enhancement: every page works without it). A
 * same-origin file allowed by the page's CSP nonce, like the passkey scripts; no inline script.
 * - Moves focus to the error summary (`[data-error-summary]`, src/ui/forms.ts) so the problems
 *   are read out first and reachable by their links.
 * - Adds a show-password toggle after every password input: a real button with `aria-pressed`
 *   and `aria-controls`, its label translated by the layout (`data-show-password` on <body>).
 *   The label stays the same and the state is in aria-pressed (WAI-ARIA APG, toggle button).
 *   Before the form is sent the field is a password field again, so browsers treat it as one.
 */
export const PAGE_SCRIPT_PATH = '/assets/page.js';

export const PAGE_SCRIPT = `'use strict';
(function () {
  var summary = document.querySelector('[data-error-summary]');
  if (summary) summary.focus();
  var label = document.body.getAttribute('data-show-password') || 'Show password';
  var counter = 0;
  document.querySelectorAll('input[type=password]').forEach(function (input) {
    if (!input.id) { counter += 1; input.id = 'password-field-' + counter; }
    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'password-toggle';
    button.textContent = label;
    button.setAttribute('aria-controls', input.id);
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', function () {
      var show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      button.setAttribute('aria-pressed', show ? 'true' : 'false');
    });
    input.insertAdjacentElement('afterend', button);
    if (input.form) input.form.addEventListener('submit', function () {
      input.type = 'password';
      button.setAttribute('aria-pressed', 'false');
    });
  });
})();
`;
