import type { FastifyInstance } from 'fastify';

/**
 * Headers on every response. API responses are never cached and never framed; HTML pages
 * replace the CSP with a nonce-based one (src/ui). HSTS only in production, where the public
 * URL is https.
 */
export function registerSecurityHeaders(app: FastifyInstance, options: { production: boolean }): void {
  const base: Record<string, string> = {
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'cross-origin-opener-policy': 'same-origin',
    'cache-control': 'no-store',
  };
  if (options.production) base['strict-transport-security'] = 'max-age=31536000; includeSubDomains';
  // Callback-style hooks (here and in api-guard.ts, metrics.ts): no promise per request.
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(base);
    reply.header('x-request-id', request.id);
    done();
  });
}
