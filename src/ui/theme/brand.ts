import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_ACCENT, DEFAULT_ACCENT_DARK } from './palette.ts';

/**
 * The brand the hosted pages and mails carry (docs/branding.md), from the branding config keys
 * (src/config/schema-branding.ts). Kept per app — tests run several apps in one process, each
 * with its own brand: pages ask `brandFor(request)`, mail templates (which run inside a
 * request's handler without the request object) `currentBrand()`.
 */
export interface Brand {
  /** Shown in titles, headers and mails. */
  productName: string;
  /** The primary colour (#rrggbb) for buttons and links, light and dark themes. */
  accentColor: string;
  accentColorDark: string;
  /** Corner radius (a checked CSS length). */
  radius: string;
  /** Absolute URLs (or null) for the footer and mails. */
  supportUrl: string | null;
  privacyUrl: string | null;
  termsUrl: string | null;
  /** Absolute URL of the logo served by this server (light / dark), or null for none. */
  logoUrl: string | null;
  logoDarkUrl: string | null;
}

export const DEFAULT_BRAND: Brand = Object.freeze({
  productName: 'Gatehouse',
  accentColor: DEFAULT_ACCENT,
  accentColorDark: DEFAULT_ACCENT_DARK,
  radius: '6px',
  supportUrl: null,
  privacyUrl: null,
  termsUrl: null,
  logoUrl: null,
  logoDarkUrl: null,
});

/** An image this server serves for the brand: its same-origin path (with a content version) and size. */
export interface BrandImage {
  path: string;
  contentType: string;
  width: number;
  height: number;
  /** The file's bytes, as read at start-up. */
  body: Buffer;
}

/** What the layout needs beyond `Brand`: the same-origin paths of the served files. */
export interface Theme {
  brand: Brand;
  logo: BrandImage | null;
  logoDark: BrandImage | null;
  favicon: BrandImage | null;
  /** Same-origin path of the extra stylesheet, or null. */
  stylesheetPath: string | null;
}

export const DEFAULT_THEME: Theme = Object.freeze({ brand: DEFAULT_BRAND, logo: null, logoDark: null, favicon: null, stylesheetPath: null });

const themes = new WeakMap<object, Theme>();
const current = new AsyncLocalStorage<FastifyRequest>();
let lastConfigured: Theme = DEFAULT_THEME;

/** Keeps `theme` for `app` (and the encapsulated plugins created from it). */
export function setTheme(app: FastifyInstance, theme: Theme): void {
  replaceTheme(app, theme);
  // preHandler, like the audit and i18n contexts: body parsing would lose a context entered earlier.
  app.addHook('preHandler', (request, _reply, done) => {
    current.run(request, done);
  });
}

/**
 * Swaps the theme `setTheme` kept for `app` (the admin-edited branding settings, reloaded at run
 * time); unlike `setTheme` it adds no hook, so it may run after the app is ready.
 */
export function replaceTheme(app: FastifyInstance, theme: Theme): void {
  const frozen = Object.freeze({ ...theme, brand: Object.freeze({ ...theme.brand }) });
  themes.set(app, frozen);
  lastConfigured = frozen;
}

/** The theme kept for `app` (or the one configured last). */
export function themeOf(app: FastifyInstance): Theme {
  return themes.get(app) ?? lastConfigured;
}

/**
 * The theme of the app serving `request`. Encapsulated Fastify plugins are objects created
 * from their parent instance, so the prototype chain leads back to the instance `setTheme` saw.
 */
export function themeFor(request: FastifyRequest): Theme {
  for (let server: object | null = request.server; server !== null; server = Object.getPrototypeOf(server) as object | null) {
    const theme = themes.get(server);
    if (theme) return theme;
  }
  return lastConfigured;
}

export function brandFor(request: FastifyRequest): Brand {
  return themeFor(request).brand;
}

/** The brand of the request being handled, else the one configured last (background jobs, CLI). */
export function currentBrand(): Brand {
  const request = current.getStore();
  return request ? brandFor(request) : lastConfigured.brand;
}
