import type { FastifyReply, FastifyRequest } from 'fastify';
import { clearedHostCookie, hostCookie, readCookie } from '../../http/cookies.ts';
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
