import type { FastifyReply, FastifyRequest } from 'fastify';
import { constantTimeEqual, hashSecret, randomToken } from '../../../crypto/random.ts';
import { hostCookie, readCookie } from '../../../http/cookies.ts';

/**
 * The browser an authorization from a pushed request continues in (RFC 9126 §4, §7.3). The
 * `request_uri` is spent at the first visit; the sign-in, second step and consent that follow
 * continue an internal interaction instead. Pushed requests are one-time, so that interaction is
 * bound to the browser that spent the request_uri — a `__Host-` cookie whose SHA-256 the
 * interaction keeps — and its continuation URL is no second use in another browser.
 */
export const CONTINUATION_COOKIE = '__Host-gatehouse-authz';
/** As long as an interaction lives (authorize/state.ts). */
const MAX_AGE_SECONDS = 10 * 60;
const VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Sets (or keeps: two tabs may authorize at once) this browser's value; returns what the interaction stores. */
export function bindContinuation(request: FastifyRequest, reply: FastifyReply): string {
  const existing = readCookie(request.headers.cookie, CONTINUATION_COOKIE);
  const value = existing !== undefined && VALUE.test(existing) ? existing : randomToken(32);
  reply.header('set-cookie', hostCookie(CONTINUATION_COOKIE, value, { maxAgeSeconds: MAX_AGE_SECONDS }));
  return hashSecret(value);
}

/** Whether the request comes from the browser an interaction is bound to (true when it is not bound). */
export function continuesInSameBrowser(request: FastifyRequest, binding: string | undefined): boolean {
  if (binding === undefined) return true;
  const value = readCookie(request.headers.cookie, CONTINUATION_COOKIE);
  return value !== undefined && VALUE.test(value) && constantTimeEqual(hashSecret(value), binding);
}
