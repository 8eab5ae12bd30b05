import type { FastifyInstance } from 'fastify';
import { errorResponse } from '../../http/schemas.ts';
import { BRANDING_SETTING_NAMES, type BrandingPatch, type BrandingSettings } from '../../ui/theme/settings.ts';
import type { AdminAccess } from './access.ts';

/**
 * `/api/admin/branding` (docs/branding.md#from-the-admin-api-or-console): the text settings of
 * the brand, stored overrides over the config. Scope `admin:branding` of its own: the support,
 * privacy and terms links are on every page and in every mail, so whoever may set them can send
 * every user anywhere — not a power to hand out with `admin:clients`. The service audits each
 * change as `branding-updated` with the names (never the values) that changed.
 */
export function registerAdminBrandingRoutes(app: FastifyInstance, deps: { settings: BrandingSettings; access: AdminAccess }): void {
  const { settings, access } = deps;
  const onRequest = access.require('admin:branding');
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 415: errorResponse };

  app.get('/api/admin/branding', {
    onRequest,
    schema: { tags, summary: 'The brand text settings: each effective value and the stored override (null: the config value applies).', response: { 401: errorResponse, 403: errorResponse, 200: viewSchema } },
  }, async () => settings.view());

  app.patch<{ Body: BrandingPatch }>('/api/admin/branding', {
    onRequest,
    schema: {
      tags,
      summary: 'Override brand text settings (validated as their config keys, contrast included); null removes an override. Every instance follows at once through pub/sub, within a minute at most.',
      body: { type: 'object', additionalProperties: false, properties: Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, { type: ['string', 'null'], maxLength: 2048 }])) },
      response: { ...errors, 200: viewSchema },
    },
  }, async (request) => {
    await settings.update(request.body ?? {});
    return settings.view();
  });
}

const tags = ['admin'];
const settingSchema = {
  type: 'object',
  required: ['value', 'override', 'configured'],
  properties: {
    value: { type: ['string', 'null'], description: 'The effective value (override, else config).' },
    override: { type: ['string', 'null'], description: 'The stored override, null for none.' },
    configured: { type: ['string', 'null'], description: 'The config value (file or environment), null for none.' },
  },
} as const;
const viewSchema = { type: 'object', required: BRANDING_SETTING_NAMES, properties: Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, settingSchema])) };
