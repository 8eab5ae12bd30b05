import type { AuditEvent, AuditEventType } from '../audit/audit-log.ts';
import { cleanId, cleanIp, sanitizeDetail } from '../audit/sanitize.ts';

/**
 * Webhook event types and the one fixed table that derives them from audit events
 * (docs/webhooks.md lists it). Types follow the Standard Webhooks `noun.verb` convention.
 * Events whose audit type nothing records yet (MFA, disable, delete) are delivered as soon as
 * their audit events appear.
 */
export const WEBHOOK_EVENT_TYPES = [
  'user.created',
  'user.verified',
  'user.updated',
  'user.disabled',
  'user.enabled',
  'user.deleted',
  'user.locked-out',
  'sign-in.succeeded',
  'sign-in.failed',
  'session.ended',
  'mfa.enrolled',
  'mfa.removed',
  'mfa.recovery-codes-regenerated',
  'refresh-token.reuse-detected',
  'client.created',
  'client.updated',
  'client.deleted',
  'client.secret-rotated',
  'signing-key.rotated',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export function isWebhookEventType(value: string): value is WebhookEventType {
  return (WEBHOOK_EVENT_TYPES as readonly string[]).includes(value);
}

/** Audit type → webhook type, for successes and for failures. Absent: no webhook. */
export const AUDIT_TO_WEBHOOK: Readonly<Partial<Record<AuditEventType, { success?: WebhookEventType; failure?: WebhookEventType }>>> = Object.freeze({
  'sign-up': { success: 'user.created' },
  'user-created': { success: 'user.created' },
  'email-verified': { success: 'user.verified' },
  'profile-update': { success: 'user.updated' },
  'email-change': { success: 'user.updated' },
  'password-change': { success: 'user.updated' },
  'password-reset': { success: 'user.updated' },
  'role-change': { success: 'user.updated' },
  'user-disabled': { success: 'user.disabled' },
  'user-enabled': { success: 'user.enabled' },
  'user-deleted': { success: 'user.deleted' },
  lockout: { success: 'user.locked-out', failure: 'user.locked-out' },
  'sign-in': { success: 'sign-in.succeeded', failure: 'sign-in.failed' },
  'mfa-challenge': { failure: 'sign-in.failed' },
  'sign-out': { success: 'session.ended' },
  'session-revoked': { success: 'session.ended' },
  'mfa-enrolled': { success: 'mfa.enrolled' },
  'mfa-removed': { success: 'mfa.removed' },
  'recovery-codes-regenerated': { success: 'mfa.recovery-codes-regenerated' },
  'refresh-token-reuse': { success: 'refresh-token.reuse-detected', failure: 'refresh-token.reuse-detected' },
  'client-created': { success: 'client.created' },
  'client-updated': { success: 'client.updated' },
  'client-deleted': { success: 'client.deleted' },
  'client-secret-rotated': { success: 'client.secret-rotated' },
  'signing-key-rotated': { success: 'signing-key.rotated' },
});

export function webhookTypeOf(event: Pick<AuditEvent, 'type' | 'outcome'>): WebhookEventType | undefined {
  return AUDIT_TO_WEBHOOK[event.type]?.[event.outcome];
}

/**
 * The Standard Webhooks payload: `type`, `timestamp` (ISO 8601) and `data`. `data` carries what
 * the audit record carries (sanitised as the audit row is: no secret-looking names), never
 * the user agent or anything else personal beyond the user id and the client IP.
 */
export function webhookPayload(type: WebhookEventType, event: AuditEvent, at: number): string {
  return JSON.stringify({
    type,
    timestamp: new Date(at).toISOString(),
    data: {
      audit_type: event.type,
      outcome: event.outcome,
      user_id: cleanId(event.userId),
      ip: cleanIp(event.ip),
      detail: sanitizeDetail(event.detail),
    },
  });
}
