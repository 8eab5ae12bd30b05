import type { FastifyRequest } from 'fastify';
import { apiError } from '../errors/catalog.ts';
import type { Csrf } from '../http/csrf.ts';
import { html, type SafeHtml } from './html.ts';

/** The form field that carries the synchronizer token (src/http/csrf.ts). */
export const CSRF_FIELD = 'csrf';

/** Submitted form fields: only single string values survive `readForm`. */
export type FormFields = Readonly<Record<string, string>>;

/**
 * The body of a page POST as strings. Only `application/x-www-form-urlencoded` is accepted;
 * a field sent twice (an array from the form parser) is refused with 400 rather than guessed
 * at (SEC-ASVS-16).
 */
export function formFields(request: FastifyRequest): FormFields {
  const type = request.headers['content-type'];
  if (type === undefined || !/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw apiError('unsupported_media_type', 'Send the form as application/x-www-form-urlencoded.');
  }
  const body = request.body;
  if (body === null || body === undefined) return {};
  if (typeof body !== 'object') throw apiError('invalid_request', 'The form could not be read.');
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value !== 'string') throw apiError('invalid_request', 'A form field was sent more than once.', { detail: `field ${name.slice(0, 40)}` });
    fields[name] = value;
  }
  return fields;
}

/**
 * CSRF layer 1 for page forms. Pages send `Referrer-Policy: no-referrer` (SEC-ASVS-10,
 * SEC-PWD-16), and under that policy browsers send `Origin: null` with every form POST, even a
 * same-origin one (Fetch standard, "append a request `Origin` header"). So an opaque `null`
 * origin is judged like a missing one, by `Sec-Fetch-Site`: `cross-site` / `same-site` (a
 * sandboxed frame, another site) is refused. Any other Origin goes through `csrf.checkOrigin`.
 * Either way the synchronizer token (layer 2) is still required.
 */
export function checkFormOrigin(request: FastifyRequest, csrf: Csrf): void {
  if (request.headers.origin !== 'null') {
    csrf.checkOrigin(request);
    return;
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    throw apiError('csrf_failed', 'Cross-site request refused.', { detail: `origin null, sec-fetch-site ${String(site)}` });
  }
}

/**
 * The check every page POST runs before doing anything (SEC-ASVS-07): an allowed origin
 * (`checkFormOrigin`), a well-formed form body, and the synchronizer token bound to this
 * browser's CSRF cookie. Throws ApiError 403 / 400 / 415.
 */
export function checkedForm(request: FastifyRequest, csrf: Csrf): FormFields {
  checkFormOrigin(request, csrf);
  const fields = formFields(request);
  csrf.verifyFormToken(request, fields[CSRF_FIELD]);
  return fields;
}

/** A field's value, '' when missing. */
export function field(fields: FormFields, name: string): string {
  return fields[name] ?? '';
}

export function csrfInput(token: string): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${token}">`;
}

export function hiddenInput(name: string, value: string): SafeHtml {
  return html`<input type="hidden" name="${name}" value="${value}">`;
}

export interface InputOptions {
  name: string;
  label: string;
  type: 'email' | 'password' | 'text';
  autocomplete: string;
  /** Never given for passwords: a typed password is not sent back (SEC-PWD-04 still allows paste/managers). */
  value?: string | undefined;
  required?: boolean;
  hint?: string;
  /** Unique id when the same name appears twice on a page. */
  id?: string;
  maxLength?: number;
  /** This field's problem (already translated): shown next to it, aria-invalid, described by it. */
  error?: string | undefined;
}

/** One problem with one field of a submitted form (`field` is the input's name). */
export interface FieldError {
  field: string;
  message: string;
  /** The input's id when it is not derived from its name (`InputOptions.id`). */
  id?: string;
}

/** The id `input()` gives a field: its `id` option, else its name with `_` → `-`. */
export function fieldId(name: string, id?: string): string {
  return id ?? name.replace(/_/g, '-');
}

/** The message for `name` among `errors`, for `input({ error })`. */
export function errorFor(errors: readonly FieldError[] | undefined, name: string): string | undefined {
  return errors?.find((error) => error.field === name)?.message;
}

/**
 * A labelled input: a real `<label for>`; a hint and an error, when given, tied by
 * aria-describedby (error first); `aria-invalid` when the field has a problem.
 */
export function input(options: InputOptions): SafeHtml {
  const id = fieldId(options.name, options.id);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const value = options.type === 'password' ? undefined : options.value;
  const described = [options.error ? errorId : '', options.hint ? hintId : ''].filter(Boolean).join(' ');
  return html`<div class="field${options.error ? ' field-invalid' : ''}">
<label for="${id}">${options.label}</label>
${options.error ? html`<p class="field-error" id="${errorId}">${options.error}</p>` : ''}
<input id="${id}" name="${options.name}" type="${options.type}" autocomplete="${options.autocomplete}"${value !== undefined && value !== '' ? html` value="${value}"` : ''}${options.required ? html` required` : ''}${options.maxLength !== undefined ? html` maxlength="${options.maxLength}"` : ''}${options.type === 'email' ? html` spellcheck="false" autocapitalize="none"` : ''}${options.error ? html` aria-invalid="true"` : ''}${described ? html` aria-describedby="${described}"` : ''}>
${options.hint ? html`<p class="hint" id="${hintId}">${options.hint}</p>` : ''}
</div>`;
}

/**
 * The error summary at the top of a form: every problem at once, each a link to its field.
 * `data-error-summary` lets the page script move focus to it; `tabindex=-1` makes that possible.
 */
export function errorSummary(title: string, errors: readonly FieldError[] | undefined): SafeHtml {
  if (!errors || errors.length === 0) return html``;
  return html`<div class="alert error-summary" role="alert" tabindex="-1" data-error-summary aria-labelledby="error-summary-title">
<h2 id="error-summary-title">${title}</h2>
<ul>
${errors.map((error) => html`<li><a href="#${fieldId(error.field, error.id)}">${error.message}</a></li>`)}
</ul>
</div>`;
}

/** The error box: announced by screen readers as soon as the page loads. */
export function alertBox(message: string | undefined): SafeHtml {
  return message ? html`<div class="alert" role="alert"><p>${message}</p></div>` : html``;
}

/** A success message. */
export function noticeBox(message: string | undefined): SafeHtml {
  return message ? html`<div class="notice" role="status"><p>${message}</p></div>` : html``;
}
