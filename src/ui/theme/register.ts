import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { ConfigError } from '../../config/types.ts';
import { registerI18n } from '../i18n/request.ts';
import { setTheme, type Brand, type BrandImage, type Theme } from './brand.ts';
import { BrandFileError, readBrandFile, type BrandFile, type BrandFileKind } from './files.ts';
import { PAGE_SCRIPT, PAGE_SCRIPT_PATH } from './page-script.ts';

export type ThemeConfig = Pick<Config,
  | 'publicUrl' | 'defaultLocale' | 'brandName' | 'brandLogoFile' | 'brandLogoDarkFile' | 'brandFaviconFile'
  | 'brandAccentColor' | 'brandAccentColorDark' | 'brandRadius' | 'brandStylesheetFile'
  | 'brandSupportUrl' | 'brandPrivacyUrl' | 'brandTermsUrl'>;

export const BRAND_ASSET_PREFIX = '/assets/brand/';
/** Brand files are served under a content version (`?v=`): a new file is a new URL, so a year of caching is safe. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** An SVG opened directly is a document on this origin: no script, no plugins, sandboxed. */
const ASSET_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; sandbox";

function load(key: keyof ThemeConfig, path: string | undefined, kind: BrandFileKind): BrandFile | undefined {
  if (path === undefined) return undefined;
  try {
    return readBrandFile(path, kind);
  } catch (error) {
    // Checked when the config was loaded; the file changed or went away since.
    if (error instanceof BrandFileError) throw new ConfigError(key, error.message);
    throw error;
  }
}

function serve(app: FastifyInstance, name: string, file: BrandFile): BrandImage {
  const url = `${BRAND_ASSET_PREFIX}${name}.${file.extension}`;
  app.get(url, { schema: { hide: true } }, async (_request, reply: FastifyReply) =>
    reply
      .type(file.contentType)
      .header('cache-control', IMMUTABLE)
      .header('content-security-policy', ASSET_CSP)
      .send(file.bytes),
  );
  return { path: `${url}?v=${file.version}`, contentType: file.contentType, width: file.width, height: file.height, body: file.bytes };
}

/**
 * The theme feature's entry point (docs/branding.md): reads the brand's files, serves them
 * under /assets/brand/ and the page script at /assets/page.js, keeps the brand for this app
 * (pages: `brandFor(request)`, mails: `currentBrand()`), and sets up the page language with the
 * configured default (`registerI18n`). A hook for every route: register it right after the
 * shared context, before the features' routes.
 */
export function registerTheme(app: FastifyInstance, config: ThemeConfig): Theme {
  const files = {
    logo: load('brandLogoFile', config.brandLogoFile, 'image'),
    logoDark: load('brandLogoDarkFile', config.brandLogoDarkFile, 'image'),
    favicon: load('brandFaviconFile', config.brandFaviconFile, 'image'),
    stylesheet: load('brandStylesheetFile', config.brandStylesheetFile, 'stylesheet'),
  };
  const logo = files.logo ? serve(app, 'logo', files.logo) : null;
  const logoDark = files.logoDark ? serve(app, 'logo-dark', files.logoDark) : null;
  const favicon = files.favicon ? serve(app, 'favicon', files.favicon) : null;
  const stylesheetPath = files.stylesheet ? serve(app, 'custom', files.stylesheet).path : null;
  const absolute = (image: BrandImage | null): string | null => (image ? new URL(image.path, `${config.publicUrl}/`).href : null);
  const brand: Brand = {
    productName: config.brandName,
    accentColor: config.brandAccentColor,
    accentColorDark: config.brandAccentColorDark,
    radius: config.brandRadius,
    supportUrl: config.brandSupportUrl ?? null,
    privacyUrl: config.brandPrivacyUrl ?? null,
    termsUrl: config.brandTermsUrl ?? null,
    logoUrl: absolute(logo),
    logoDarkUrl: absolute(logoDark ?? logo),
  };
  const theme: Theme = { brand, logo, logoDark, favicon, stylesheetPath };
  app.get(PAGE_SCRIPT_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(PAGE_SCRIPT),
  );
  setTheme(app, theme);
  registerI18n(app, { defaultLocale: config.defaultLocale });
  return theme;
}
