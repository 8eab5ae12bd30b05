import type { FastifyReply, FastifyRequest } from 'fastify';
import { hostCookie, readCookie } from '../../http/cookies.ts';
import { DEVICE_COOKIE_MAX_AGE_SECONDS, DEVICE_COOKIE_NAME } from './device-cookie.ts';

/** The device cookie this browser sent (unverified: `signIn` checks it against the login). */
export function presentedDevice(request: FastifyRequest): string | undefined {
  return readCookie(request.headers.cookie, DEVICE_COOKIE_NAME);
}

/** `__Host-`, Secure, HttpOnly, SameSite=Lax, like the session cookie, but kept for a year. */
export function setDeviceCookie(reply: FastifyReply, value: string): void {
  reply.header('set-cookie', hostCookie(DEVICE_COOKIE_NAME, value, { maxAgeSeconds: DEVICE_COOKIE_MAX_AGE_SECONDS }));
}
