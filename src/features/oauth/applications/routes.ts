import type { FastifyInstance } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { TokenStore } from '../../tokens/store.ts';
import type { ConsentStore } from '../consents/store.ts';

export interface AuthorisedApplication {
  client_id: string;
  name: string;
  scopes: string[];
  consented_at: number | null;
  active_grants: number;
}

/** The applications a user authorised: consents given, plus clients holding live grants. */
export async function listApplications(userId: string, deps: { consents: ConsentStore; tokenStore: TokenStore; clients: ClientStore; now: () => number }): Promise<AuthorisedApplication[]> {
  const [consents, grants] = await Promise.all([deps.consents.list(userId), deps.tokenStore.liveGrantsOfUser(userId, deps.now())]);
  const ids = [...new Set([...consents.map((consent) => consent.clientId), ...grants.map((grant) => grant.client_id)])];
  const result: AuthorisedApplication[] = [];
  for (const clientId of ids) {
    const client = await deps.clients.get(clientId);
    if (!client) continue;
    const consent = consents.find((item) => item.clientId === clientId);
    const ofClient = grants.filter((grant) => grant.client_id === clientId);
    const scopes = consent?.scopes ?? [...new Set(ofClient.flatMap((grant) => grant.scope.split(' ').filter(Boolean)))];
    result.push({ client_id: clientId, name: client.name, scopes, consented_at: consent ? Math.floor(consent.grantedAt / 1000) : null, active_grants: ofClient.length });
  }
  return result;
}

/** Revokes an application for a user: consent forgotten, every grant (refresh and access tokens) revoked. */
export async function revokeApplication(userId: string, clientId: string, deps: { consents: ConsentStore; revocations: RevocationService; audit: AuditLog }): Promise<void> {
  await deps.consents.revoke(userId, clientId);
  await deps.revocations.revokeUserClient(userId, clientId);
  await deps.audit.record({ type: 'consent-revoked', outcome: 'success', userId, detail: { client_id: clientId } });
}

/** `GET /api/auth/applications` and `DELETE /api/auth/applications/:clientId` (SEC-OAUTH-25). */
export function registerApplicationRoutes(app: FastifyInstance, deps: { auth: SessionAuth; consents: ConsentStore; tokenStore: TokenStore; clients: ClientStore; revocations: RevocationService; audit: AuditLog; now: () => number }): void {
  app.get('/api/auth/applications', {
    schema: {
      tags: ['auth'],
      summary: 'The applications the signed-in user authorised (consents and live grants).',
      response: {
        200: {
          type: 'object',
          required: ['applications'],
          properties: {
            applications: {
              type: 'array',
              items: {
                type: 'object',
                required: ['client_id', 'name', 'scopes', 'consented_at', 'active_grants'],
                properties: { client_id: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } }, consented_at: { type: ['integer', 'null'] }, active_grants: { type: 'integer' } },
              },
            },
          },
        },
      },
    },
  }, async (request, reply) => {
    const record = await deps.auth.require(request);
    reply.header('cache-control', 'no-store');
    return { applications: await listApplications(record.user.id, deps) };
  });

  app.delete<{ Params: { clientId: string } }>('/api/auth/applications/:clientId', {
    schema: { tags: ['auth'], summary: 'Revoke an application: its consent, refresh tokens and access tokens.', params: { type: 'object', properties: { clientId: { type: 'string', minLength: 1, maxLength: 256 } }, required: ['clientId'] } },
  }, async (request, reply) => {
    const record = await deps.auth.require(request);
    const applications = await listApplications(record.user.id, deps);
    if (!applications.some((item) => item.client_id === request.params.clientId)) throw apiError('not_found', 'No such application.');
    await revokeApplication(record.user.id, request.params.clientId, deps);
    return reply.code(204).send();
  });
}
