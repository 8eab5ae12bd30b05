/**
 * Field-level errors (src/ui/forms.ts): the markup the stylesheet and the page script rely on —
 * an error next to its field with aria-invalid and aria-describedby, and a focusable summary
 * linking every problem to its field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { errorFor, errorSummary, fieldId, input, type FieldError } from '../../src/ui/forms.ts';
import { toHtmlString } from '../../src/ui/html.ts';

const ERRORS: FieldError[] = [
  { field: 'email', message: 'Enter a valid email address.' },
  { field: 'new_password', message: 'Choose a longer password.', id: 'password-new' },
];

describe('forms: field errors and the summary', () => {
  it('an input with an error: the message next to it, aria-invalid, described by the error then the hint', () => {
    const markup = toHtmlString(input({ name: 'email', label: 'Email', type: 'email', autocomplete: 'username', value: 'a@', hint: 'We send a link.', error: errorFor(ERRORS, 'email') }));
    assert.match(markup, /<div class="field field-invalid">/);
    assert.match(markup, /<p class="field-error" id="email-error">Enter a valid email address\.<\/p>/);
    assert.match(markup, /aria-invalid="true" aria-describedby="email-error email-hint"/);
    assert.match(markup, /value="a@"/, 'the submitted value is kept');
  });

  it('a password is never sent back, and a field without an error has no aria-invalid', () => {
    const markup = toHtmlString(input({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', value: 'secret-typed' }));
    assert.doesNotMatch(markup, /secret-typed|aria-invalid|field-error/);
  });

  it('the summary: role=alert, focusable, titled, one link per problem to its field id', () => {
    const markup = toHtmlString(errorSummary('There are 2 problems', ERRORS));
    assert.match(markup, /role="alert" tabindex="-1" data-error-summary aria-labelledby="error-summary-title"/);
    assert.match(markup, /<h2 id="error-summary-title">There are 2 problems<\/h2>/);
    assert.match(markup, /<a href="#email">Enter a valid email address\.<\/a>/);
    assert.match(markup, /<a href="#password-new">Choose a longer password\.<\/a>/);
    assert.equal(fieldId('new_password'), 'new-password');
    assert.equal(toHtmlString(errorSummary('x', [])), '');
  });
});
