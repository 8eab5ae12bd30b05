import type { FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Csrf } from '../../../http/csrf.ts';
import type { KeyService } from '../../../keys/service.ts';
import type { DatabaseSchema } from '../../../storage/sql/schema.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientRegistry } from '../../clients/registry.ts';
import type { MfaService } from '../../mfa/service.ts';
import type { RoleCatalog } from '../../roles/catalog.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { ProviderRegistry } from '../../social/registry.ts';
import type { AdminAccess, AdminCaller, AdminScope } from '../access.ts';
import type { UserAdmin } from '../users/service.ts';

/**
 * What the admin console needs: the admin API's own access check and services (one code path:
 * the console is another face of `/api/admin/…`, never a second implementation).
 */
export interface AdminConsoleDeps {
  access: AdminAccess;
  auth: SessionAuth;
  csrf: Csrf;
  users: UserAdmin;
  roles: RoleCatalog;
  clients: ClientRegistry;
  providers: ProviderRegistry;
  keys: Pick<KeyService, 'list' | 'tick' | 'rotate' | 'retire'>;
  audit: AuditLog;
  /** Factors on the user page (the reset goes through the user service, as the API's). */
  mfa: Pick<MfaService, 'factors'>;
  /** The dashboard's counts (sessions and audit rows), one bounded query each. */
  db: Kysely<DatabaseSchema>;
  publicUrl: string;
  now: () => number;
}

/** The admin a console request acts as: passed the admin access check for every scope it needs. */
export type Admit = (request: FastifyRequest, reply: import('fastify').FastifyReply, scopes: readonly AdminScope[]) => Promise<AdminCaller | undefined>;
