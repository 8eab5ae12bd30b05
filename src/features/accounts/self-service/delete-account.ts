import { apiError } from '../../../errors/catalog.ts';
import type { UserAdmin } from '../../admin/users/service.ts';
import { accountDeletedMail } from '../../email/templates.ts';
import type { Mailer } from '../../email/mailer.ts';
import type { SessionRecord } from '../../sessions/store.ts';
import type { ClientInfo } from '../context.ts';
import type { UserStore } from '../store.ts';
import { requireRecentAuthentication, type RecentAuthDeps } from './recent-auth.ts';

/**
 * "Delete my account": recent authentication, then exactly the admin delete (one code path:
 * disabled first, every session ended and token revoked on every instance, the row and all that
 * hangs off it erased; the audit trail keeps only the id), then a notice to the address.
 */
export function createAccountDeletion(deps: {
  users: UserStore;
  admin: Pick<UserAdmin, 'delete'>;
  mailer: Mailer;
  recentAuth: RecentAuthDeps;
  onBackgroundError: (error: unknown, what: string) => void;
}) {
  return {
    async deleteOwnAccount(record: SessionRecord, input: { password?: string | undefined }, client: ClientInfo): Promise<void> {
      await requireRecentAuthentication(deps.recentAuth, record, input.password, client, 'account-delete');
      const user = await deps.users.findById(record.user.id);
      if (!user) throw apiError('unauthenticated', 'Sign in first.');
      // The actor is the subject: the audit event says the user deleted themself.
      await deps.admin.delete(user.id, { id: user.id });
      deps.mailer.send(accountDeletedMail({ to: user.email })).catch((error: unknown) => deps.onBackgroundError(error, 'account deleted mail'));
    },
  };
}

export type AccountDeletion = ReturnType<typeof createAccountDeletion>;
