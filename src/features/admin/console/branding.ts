import type { FastifyInstance } from 'fastify';
import { MAX_LINK_LENGTH, MAX_PRODUCT_NAME_LENGTH } from '../../../config/schema-branding.ts';
import type { Csrf } from '../../../http/csrf.ts';
import { checkedForm, csrfInput, errorSummary, field, hiddenInput, input, type FieldError, type FormFields } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor, type MessageKey, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import { BRANDING_SETTING_NAMES, brandingProblems, type BrandingPatch, type BrandingSetting, type BrandingSettings } from '../../../ui/theme/settings.ts';
import { noticeFrom, sendConsolePage } from './chrome.ts';
import type { Admit } from './deps.ts';

const NOTICES = { saved: 'admin.notice.brandingSaved' } as const;
const ERRORS: Readonly<Record<BrandingSetting, MessageKey>> = {
  product_name: 'admin.branding.error.product_name',
  accent_color: 'admin.branding.error.color',
  accent_color_dark: 'admin.branding.error.color',
  radius: 'admin.branding.error.radius',
  support_url: 'admin.branding.error.url',
  privacy_url: 'admin.branding.error.url',
  terms_url: 'admin.branding.error.url',
};
/** The validators' own limits, so a browser stops typing where the server would refuse. */
const MAX_LENGTH: Readonly<Partial<Record<BrandingSetting, number>>> = {
  product_name: MAX_PRODUCT_NAME_LENGTH,
  support_url: MAX_LINK_LENGTH,
  privacy_url: MAX_LINK_LENGTH,
  terms_url: MAX_LINK_LENGTH,
};

type Values = Record<BrandingSetting, string>;

/** The hidden field carrying the override a field showed when the page was drawn. */
const shownName = (name: BrandingSetting): string => `shown_${name}`;

/**
 * `/admin/branding`: the brand's text settings through the same service as
 * `PATCH /api/admin/branding` (scope admin:branding). Each field carries, hidden, the override it
 * showed; only fields whose value the admin changed are sent to the service, so saving one field
 * never reverts what another admin changed meanwhile in the others. Emptying a field that showed
 * an override removes it. Refused values are shown next to their field, in the page's language.
 */
export function registerBrandingPage(app: FastifyInstance, deps: { settings: BrandingSettings; csrf: Csrf }, admit: Admit): void {
  const { settings, csrf } = deps;
  const scope = ['admin:branding'] as const;

  app.get('/admin/branding', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    const view = settings.view();
    const shown = Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, view[name].override ?? ''])) as Values;
    return sendConsolePage(request, reply, {
      section: 'branding', title: tr.t('admin.branding.title'), notice: noticeFrom(tr, request.query, NOTICES),
      body: form(tr, csrf.formToken(request, reply), { settings, values: shown, shown, errors: [] }),
    });
  });

  app.post('/admin/branding', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const { values, shown, patch } = changesIn(fields);
    const errors: FieldError[] = brandingProblems(patch).map((problem) => ({ field: problem.field, message: tr.t(ERRORS[problem.field]) }));
    if (errors.length > 0) {
      // What was typed stays, and so does what the page first showed: a second try still sends only real changes.
      return sendConsolePage(request, reply, {
        section: 'branding', title: tr.t('admin.branding.title'), status: 400,
        body: form(tr, csrf.formToken(request, reply), { settings, values, shown, errors }),
      });
    }
    await settings.update(patch);
    return reply.redirect('/admin/branding?notice=saved', 303);
  });
}

/**
 * The fields whose value differs from what the page showed. A field absent from the post is left
 * alone; a missing hidden value counts as "showed nothing", so an empty field removes an override
 * only when the page had shown one.
 */
function changesIn(fields: FormFields): { values: Values; shown: Values; patch: BrandingPatch } {
  const values = {} as Values;
  const shown = {} as Values;
  const patch: BrandingPatch = {};
  for (const name of BRANDING_SETTING_NAMES) {
    shown[name] = field(fields, shownName(name)).trim();
    values[name] = fields[name] === undefined ? shown[name] : field(fields, name).trim();
    if (values[name] !== shown[name]) patch[name] = values[name] === '' ? null : values[name];
  }
  return { values, shown, patch };
}

function form(tr: Translator, token: string, state: { settings: BrandingSettings; values: Values; shown: Values; errors: readonly FieldError[] }) {
  const view = state.settings.view();
  const errorOf = (name: BrandingSetting) => state.errors.find((error) => error.field === name)?.message;
  return html`${errorSummary(tr.t('admin.error.invalid'), state.errors)}
<p>${tr.t('admin.branding.intro')}</p>
<form method="post" action="/admin/branding" novalidate>${csrfInput(token)}
${BRANDING_SETTING_NAMES.map((name) => html`${hiddenInput(shownName(name), state.shown[name])}
${input({
  name, type: 'text', autocomplete: 'off', label: tr.t(`admin.branding.field.${name}`),
  value: state.values[name],
  ...(MAX_LENGTH[name] === undefined ? {} : { maxLength: MAX_LENGTH[name] }),
  hint: tr.t('admin.branding.configured', { value: view[name].configured ?? tr.t('admin.branding.none') }),
  error: errorOf(name),
})}`)}
<button type="submit">${tr.t('admin.save')}</button>
</form>`;
}
