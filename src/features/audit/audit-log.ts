import type { Kysely } from 'kysely';
import { newId } from '../../crypto/random.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import { cleanId, cleanIp, cleanUserAgent, sanitizeDetail, type DetailValue } from './sanitize.ts';
import { recordMAC } from './chain.ts';
import { currentAuditRequest, type AuditRequestContext } from './request-context.ts';

/**
 * The append-only audit log of security events (SEC-ASVS-14). This module can insert and read
 * rows, and nothing else: there is no update and no delete.
 */

/** Every event type, in one list so that an admin API can validate a `type` filter. */
export const AUDIT_EVENT_TYPES = [
  // accounts
  'sign-up',
  'sign-up-existing-email',
  'email-verified',
  'email-verification-request',
  'email-change',
  'profile-update',
  // sign-in and sessions
  'sign-in',
  'sign-out',
  'lockout',
  'session-revoked',
  // passwords
  'password-change',
  'password-reset',
  'password-reset-request',
  // second factors
  'mfa-enrolled',
  'mfa-removed',
  'mfa-challenge',
  'recovery-codes-regenerated',
  // social login
  'identity-linked',
  'identity-unlinked',
  'identity-provider-created',
  'identity-provider-updated',
  'identity-provider-deleted',
  // administration
  'user-created',
  'user-disabled',
  'user-enabled',
  'user-deleted',
  'role-change',
  'role-created',
  'role-updated',
  'role-deleted',
  // OAuth / OpenID Connect provider
  'consent-granted',
  'consent-revoked',
  'refresh-token-reuse',
  'token-revoked',
  'token-exchange',
  'client-created',
  'client-updated',
  'client-deleted',
  'client-secret-rotated',
  'initial-access-token-created',
  'signing-key-rotated',
  'signing-key-retired',
  'branding-updated',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export function isAuditEventType(value: string): value is AuditEventType {
  return (AUDIT_EVENT_TYPES as readonly string[]).includes(value);
}

export interface AuditEvent {
  type: AuditEventType;
  outcome: 'success' | 'failure';
  /** The subject: the account the event is about. */
  userId?: string | null;
  /**
   * Who acted: the authenticated principal that caused the event, a user id (the subject's own,
   * for self-service) or `client:<client_id>`; null when no one was authenticated. Default: see
   * `actorOf` (docs/audit.md, "Who is the actor"); a value given here, null included, wins.
   */
  actorId?: string | null;
  /** The OAuth client involved; default: `detail.client_id` when that is a string. */
  clientId?: string | null;
  /** Default: those of the request the event is recorded in. */
  ip?: string | null;
  userAgent?: string | null;
  /** Context such as `{ method: 'password' }`. Secret-looking names are dropped, strings cut to 256. */
  detail?: Record<string, string | number | boolean | null>;
}

export interface StoredAuditEvent {
  /** Time-ordered: a later event has a greater id; use it as the paging cursor. */
  id: string;
  at: number;
  type: AuditEventType;
  outcome: 'success' | 'failure';
  userId: string | null;
  actorId: string | null;
  clientId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** The id of the request the event was recorded in (the `x-request-id` of its log lines). */
  requestId: string | null;
  detail: Record<string, DetailValue>;
}

export interface AuditQuery {
  userId?: string;
  /** Inclusive lower bound on `at` (ms since the epoch). */
  from?: number;
  /** Exclusive upper bound on `at` (ms since the epoch). */
  to?: number;
  type?: AuditEventType;
  outcome?: 'success' | 'failure';
  /** The acting admin: a user id or `client:<client_id>`. */
  actorId?: string;
  clientId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Only events older than this id: pass the last id of the previous page. */
  before?: string;
}

export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  query(filter: AuditQuery): Promise<StoredAuditEvent[]>;
}

export const DEFAULT_QUERY_LIMIT = 100;
export const MAX_QUERY_LIMIT = 1000;
const ID_PATTERN = /^[0-9a-f]{32}$/;

/**
 * `onRecorded` observes every event once its row is written (metrics count them, see
 * src/http/auth-metrics.ts); it must not throw and must not keep the event's personal data.
 */
export function createAuditLog(db: Kysely<DatabaseSchema>, options: { now?: () => number; onRecorded?: (event: AuditEvent) => void; /** Signs each row (docs/audit.md); without it rows have no MAC and are never sealed. */ macKey?: Buffer } = {}): AuditLog {
  const now = options.now ?? Date.now;
  const onRecorded = options.onRecorded;
  const macKey = options.macKey;
  const nextId = monotonicIds();

  return {
    async record(event: AuditEvent): Promise<void> {
      // Runtime checks too: an untyped caller must not write an unknown type or outcome.
      if (!isAuditEventType(event.type)) throw new TypeError('unknown audit event type');
      if (event.outcome !== 'success' && event.outcome !== 'failure') throw new TypeError('audit outcome must be success or failure');
      const at = now();
      const request = currentAuditRequest();
      const detail = sanitizeDetail(event.detail);
      const clientId = event.clientId ?? (typeof detail.client_id === 'string' ? detail.client_id : null);
      const row = {
        id: nextId(at),
        at,
        type: event.type,
        outcome: event.outcome,
        user_id: cleanId(event.userId),
        actor_id: cleanId(actorOf(event, request)),
        client_id: cleanId(clientId),
        ip: cleanIp(event.ip ?? request?.ip),
        user_agent: cleanUserAgent(event.userAgent ?? request?.userAgent),
        request_id: cleanId(request?.requestId),
        detail: JSON.stringify(detail),
      };
      // No lock and no read: the chain is built later by the sealer (docs/audit.md).
      await db.insertInto('audit_events').values({ ...row, mac: macKey ? recordMAC(macKey, row) : null }).execute();
      onRecorded?.(event);
    },

    async query(filter: AuditQuery): Promise<StoredAuditEvent[]> {
      if (filter.before !== undefined && !ID_PATTERN.test(filter.before)) throw new RangeError('the audit cursor is not an event id');
      let query = db.selectFrom('audit_events').select(['id', 'at', 'type', 'outcome', 'user_id', 'actor_id', 'client_id', 'ip', 'user_agent', 'request_id', 'detail']);
      if (filter.userId !== undefined) query = query.where('user_id', '=', filter.userId);
      if (filter.type !== undefined) query = query.where('type', '=', filter.type);
      if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
      if (filter.actorId !== undefined) query = query.where('actor_id', '=', filter.actorId);
      if (filter.clientId !== undefined) query = query.where('client_id', '=', filter.clientId);
      if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
      if (filter.to !== undefined) query = query.where('at', '<', filter.to);
      if (filter.before !== undefined) query = query.where('id', '<', filter.before);
      const rows = await query.orderBy('id', 'desc').limit(clampLimit(filter.limit)).execute();
      return rows.map((row) => ({
        id: row.id,
        at: Number(row.at),
        type: row.type as AuditEventType,
        outcome: row.outcome === 'success' ? 'success' : 'failure',
        userId: row.user_id,
        actorId: row.actor_id ?? null,
        clientId: row.client_id ?? null,
        ip: row.ip,
        userAgent: row.user_agent,
        requestId: row.request_id ?? null,
        detail: parseDetail(row.detail),
      }));
    },
  };
}

/**
 * The default actor (docs/audit.md, "Who is the actor"). An explicit `actorId`, null included,
 * wins. A sign-in is the user's own act once it succeeds, and nobody's while it fails, whatever
 * session the browser already had: that session is not what made the attempt, and a successful
 * sign-in replaces it (SEC-SESS-01). Anything else: whoever the request is authenticated as
 * (`setAuditActor`), else null — no one signed in, or no request at all (a background job).
 */
function actorOf(event: AuditEvent, request: AuditRequestContext | undefined): string | null {
  if (event.actorId !== undefined) return event.actorId;
  if (event.type === 'sign-in') return event.outcome === 'success' ? (event.userId ?? null) : null;
  return request?.actorId ?? null;
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_QUERY_LIMIT;
  return Math.min(MAX_QUERY_LIMIT, Math.max(1, Math.floor(limit)));
}

function parseDetail(text: string): Record<string, DetailValue> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, DetailValue>) : {};
  } catch {
    return {};
  }
}

/**
 * `newId` sorts by millisecond, then by chance. Events of one process in the same millisecond
 * (a lockout and the failed sign-in that caused it) must keep their order, and a clock stepping
 * back must not reorder the trail: a new id never sorts before the previous one.
 */
function monotonicIds(): (at: number) => string {
  let last = '';
  return (at: number): string => {
    let id = newId(at);
    if (id <= last) id = (BigInt(`0x${last}`) + 1n).toString(16).padStart(last.length, '0');
    last = id;
    return id;
  };
}
