import type { FastifyInstance } from 'fastify';

/** Our own mark: an arched gate on the accent blue of the pages (src/ui/layout.ts). */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b57d0"/><path d="M7 27V13.5L16 6l9 7.5V27h-5.5v-7a3.5 3.5 0 0 0-7 0v7z" fill="#fff"/></svg>
`;

export const FAVICON_PATH = '/favicon.svg';

/**
 * `GET /favicon.svg` (linked from the layout) and `GET /favicon.ico` (what browsers ask for on
 * pages without the link, such as JSON responses): the same SVG, cacheable for a day.
 */
export function registerFavicon(app: FastifyInstance): void {
  for (const url of [FAVICON_PATH, '/favicon.ico']) {
    app.get(url, { schema: { hide: true } }, async (_request, reply) =>
      reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(FAVICON_SVG),
    );
  }
}
