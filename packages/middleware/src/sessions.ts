import { createHash } from 'node:crypto';
import type { FailureCode } from './failures.ts';
import { FetchFailure, isRecord, requestJSON } from './http.ts';
import type { KitEvent, Principal } from './types.ts';

export interface SessionValidator {
  /** The principal behind a session cookie value, or why not. */
  validate(cookieValue: string): Promise<Principal | FailureCode>;
}

const COOKIE_VALUE = /^[A-Za-z0-9_-]{16,512}$/;
const MAX_CACHED = 10_000;

type Outcome = Principal | 'session_invalid';

function text(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 1024;
}

/** `GET /api/auth/session` 200 body → principal (src/http/schemas.ts userSchema, sessionSchema). */
function principalOf(body: unknown, scopes: readonly string[]): Principal | undefined {
  if (!isRecord(body) || !isRecord(body.user) || !isRecord(body.session)) return undefined;
  const { user, session } = body;
  const roles = user.roles;
  if (!text(user.id) || typeof user.email !== 'string' || !(user.name === null || typeof user.name === 'string') || typeof user.email_verified !== 'boolean') return undefined;
  if (!Array.isArray(roles) || !roles.every(text) || !text(session.id) || typeof session.expires_at !== 'string') return undefined;
  // `permissions` (the role catalog) is absent from servers before it: none.
  const permissions = user.permissions ?? [];
  if (!Array.isArray(permissions) || !permissions.every(text)) return undefined;
  const expiresAt = Date.parse(session.expires_at);
  if (!Number.isFinite(expiresAt)) return undefined;
  return Object.freeze({
    kind: 'user',
    subject: user.id,
    scopes,
    roles: Object.freeze([...(roles as string[])]),
    permissions: Object.freeze([...(permissions as string[])]),
    sessionId: session.id,
    clientId: null,
    expiresAt,
    via: 'session',
    user: Object.freeze({ id: user.id, email: user.email, name: user.name as string | null, emailVerified: user.email_verified }),
  });
}

/**
 * Session cookies, validated by Gatehouse itself (`GET /api/auth/session` with only this cookie
 * forwarded — never the request's other cookies). Answers, good and bad, are remembered for
 * `cacheMs` under the SHA-256 of the cookie (the cookie itself is not kept), and concurrent
 * requests with one cookie share one call. A session the revocation stream reports as ended is
 * refused at once, cached or not. Gatehouse unreachable → `server_unavailable` (fail closed).
 */
export function createSessionValidator(deps: {
  serverUrl: string;
  cookieName: string;
  cacheMs: number;
  scopes: readonly string[];
  timeoutMs: number;
  now: () => number;
  sessionRevoked: (sessionId: string) => boolean;
  onEvent: (event: KitEvent) => void;
}): SessionValidator {
  const url = `${deps.serverUrl}/api/auth/session`;
  const scopes = Object.freeze([...deps.scopes]);
  const cache = new Map<string, { outcome: Outcome; at: number }>();
  const pending = new Map<string, Promise<Outcome | 'server_unavailable'>>();

  async function ask(cookieValue: string): Promise<Outcome | 'server_unavailable'> {
    try {
      const response = await requestJSON(url, { headers: { cookie: `${deps.cookieName}=${cookieValue}` }, timeoutMs: deps.timeoutMs, maxBytes: 64 * 1024 });
      if (response.status === 401) return 'session_invalid';
      if (response.status !== 200) throw new FetchFailure(`session check answered ${response.status}`);
      const principal = principalOf(response.body, scopes);
      if (!principal) throw new FetchFailure('session check answered an unexpected body');
      return principal;
    } catch (error) {
      deps.onEvent({ type: 'session-check-failed', detail: error instanceof Error ? error.message : 'failed' });
      return 'server_unavailable';
    }
  }

  return {
    async validate(cookieValue) {
      if (!COOKIE_VALUE.test(cookieValue)) return 'session_invalid';
      const key = createHash('sha256').update(cookieValue).digest('base64url');
      const now = deps.now();
      const cached = cache.get(key);
      let outcome: Outcome | 'server_unavailable';
      if (cached && now - cached.at < deps.cacheMs) {
        outcome = cached.outcome;
      } else {
        let call = pending.get(key);
        if (!call) {
          call = ask(cookieValue).finally(() => pending.delete(key));
          pending.set(key, call);
        }
        outcome = await call;
        if (outcome !== 'server_unavailable' && deps.cacheMs > 0) {
          if (cache.size >= MAX_CACHED) cache.clear();
          cache.set(key, { outcome, at: deps.now() });
        }
      }
      if (typeof outcome === 'string') return outcome;
      if (outcome.expiresAt <= deps.now() || (outcome.sessionId !== undefined && deps.sessionRevoked(outcome.sessionId))) return 'session_invalid';
      return outcome;
    },
  };
}
