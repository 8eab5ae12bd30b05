import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearedHostCookie, hostCookie, readCookie } from '../../http/cookies.ts';
import { randomToken } from '../../crypto/random.ts';
import { CEREMONY_TTL_MS } from './passkeys.ts';
import { PENDING_TTL_MS } from './pending.ts';

/** The half-signed-in browser's cookie: `__Host-`, HttpOnly, SameSite=Lax, 5 minutes. */
export const PENDING_COOKIE = '__Host-gatehouse-mfa';

export function pendingCookieValue(request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, PENDING_COOKIE);
}

export function setPendingCookie(reply: FastifyReply, token: string): void {
  reply.header('set-cookie', hostCookie(PENDING_COOKIE, token, { maxAgeSeconds: PENDING_TTL_MS / 1000 }));
}

export function clearPendingCookie(reply: FastifyReply): void {
  reply.header('set-cookie', clearedHostCookie(PENDING_COOKIE));
}

/**
 * The cookie that binds a WebAuthn challenge to this browser (HttpOnly, 5 minutes), for the
 * JSON API and the pages (src/ui/pages/mfa*.ts) alike, so a browser has one binding for both.
 */
export const CEREMONY_COOKIE = '__Host-gatehouse-webauthn';

/** This browser's ceremony binding: the one it has (each tab may run a ceremony), else a new one; (re)set for 5 minutes. */
export function ceremonyCookieBinding(request: FastifyRequest, reply: FastifyReply): string {
  const present = readCookie(request.headers.cookie, CEREMONY_COOKIE);
  const binding = present && /^[A-Za-z0-9_-]{43}$/.test(present) ? present : randomToken(32);
  reply.header('set-cookie', hostCookie(CEREMONY_COOKIE, binding, { maxAgeSeconds: CEREMONY_TTL_MS / 1000 }));
  return binding;
}

export function ceremonyCookieValue(request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, CEREMONY_COOKIE);
}
