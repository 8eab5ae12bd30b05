import type { AuditLog } from '../audit/audit-log.ts';
import type { Mailer } from '../email/mailer.ts';
import { factorChangeMail } from './mails.ts';
import type { MfaStore } from './store.ts';

/**
 * Operator reset (CLI `gatehouse users reset-mfa`, MfaService.reset): every factor and recovery
 * code of the user goes in one transaction, audited as `mfa-removed` with `reset: true` and the
 * actor, and the user is told by mail. Returns how many factors were removed.
 */
export async function resetAllFactors(deps: { store: MfaStore; audit: AuditLog; mailer?: Mailer | undefined }, user: { id: string; email: string }, actor: string): Promise<{ removed: number; mail: Promise<void> }> {
  const removed = await deps.store.deleteAllForUser(user.id);
  await deps.audit.record({ type: 'mfa-removed', outcome: 'success', userId: user.id, actorId: actor, detail: { reset: true, factors: removed, actor } });
  const mail = deps.mailer ? deps.mailer.send(factorChangeMail({ to: user.email, change: 'mfa-reset' })) : Promise.resolve();
  return { removed, mail };
}
