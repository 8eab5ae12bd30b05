import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { AUDIT_EVENT_TYPES, type AuditEvent } from '../features/audit/audit-log.ts';
import type { RevocationService } from '../features/tokens/revocation.ts';
import { HOUSEKEEPING_TABLES, type HousekeepingTable } from '../features/housekeeping/tables.ts';

/**
 * Authentication metrics (docs/operations.md lists every family). Most are counted from audit
 * events through the audit log's observer; the rest — tokens issued, introspection answers,
 * revocation-stream subscribers, the password-hash queue — where no audit event exists.
 *
 * Every label value comes from a closed set written here: never a user id, email, client id,
 * provider id or free text, so the number of series is fixed whatever traffic arrives.
 */
export interface AuthMetrics {
  /** The audit log's observer: counts one recorded event. */
  observeAuditEvent(event: AuditEvent): void;
  /** RFC 7662 answers, by whether the token was active. */
  introspection(result: 'active' | 'inactive'): void;
  /** The revocation service with its `subscribe` counted (the stream route's subscribers) and access-token revocations counted. */
  counting(revocations: RevocationService): RevocationService;
  /** Rows the housekeeping job deleted (src/features/housekeeping), by table. */
  housekeepingDeleted(table: HousekeepingTable, count: number): void;
}

const GRANT_TYPES = new Set(['authorization_code', 'refresh_token', 'client_credentials']);
const SIGN_IN_METHODS = new Set(['password', 'social']);
const TOKEN_ENDPOINT = '/oauth/token';
/** First-party sign-in over the JSON API: a 200 naming a `client_id` answered with tokens (docs/tokens.md). */
const FIRST_PARTY_TOKEN_ROUTES = new Set(['/api/auth/sign-in', '/api/auth/sign-in/passkey', '/api/auth/mfa/verify', '/api/auth/mfa/enrol/totp/confirm']);
const FIRST_PARTY = 'first_party';

function closed(value: unknown, allowed: ReadonlySet<string>): string {
  return typeof value === 'string' && allowed.has(value) ? value : 'other';
}

export function registerAuthMetrics(app: FastifyInstance, registry: Registry, sources: { passwordHashQueueDepth?: () => number } = {}): AuthMetrics {
  const registers = [registry];
  const auditEvents = new Counter({ name: 'gatehouse_audit_events_total', help: 'Audit events recorded, by type and outcome.', labelNames: ['type', 'outcome'], registers });
  const signIns = new Counter({ name: 'gatehouse_sign_ins_total', help: 'Sign-in attempts that reached a verdict, by method and outcome.', labelNames: ['method', 'outcome'], registers });
  const lockouts = new Counter({ name: 'gatehouse_lockouts_total', help: 'Password sign-in attempts refused because the account (or device budget) is locked out.', registers });
  const signUps = new Counter({ name: 'gatehouse_sign_ups_total', help: 'Sign-ups, by method; outcome failure: the address already had an account.', labelNames: ['method', 'outcome'], registers });
  const passwordResets = new Counter({ name: 'gatehouse_password_resets_total', help: 'Password resets requested (mail sent) and completed.', labelNames: ['stage'], registers });
  const tokensIssued = new Counter({ name: 'gatehouse_tokens_issued_total', help: 'Successful token endpoint responses, by grant type; first_party: tokens from the JSON sign-in API.', labelNames: ['grant_type'], registers });
  const rotations = new Counter({ name: 'gatehouse_refresh_token_rotations_total', help: 'Refresh tokens exchanged for a successor (refresh_token grant answered 200).', registers });
  const reuse = new Counter({ name: 'gatehouse_token_reuse_detected_total', help: 'Single-use credentials presented again (the grant is revoked), by kind.', labelNames: ['token'], registers });
  const revocations = new Counter({ name: 'gatehouse_revocations_total', help: 'Revocations recorded: grants (with their tokens) and single access tokens.', labelNames: ['what'], registers });
  const introspections = new Counter({ name: 'gatehouse_introspections_total', help: 'RFC 7662 introspection answers, by result.', labelNames: ['result'], registers });
  const housekeeping = new Counter({ name: 'gatehouse_housekeeping_deleted_total', help: 'Rows the housekeeping job deleted (nothing could use them again), by table.', labelNames: ['table'], registers });
  const subscribers = new Gauge({ name: 'gatehouse_revocation_stream_subscribers', help: 'Open /api/revocations/stream connections on this instance.', registers });
  // Zero series up front: a rate() over a counter that appears late misses its first increase.
  for (const method of SIGN_IN_METHODS) for (const outcome of ['success', 'failure']) signIns.inc({ method, outcome }, 0);
  for (const grantType of [...GRANT_TYPES, FIRST_PARTY]) tokensIssued.inc({ grant_type: grantType }, 0);
  for (const result of ['active', 'inactive']) introspections.inc({ result }, 0);
  for (const stage of ['requested', 'completed']) passwordResets.inc({ stage }, 0);
  for (const token of ['refresh_token', 'authorization_code']) reuse.inc({ token }, 0);
  for (const what of ['grant', 'access_token']) revocations.inc({ what }, 0);
  for (const table of HOUSEKEEPING_TABLES) housekeeping.inc({ table }, 0);

  const hashQueueDepth = sources.passwordHashQueueDepth;
  if (hashQueueDepth) {
    new Gauge({
      name: 'gatehouse_password_hash_queue_depth',
      help: 'Password hashes (sign-in, sign-up, reset) waiting for a hashing slot.',
      registers,
      collect() {
        this.set(hashQueueDepth());
      },
    });
  }

  // Tokens issued: a 200 from the token endpoint is an issuance, whichever grant produced it.
  app.addHook('onResponse', (request, reply, done) => {
    if (reply.statusCode === 200 && request.method === 'POST' && request.routeOptions.url === TOKEN_ENDPOINT) {
      const grantType = closed((request.body as Record<string, unknown> | undefined)?.grant_type, GRANT_TYPES);
      tokensIssued.inc({ grant_type: grantType });
      if (grantType === 'refresh_token') rotations.inc();
    } else if (reply.statusCode === 200 && request.method === 'POST' && FIRST_PARTY_TOKEN_ROUTES.has(request.routeOptions.url ?? '')) {
      const clientId = (request.body as Record<string, unknown> | undefined)?.client_id;
      if (typeof clientId === 'string' && clientId !== '') tokensIssued.inc({ grant_type: FIRST_PARTY });
    }
    done();
  });

  return {
    observeAuditEvent(event) {
      if (!AUDIT_EVENT_TYPES.includes(event.type)) return;
      const outcome = event.outcome === 'success' ? 'success' : 'failure';
      auditEvents.inc({ type: event.type, outcome });
      switch (event.type) {
        case 'sign-in':
          signIns.inc({ method: closed(event.detail?.method, SIGN_IN_METHODS), outcome });
          break;
        case 'lockout':
          // The owner's notification is a second event about the same lockout, not a refusal.
          if (event.detail?.owner_notified !== true) lockouts.inc();
          break;
        case 'sign-up':
          signUps.inc({ method: closed(event.detail?.method ?? 'password', SIGN_IN_METHODS), outcome: 'success' });
          break;
        case 'sign-up-existing-email':
          signUps.inc({ method: 'password', outcome: 'failure' });
          break;
        case 'password-reset-request':
          passwordResets.inc({ stage: 'requested' });
          break;
        case 'password-reset':
          passwordResets.inc({ stage: 'completed' });
          break;
        case 'refresh-token-reuse':
          reuse.inc({ token: 'refresh_token' });
          break;
        case 'token-revoked':
          // Success: a grant was revoked. Failure is recorded for one thing only: a replayed
          // authorization code (RFC 6749 §4.1.2), which revokes what the code had issued.
          if (outcome === 'success') revocations.inc({ what: 'grant' });
          else reuse.inc({ token: 'authorization_code' });
          break;
        default:
          break;
      }
    },

    introspection(result) {
      introspections.inc({ result });
    },

    housekeepingDeleted(table, count) {
      if (HOUSEKEEPING_TABLES.includes(table)) housekeeping.inc({ table }, count);
    },

    counting(service) {
      return {
        ...service,
        revokeAccessToken: async (jti, expiresAt) => {
          await service.revokeAccessToken(jti, expiresAt);
          revocations.inc({ what: 'access_token' });
        },
        subscribe: async (handler) => {
          const unsubscribe = await service.subscribe(handler);
          subscribers.inc();
          let open = true;
          return async () => {
            if (open) subscribers.dec();
            open = false;
            await unsubscribe();
          };
        },
      };
    },
  };
}
