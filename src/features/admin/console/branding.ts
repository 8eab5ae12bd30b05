import type { FastifyInstance } from 'fastify';
import type { Csrf } from '../../../http/csrf.ts';
import { checkedForm, csrfInput, errorSummary, field, input, type FieldError } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor, type MessageKey, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, pagePost } from '../../../ui/routes.ts';
import { BRANDING_SETTING_NAMES, brandingProblems, type BrandingPatch, type BrandingSetting, type BrandingSettings, type BrandingView } from '../../../ui/theme/settings.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
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

/**
 * `/admin/branding`: the brand's text settings through the same service as
 * `PATCH /api/admin/branding` (scope admin:clients). An empty field removes the override.
 * Refused values are shown next to their field, in the page's language.
 */
export function registerBrandingPage(app: FastifyInstance, deps: { settings: BrandingSettings; audit: AuditLog; csrf: Csrf }, admit: Admit): void {
  const { settings, csrf } = deps;
  const scope = ['admin:clients'] as const;

  app.get('/admin/branding', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, scope))) return reply;
    const tr = translatorFor(request);
    return sendConsolePage(request, reply, {
      section: 'branding', title: tr.t('admin.branding.title'), notice: noticeFrom(tr, request.query, NOTICES),
      body: form(tr, csrf.formToken(request, reply), settings.view(), {}, []),
    });
  });

  app.post('/admin/branding', pagePost(csrf), async (request, reply) => {
    const fields = checkedForm(request, csrf);
    const caller = await admit(request, reply, scope);
    if (!caller) return reply;
    const tr = translatorFor(request);
    const submitted = Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, field(fields, name).trim()])) as Record<BrandingSetting, string>;
    const patch: BrandingPatch = Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, submitted[name] === '' ? null : submitted[name]]));
    const errors: FieldError[] = brandingProblems(patch).map((problem) => ({ field: problem.field, message: tr.t(ERRORS[problem.field]) }));
    if (errors.length > 0) {
      return sendConsolePage(request, reply, {
        section: 'branding', title: tr.t('admin.branding.title'), status: 400,
        body: form(tr, csrf.formToken(request, reply), settings.view(), submitted, errors),
      });
    }
    const changed = await settings.update(patch);
    if (changed.length > 0) await deps.audit.record({ type: 'branding-updated', outcome: 'success', actorId: caller.id, detail: { fields: changed.join(' ') } });
    return reply.redirect('/admin/branding?notice=saved', 303);
  });
}

function form(tr: Translator, token: string, view: BrandingView, submitted: Partial<Record<BrandingSetting, string>>, errors: readonly FieldError[]) {
  const errorOf = (name: BrandingSetting) => errors.find((error) => error.field === name)?.message;
  return html`${errorSummary(tr.t('admin.error.invalid'), errors)}
<p>${tr.t('admin.branding.intro')}</p>
<form method="post" action="/admin/branding" novalidate>${csrfInput(token)}
${BRANDING_SETTING_NAMES.map((name) => input({
  name, type: 'text', autocomplete: 'off', label: tr.t(`admin.branding.field.${name}`),
  value: submitted[name] ?? view[name].override ?? '',
  hint: tr.t('admin.branding.configured', { value: view[name].configured ?? tr.t('admin.branding.none') }),
  error: errorOf(name),
}))}
<button type="submit">${tr.t('admin.save')}</button>
</form>`;
}
