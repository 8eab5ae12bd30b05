import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** The only paths the admin listener answers; everything else there is 404. */
export const ADMIN_PATHS: ReadonlySet<string> = new Set(['/metrics', '/healthz', '/readyz']);

const VIA_ADMIN = Symbol('gatehouse.viaAdminListener');

/** Whether this request arrived on the admin listener (not the public port). */
export function viaAdminListener(raw: IncomingMessage): boolean {
  return (raw as IncomingMessage & { [VIA_ADMIN]?: true })[VIA_ADMIN] === true;
}

export interface AdminListener {
  /** e.g. `http://127.0.0.1:9464` (port 0 resolves to the real port). */
  url: string;
  close(): Promise<void>;
}

/**
 * The admin listener: a second port (default 127.0.0.1 only) for `/metrics` and the health
 * checks, so that scrape data never reaches the public port in production. Requests go through
 * the same Fastify app (`app.routing`: same hooks, logs, request metrics, 503 while closing),
 * marked so that `/metrics` knows where they came from.
 */
export async function startAdminListener(app: FastifyInstance, options: { port: number; host: string }): Promise<AdminListener> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?', 1)[0]!;
    if (!ADMIN_PATHS.has(path) || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      response.end(JSON.stringify({ error: 'not_found', error_description: 'The admin listener serves /metrics, /healthz and /readyz only.' }));
      return;
    }
    (request as IncomingMessage & { [VIA_ADMIN]?: true })[VIA_ADMIN] = true;
    app.routing(request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const url = typeof address === 'object' && address !== null ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : `http://${options.host}:${options.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Scrapes are short; keep-alive connections of a scraper must not hold the shutdown.
        server.closeIdleConnections();
      }),
  };
}
