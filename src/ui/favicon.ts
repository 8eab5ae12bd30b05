import type { FastifyInstance } from 'fastify';
import { themeFor, type Theme } from './theme/brand.ts';

/** Our own mark: an arched gate on the default accent blue of the pages (src/ui/theme/palette.ts). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b57d0"/><path d="M7 27V13.5L16 6l9 7.5V27h-5.5v-7a3.5 3.5 0 0 0-7 0v7z" fill="#fff"/></svg>
`;

export const FAVICON_PATH = '/favicon.svg';

/** The layout's `<link rel="icon">`: the configured favicon (brandFaviconFile), else ours. */
export function faviconLink(theme: Theme): { href: string; type: string } {
  return theme.favicon ? { href: theme.favicon.path, type: theme.favicon.contentType } : { href: FAVICON_PATH, type: 'image/svg+xml' };
}

/**
 * `GET /favicon.svg` (linked from the layout without a configured favicon) and `GET /favicon.ico`
 * (what browsers ask for on pages without the link, such as JSON responses): the configured
 * favicon of this app's brand when there is one (for /favicon.svg only an SVG one), else ours;
 * cacheable for a day.
 */
export function registerFavicon(app: FastifyInstance): void {
  for (const url of [FAVICON_PATH, '/favicon.ico']) {
    app.get(url, { schema: { hide: true } }, async (request, reply) => {
      const configured = themeFor(request).favicon;
      const own = configured && (url !== FAVICON_PATH || configured.contentType === 'image/svg+xml') ? configured : undefined;
      return reply
        .type(own ? own.contentType : 'image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(own ? own.body : FAVICON_SVG);
    });
  }
}
