import type { FastifyInstance } from 'fastify';
import { ADMIN_STYLESHEET } from './chrome.ts';

/**
 * The console's own rules on top of the base stylesheet (src/ui/theme/styles.ts): lists become
 * table-like rows on wide screens and stay stacked cards at phone width; the navigation wraps.
 * Only the `--gh-*` custom properties are used, so the brand and the dark scheme apply.
 */
export const ADMIN_CSS = `
.admin-nav a[aria-current=page] { font-weight: 700; text-decoration: none; }
.admin-rows li, .admin-tiles li { overflow-wrap: anywhere; }
/* Phone width: each part of a row on its own line (the grid below lays them out side by side). */
.admin-rows li > span { display: block; }
.admin-tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .75rem; }
.admin-tiles li { margin: 0; }
.admin-figure { display: block; font-size: 1.8rem; }
.admin-action { display: inline-block; margin-inline-end: .5rem; }
.admin-filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: 0 1rem; align-items: end; }
.admin-check { display: flex; align-items: center; gap: .5rem; margin-top: 1rem; }
.admin-check label { margin: 0; font-weight: 500; }
.admin-secret { font-size: 1.05rem; word-break: break-all; }
@media (min-width: 48rem) {
  .admin-rows li { display: grid; grid-template-columns: 2fr 2fr 1fr; gap: .25rem 1rem; align-items: baseline; }
}
`;

/** `GET /assets/admin.css`: same origin, so the page CSP allows it by nonce once linked. */
export function registerAdminAssets(app: FastifyInstance): void {
  app.get(ADMIN_STYLESHEET, { schema: { hide: true } }, async (_request, reply) => reply
    .header('cache-control', 'public, max-age=3600')
    .type('text/css; charset=utf-8')
    .send(ADMIN_CSS));
}
