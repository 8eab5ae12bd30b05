import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import { AUDIT_EVENT_TYPES, type AuditEventType, type AuditLog, type AuditQuery } from '../audit/audit-log.ts';
import type { AdminAccess } from './access.ts';
import { auditExport, type ExportFormat } from './audit-export.ts';
import { eventSchema, eventView } from './users-routes.ts';

export const MAX_AUDIT_PAGE = 500;

interface AuditFilterQuery {
  user_id?: string;
  type?: AuditEventType;
  outcome?: 'success' | 'failure';
  actor_id?: string;
  client_id?: string;
  from?: string;
  to?: string;
}

/**
 * `/api/admin/audit`: the audit log, filtered and paged newest first, and a streamed export
 * (NDJSON or CSV). Needs an admin session or a client-credentials token with `admin:audit`
 * (access.ts): `admin:users` alone does not open it (least privilege). Read-only.
 */
export function registerAdminAuditRoutes(app: FastifyInstance, deps: { audit: Pick<AuditLog, 'query'>; access: AdminAccess }): void {
  const { audit, access } = deps;
  const onRequest = access.require('admin:audit');
  const errors = { 400: errorResponse, 401: errorResponse, 403: errorResponse };

  app.get<{ Querystring: AuditFilterQuery & { limit?: string; cursor?: string } }>('/api/admin/audit', {
    onRequest,
    schema: {
      tags,
      summary: 'Audit events, newest first, filtered by user, type, outcome, actor, client and time; pass next_cursor back for the next page.',
      querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, limit: { type: 'string', pattern: '^[1-9][0-9]{0,2}$', description: `1 to ${MAX_AUDIT_PAGE} (default 100)` }, cursor: { type: 'string', maxLength: 64 } } },
      response: { ...errors, 200: { type: 'object', required: ['events', 'next_cursor'], properties: { events: { type: 'array', items: eventSchema }, next_cursor: { type: ['string', 'null'] } } } },
    },
  }, async (request) => {
    const { limit, cursor, ...rest } = request.query;
    const size = Math.min(MAX_AUDIT_PAGE, Number(limit ?? 100));
    // One row more than asked: a next page exists only when it came back.
    const rows = await query(audit, { ...filterOf(rest), limit: size + 1, ...(cursor === undefined ? {} : { before: cursor }) });
    const page = rows.slice(0, size);
    return { events: page.map(eventView), next_cursor: rows.length > size ? page[page.length - 1]!.id : null };
  });

  app.get<{ Querystring: AuditFilterQuery & { format?: ExportFormat } }>('/api/admin/audit/export', {
    onRequest,
    schema: {
      tags,
      summary: 'Every matching audit event, newest first, streamed as NDJSON (one event per line, the fields of GET /api/admin/audit) or CSV (formula cells neutralised).',
      querystring: { type: 'object', additionalProperties: false, properties: { ...filterProperties, format: { type: 'string', enum: ['ndjson', 'csv'], description: 'default ndjson' } } },
      // 200: a stream, described in src/http/openapi-operations.ts.
      response: errors,
    },
  }, async (request, reply) => {
    const { format = 'ndjson', ...rest } = request.query;
    const filter = filterOf(rest);
    const stamp = new Date().toISOString().replaceAll(':', '-').slice(0, 19);
    reply
      .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
      .header('content-disposition', `attachment; filename="gatehouse-audit-${stamp}.${format === 'csv' ? 'csv' : 'ndjson'}"`)
      .header('x-content-type-options', 'nosniff');
    return reply.send(Readable.from(auditExport(audit, filter, format)));
  });
}

async function query(audit: Pick<AuditLog, 'query'>, filter: AuditQuery) {
  try {
    return await audit.query(filter);
  } catch (error) {
    if (error instanceof RangeError) throw apiError('invalid_request', 'cursor: not a cursor of this list.');
    throw error;
  }
}

function filterOf(query: AuditFilterQuery): Omit<AuditQuery, 'limit' | 'before'> {
  const from = query.from === undefined ? undefined : time('from', query.from);
  const to = query.to === undefined ? undefined : time('to', query.to);
  if (from !== undefined && to !== undefined && from >= to) throw apiError('invalid_request', 'from must be before to.');
  return {
    ...(query.user_id === undefined ? {} : { userId: query.user_id }),
    ...(query.type === undefined ? {} : { type: query.type }),
    ...(query.outcome === undefined ? {} : { outcome: query.outcome }),
    ...(query.actor_id === undefined ? {} : { actorId: query.actor_id }),
    ...(query.client_id === undefined ? {} : { clientId: query.client_id }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

/** ms since the epoch, or an ISO 8601 date-time. */
function time(name: string, text: string): number {
  const value = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(value)) throw apiError('invalid_request', `${name}: ms since the epoch or an ISO 8601 date-time.`);
  return value;
}

const tags = ['admin'];
const id = { type: 'string', minLength: 1, maxLength: 160 } as const;
const instant = { type: 'string', maxLength: 40, description: 'ms since the epoch or ISO 8601' } as const;
const filterProperties = {
  user_id: id,
  type: { type: 'string', enum: [...AUDIT_EVENT_TYPES] },
  outcome: { type: 'string', enum: ['success', 'failure'] },
  actor_id: { ...id, description: 'a user id, or client:<client_id>' },
  client_id: id,
  from: { ...instant, description: 'inclusive; ms since the epoch or ISO 8601' },
  to: { ...instant, description: 'exclusive; ms since the epoch or ISO 8601' },
} as const;
