import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../errors/catalog.ts';
import { constantTimeEqual, randomToken } from '../crypto/random.ts';
import { clearedHostCookie, hostCookie, readCookie } from './cookies.ts';

/**
 * CSRF defence in two layers (SEC-ASVS-07):
 * 1. Every state-changing request checks `Origin` (or, when absent, `Sec-Fetch-Site`) against
 *    this server's origin and the configured first-party origins. Requests with neither header
 *    come from non-browser clients, which cannot be driven cross-site.
 * 2. Forms also carry a synchronizer token: HMAC(key, browser-bound random cookie). The cookie is
 *    `__Host-`, HttpOnly, SameSite=Strict, so another site can neither read nor set it; the token
 *    works before sign-in (login CSRF) and is renewed at sign-in.
 * JSON endpoints additionally require `Content-Type: application/json`, which a cross-site form
 * cannot send without a CORS preflight.
 */
export interface Csrf {
  checkOrigin(request: FastifyRequest): void;
  /** The form token for this browser, setting the binding cookie when missing. */
  formToken(request: FastifyRequest, reply: FastifyReply): string;
  verifyFormToken(request: FastifyRequest, token: unknown): void;
  /** New binding cookie (after sign-in / sign-out); returns the matching form token. */
  renew(reply: FastifyReply): string;
  isAllowedOrigin(origin: string): boolean;
}

export const CSRF_COOKIE = '__Host-gatehouse-csrf';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createCsrf(options: { key: Buffer; publicUrl: string; firstPartyOrigins: readonly string[] }): Csrf {
  const allowed = new Set([new URL(options.publicUrl).origin, ...options.firstPartyOrigins]);
  const sign = (binding: string): string => createHmac('sha256', options.key).update(binding).digest('base64url');
  const pending = new WeakMap<FastifyRequest, string>();

  function binding(request: FastifyRequest): string | undefined {
    const value = pending.get(request) ?? readCookie(request.headers.cookie, CSRF_COOKIE);
    return value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined;
  }

  function renew(reply: FastifyReply): string {
    const value = randomToken(32);
    pending.set(reply.request, value);
    reply.header('set-cookie', hostCookie(CSRF_COOKIE, value, { sameSite: 'Strict' }));
    return sign(value);
  }

  return {
    isAllowedOrigin: (origin) => allowed.has(origin),

    checkOrigin: (request) => {
      if (!UNSAFE.has(request.method)) return;
      const origin = request.headers.origin;
      if (origin !== undefined) {
        if (!allowed.has(origin)) throw apiError('csrf_failed', 'Cross-site request refused.', { detail: 'origin not allowed' });
        return;
      }
      const site = request.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        throw apiError('csrf_failed', 'Cross-site request refused.', { detail: `sec-fetch-site ${String(site)}` });
      }
    },

    formToken: (request, reply) => {
      const value = binding(request);
      return value === undefined ? renew(reply) : sign(value);
    },

    verifyFormToken: (request, token) => {
      const value = binding(request);
      if (value === undefined || typeof token !== 'string' || !constantTimeEqual(sign(value), token)) {
        throw apiError('csrf_failed', 'The form has expired or was not sent from this site. Reload the page and try again.');
      }
    },

    renew,
  };
}

export function clearCsrfCookie(reply: FastifyReply): void {
  reply.header('set-cookie', clearedHostCookie(CSRF_COOKIE, 'Strict'));
}
