import type { AuditLog, AuditQuery, StoredAuditEvent } from '../audit/audit-log.ts';
import { eventView } from './users-routes.ts';

/** Rows read per database round trip while exporting: memory stays flat whatever the table size. */
export const EXPORT_PAGE = 500;

export type ExportFormat = 'ndjson' | 'csv';

export const CSV_COLUMNS = ['id', 'at', 'type', 'outcome', 'user_id', 'actor_id', 'client_id', 'ip', 'user_agent', 'request_id', 'detail'] as const;

/**
 * Every event matching `filter`, newest first, read page by page with the id cursor (never the
 * whole table at once). Rows recorded while the export runs are newer than its first page and
 * are not included: the export is the trail as it stood when it began.
 */
export async function* auditPages(audit: Pick<AuditLog, 'query'>, filter: Omit<AuditQuery, 'limit' | 'before'>, pageSize = EXPORT_PAGE): AsyncGenerator<StoredAuditEvent[]> {
  let before: string | undefined;
  for (;;) {
    const page = await audit.query({ ...filter, limit: pageSize, ...(before === undefined ? {} : { before }) });
    if (page.length > 0) yield page;
    if (page.length < pageSize) return;
    before = page[page.length - 1]!.id;
  }
}

/** The export as text chunks (one per page), for `Readable.from` → `reply.send`. */
export async function* auditExport(audit: Pick<AuditLog, 'query'>, filter: Omit<AuditQuery, 'limit' | 'before'>, format: ExportFormat, pageSize = EXPORT_PAGE): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  for await (const page of auditPages(audit, filter, pageSize)) {
    yield page.map(format === 'csv' ? csvRow : (event) => `${JSON.stringify(eventView(event))}\n`).join('');
  }
}

function csvRow(event: StoredAuditEvent): string {
  const cells = [event.id, new Date(event.at).toISOString(), event.type, event.outcome, event.userId, event.actorId, event.clientId, event.ip, event.userAgent, event.requestId, JSON.stringify(event.detail)];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

/**
 * One RFC 4180 cell. Values an attacker controls (user agent, names in `detail`) must not run as
 * a spreadsheet formula when the file is opened (OWASP "CSV injection"): a cell starting with
 * = + - @ (or a tab / carriage return, which some programs skip first) gets a leading `'`.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replaceAll('"', '""')}"` : safe;
}
