import type { FastifyInstance } from 'fastify';
import { errorResponse } from '../../http/schemas.ts';
import { BRANDING_SETTING_NAMES, type BrandingPatch, type BrandingSettings } from '../../ui/theme/settings.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AdminAccess } from './access.ts';

/**
 * `/api/admin/branding` (docs/branding.md#from-the-admin-api-or-console): the text settings of
 * the brand, stored overrides over the config. Scope `admin:clients`: the brand is what relying
 * parties' users see on our pages, the closest area; no new scope for seven settings.
 * Audited as `branding-updated` with the names (never the values) that changed.
 */
export function registerAdminBrandingRoutes(app: FastifyInstance, deps: { settings: BrandingSettings; access: AdminAccess; audit: AuditLog }): void {
  const { settings, access, audit } = deps;
  const onRequest = access.require('admin:clients');
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse, 415: errorResponse };

  app.get('/api/admin/branding', {
    onRequest,
    schema: { tags, summary: 'The brand text settings: each effective value and the stored override (null: the config value applies).', response: { 401: errorResponse, 403: errorResponse, 200: viewSchema } },
  }, async () => settings.view());

  app.patch<{ Body: BrandingPatch }>('/api/admin/branding', {
    onRequest,
    schema: {
      tags,
      summary: 'Override brand text settings (validated as their config keys, contrast included); null removes an override. Every instance follows within seconds.',
      body: { type: 'object', additionalProperties: false, properties: Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, { type: ['string', 'null'], maxLength: 2048 }])) },
      response: { ...errors, 200: viewSchema },
    },
  }, async (request) => {
    const changed = await settings.update(request.body ?? {});
    const caller = access.caller(request);
    if (changed.length > 0) await audit.record({ type: 'branding-updated', outcome: 'success', actorId: caller.id, detail: { fields: changed.join(' ') } });
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
