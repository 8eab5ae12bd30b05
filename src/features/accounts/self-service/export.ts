import type { User, UserStore } from '../store.ts';
import type { AuditLog, StoredAuditEvent } from '../../audit/audit-log.ts';
import { MAX_QUERY_LIMIT } from '../../audit/audit-log.ts';
import type { AuthorisedApplication } from '../../oauth/applications/routes.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { Identity } from '../../social/store.ts';
import type { FactorView } from '../../mfa/service.ts';

/** How many of their own audit events an export carries at most (newest first). */
export const EXPORT_AUDIT_LIMIT = 10_000;

export interface ExportDeps {
  users: UserStore;
  sessions: Pick<SessionService, 'list'>;
  identities: { listForUser(userId: string): Promise<Identity[]> };
  applications: { list(userId: string): Promise<AuthorisedApplication[]> };
  factors: (userId: string) => Promise<{ factors: FactorView[]; recoveryCodesRemaining: number }>;
  audit: Pick<AuditLog, 'query'>;
  pendingEmail: (userId: string) => Promise<string | null>;
  now: () => number;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * "Download my data" (GDPR art. 15 and 20): everything held about the user, built field by
 * field from allow-lists — never a row spread — so that no hash, sealed secret, TOTP seed,
 * passkey key or upstream token can slip in when a table grows a column.
 */
export async function exportUserData(deps: ExportDeps, userId: string, currentSessionId: string | null): Promise<Record<string, unknown> | undefined> {
  const user = await deps.users.findById(userId);
  if (!user) return undefined;
  const [sessions, identities, applications, mfa, events, pendingEmail] = await Promise.all([
    deps.sessions.list(userId),
    deps.identities.listForUser(userId),
    deps.applications.list(userId),
    deps.factors(userId),
    ownEvents(deps.audit, userId),
    deps.pendingEmail(userId),
  ]);
  return {
    format: 'gatehouse-user-export/1',
    exported_at: new Date(deps.now()).toISOString(),
    profile: profile(user, pendingEmail),
    roles: user.roles,
    linked_identities: identities.map((identity) => ({
      provider: identity.providerId,
      issuer: identity.issuer,
      subject: identity.subject,
      email: identity.email,
      email_verified: identity.emailVerified,
      linked_at: iso(identity.linkedAt),
      last_used_at: iso(identity.lastUsedAt),
    })),
    sessions: sessions.map((session) => ({
      id: session.id,
      current: session.id === currentSessionId,
      created_at: iso(session.createdAt),
      last_seen_at: iso(session.lastSeenAt),
      expires_at: iso(session.expiresAt),
      authenticated_at: iso(session.authTime),
      auth_methods: session.authMethods,
      ip: session.ip,
      user_agent: session.userAgent,
    })),
    applications: applications.map((application) => ({
      client_id: application.client_id,
      name: application.name,
      scopes: application.scopes,
      consented_at: application.consented_at === null ? null : new Date(application.consented_at * 1000).toISOString(),
      active_grants: application.active_grants,
    })),
    mfa: {
      factors: mfa.factors.map((factor) => ({ kind: factor.kind, name: factor.name, created_at: iso(factor.createdAt), last_used_at: iso(factor.lastUsedAt) })),
      recovery_codes_remaining: mfa.recoveryCodesRemaining,
    },
    audit_events: events.map((event) => {
      // An administrator's IP and browser are theirs, not the user's: never in the user's export.
      const byAdministrator = event.actorId !== null && event.actorId !== userId;
      return {
        id: event.id,
        at: iso(event.at),
        type: event.type,
        outcome: event.outcome,
        by_administrator: byAdministrator,
        client_id: event.clientId,
        ip: byAdministrator ? null : event.ip,
        user_agent: byAdministrator ? null : event.userAgent,
        detail: event.detail,
      };
    }),
  };
}

function profile(user: User, pendingEmail: string | null): Record<string, unknown> {
  return {
    id: user.id,
    email: user.email,
    email_verified: user.emailVerifiedAt !== null,
    email_verified_at: iso(user.emailVerifiedAt),
    pending_email: pendingEmail,
    name: user.name,
    has_password: user.passwordHash !== null,
    created_at: iso(user.createdAt),
    updated_at: iso(user.updatedAt),
    disabled_at: iso(user.disabledAt),
  };
}

/** Pages through the audit log by its cursor (newest first) up to EXPORT_AUDIT_LIMIT. */
async function ownEvents(audit: Pick<AuditLog, 'query'>, userId: string): Promise<StoredAuditEvent[]> {
  const all: StoredAuditEvent[] = [];
  let before: string | undefined;
  while (all.length < EXPORT_AUDIT_LIMIT) {
    const page = await audit.query({ userId, limit: MAX_QUERY_LIMIT, ...(before ? { before } : {}) });
    all.push(...page);
    if (page.length < MAX_QUERY_LIMIT) break;
    before = page.at(-1)!.id;
  }
  return all.slice(0, EXPORT_AUDIT_LIMIT);
}
