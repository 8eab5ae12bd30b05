import type { FastifyInstance } from 'fastify';
import { replaceTheme, themeOf } from '../../ui/theme/brand.ts';
import { createBrandingSettings, type BrandingSettings } from '../../ui/theme/settings.ts';
import type { Shared } from '../shared.ts';
import type { SessionAuth } from '../sessions/http.ts';
import type { AdminAccess } from './access.ts';
import { registerAdminBrandingRoutes } from './branding-routes.ts';
import { registerBrandingPage } from './console/branding.ts';
import { createConsoleGuard } from './console/guard.ts';

/**
 * Branding from the admin API and console (issue 18, docs/branding.md#from-the-admin-api-or-console):
 * stored text settings over the config, loaded before the first request, reloaded on every
 * instance on `branding:changed` and every minute; `GET|PATCH /api/admin/branding`
 * and `/admin/branding`, both behind `admin:branding`. Register after `registerTheme` and the admin API.
 */
export async function registerBrandingSettings(app: FastifyInstance, shared: Shared, parts: { access: AdminAccess; auth: SessionAuth }): Promise<BrandingSettings> {
  const base = themeOf(app);
  const settings = createBrandingSettings({
    db: shared.database.db,
    ephemeral: shared.ephemeral,
    config: shared.config,
    now: shared.now,
    audit: shared.audit,
    apply: (text) => replaceTheme(app, { ...base, brand: { ...base.brand, ...text } }),
    onError: shared.onBackgroundError,
  });
  await settings.start();
  app.addHook('onClose', () => settings.stop());
  registerAdminBrandingRoutes(app, { settings, access: parts.access });
  registerBrandingPage(app, { settings, csrf: shared.csrf }, createConsoleGuard({ access: parts.access, auth: parts.auth }));
  return settings;
}
