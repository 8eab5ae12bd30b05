import type { FastifyReply, FastifyRequest } from 'fastify';
import { setAuditActor } from '../audit/request-context.ts';
import { apiError } from '../../errors/catalog.ts';
import { clearedHostCookie, hostCookie, readCookie } from '../../http/cookies.ts';
import type { SessionService } from './service.ts';
import type { SessionRecord } from './store.ts';

/**
 * The session cookie at the HTTP edge. The session token travels only in the `__Host-` cookie
 * (SEC-SESS-05): never a query parameter, form field or other header.
 */
export interface SessionAuth {
  /** The request's live session, validated once per request. */
  current(request: FastifyRequest): Promise<SessionRecord | undefined>;
  /** Like `current`, or 401 `unauthenticated`. */
  require(request: FastifyRequest): Promise<SessionRecord>;
  setCookie(reply: FastifyReply, token: string): void;
  clearCookie(reply: FastifyReply): void;
  /** Drops the memoised session so the next `current` validates again (after a change). */
  forget(request: FastifyRequest): void;
  /**
   * SEC-SESS-01: hands this browser over to the session a sign-in just created. The session it
   * had ends server-side — unless the same user re-authenticated (prompt=login, max_age): then
   * `onReplaced` moves that session's grants to the new one first, since it is not a sign-out —
   * and the new session's cookie is set. From here the one who signed in is the request's audit
   * actor: ending the old session is their act, not its owner's (docs/audit.md).
   */
  handOver(request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn, onReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void>): Promise<void>;
}

/** What a completed sign-in hands the browser. */
export interface SignedIn {
  user: { id: string };
  session: { id: string };
  token: string;
}

export function createSessionAuth(options: { sessions: SessionService; cookieName: string }): SessionAuth {
  const memo = new WeakMap<FastifyRequest, Promise<SessionRecord | undefined>>();
  const current = (request: FastifyRequest): Promise<SessionRecord | undefined> => {
    let pending = memo.get(request);
    if (!pending) {
      // docs/audit.md: a live session makes its user the actor of what this request records.
      pending = options.sessions.validate(readCookie(request.headers.cookie, options.cookieName)).then((record) => { if (record) setAuditActor(request, record.user.id); return record; });
      memo.set(request, pending);
    }
    return pending;
  };
  const setCookie = (reply: FastifyReply, token: string): void => {
    reply.header('set-cookie', hostCookie(options.cookieName, token));
  };
  return {
    current,
    require: async (request) => {
      const record = await current(request);
      if (!record) throw apiError('unauthenticated', 'Sign in first.');
      return record;
    },
    setCookie,
    clearCookie: (reply) => {
      reply.header('set-cookie', clearedHostCookie(options.cookieName));
    },
    forget: (request) => {
      memo.delete(request);
    },
    handOver: async (request, reply, signedIn, onReplaced) => {
      const previous = await current(request);
      setAuditActor(request, signedIn.user.id);
      if (previous) {
        if (previous.user.id === signedIn.user.id) await onReplaced?.(previous.session.id, signedIn.session.id);
        await options.sessions.revoke(previous.session.id, previous.user.id);
      }
      memo.delete(request);
      setCookie(reply, signedIn.token);
    },
  };
}
