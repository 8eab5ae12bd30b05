import type { FastifyInstance } from 'fastify';
import { html } from '../../../ui/html.ts';
import { translatorFor, type Translator } from '../../../ui/i18n/index.ts';
import { PAGE_GET, queryParam } from '../../../ui/routes.ts';
import { AUDIT_EVENT_TYPES, isAuditEventType, type AuditEventType, type AuditQuery } from '../../audit/audit-log.ts';
import { select, sendConsolePage } from './chrome.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';

const PAGE_SIZE = 50;
const FILTERS = ['user_id', 'type', 'outcome', 'actor_id', 'from', 'to'] as const;
type Filters = Partial<Record<(typeof FILTERS)[number], string>>;

/**
 * An event type's translated name. The key is built from the type, so the compiler refuses an
 * AUDIT_EVENT_TYPES entry without its `admin.audit.event.<type>` message.
 */
export function auditEventLabel(tr: Translator, type: AuditEventType): string {
  return tr.t(`admin.audit.event.${type}`);
}

export function auditOutcomeLabel(tr: Translator, outcome: 'success' | 'failure'): string {
  return outcome === 'success' ? tr.t('admin.audit.success') : tr.t('admin.audit.failure');
}

/** A date (`2025-01-31`) or a date-time input's value (`2025-01-31T08:30`), read as UTC; ms too. */
export function instant(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d{1,15}$/.test(text)) return Number(text);
  if (!/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/.test(text)) return undefined;
  const value = Date.parse(text.length === 10 ? `${text}T00:00:00Z` : `${text}Z`);
  return Number.isFinite(value) ? value : undefined;
}

/** The filters as the audit log's query, the same fields as `GET /api/admin/audit`; malformed ones are dropped. */
export function auditQuery(filters: Filters): Omit<AuditQuery, 'limit' | 'before'> {
  const from = instant(filters.from);
  const to = instant(filters.to);
  return {
    ...(filters.user_id && filters.user_id.length <= 160 ? { userId: filters.user_id } : {}),
    ...(filters.type && isAuditEventType(filters.type) ? { type: filters.type } : {}),
    ...(filters.outcome === 'success' || filters.outcome === 'failure' ? { outcome: filters.outcome } : {}),
    ...(filters.actor_id && filters.actor_id.length <= 160 ? { actorId: filters.actor_id } : {}),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

/**
 * `/admin/audit`: the audit log newest first with the API's filters and id cursor, and links to
 * the streamed exports (`/api/admin/audit/export`, which takes the same session).
 */
export function registerAuditPages(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  app.get('/admin/audit', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, ['admin:audit']))) return reply;
    const tr = translatorFor(request);
    const filters: Filters = Object.fromEntries(FILTERS.map((name) => [name, queryParam(request, name)]).filter(([, value]) => value !== undefined));
    const query = auditQuery(filters);
    const cursor = queryParam(request, 'cursor');
    const before = cursor !== undefined && /^[A-Za-z0-9_-]{1,64}$/.test(cursor) ? cursor : undefined;
    let rows;
    try {
      rows = await deps.audit.query({ ...query, limit: PAGE_SIZE + 1, ...(before ? { before } : {}) });
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      rows = await deps.audit.query({ ...query, limit: PAGE_SIZE + 1 });
    }
    const page = rows.slice(0, PAGE_SIZE);
    const kept = new URLSearchParams(Object.entries(filters).filter((entry): entry is [string, string] => entry[1] !== undefined));
    // The export gets the parsed filters (times as ms), so it answers exactly what the page lists.
    const exportParams = new URLSearchParams();
    if (query.userId) exportParams.set('user_id', query.userId);
    if (query.type) exportParams.set('type', query.type);
    if (query.outcome) exportParams.set('outcome', query.outcome);
    if (query.actorId) exportParams.set('actor_id', query.actorId);
    if (query.from !== undefined) exportParams.set('from', String(query.from));
    if (query.to !== undefined) exportParams.set('to', String(query.to));
    const next = rows.length > PAGE_SIZE ? new URLSearchParams([...kept, ['cursor', page[page.length - 1]!.id]]) : undefined;
    const text = (name: (typeof FILTERS)[number], label: string, type = 'text') => html`<div class="field"><label for="f-a-${name}">${label}</label><input type="${type}" id="f-a-${name}" name="${name}" value="${filters[name] ?? ''}" maxlength="160" autocomplete="off"></div>`;
    const any = { value: '', label: tr.t('admin.users.filter.any') };
    return sendConsolePage(request, reply, {
      section: 'audit',
      title: tr.t('admin.audit.title'),
      body: html`<section><form method="get" action="/admin/audit" class="admin-filters">
${text('user_id', tr.t('admin.audit.user'))}
${select({ name: 'type', label: tr.t('admin.audit.type'), value: filters.type ?? '', choices: [any, ...AUDIT_EVENT_TYPES.map((type) => ({ value: type, label: auditEventLabel(tr, type) }))] })}
${select({ name: 'outcome', label: tr.t('admin.audit.outcome'), value: filters.outcome ?? '', choices: [any, { value: 'success', label: tr.t('admin.audit.success') }, { value: 'failure', label: tr.t('admin.audit.failure') }] })}
${text('actor_id', tr.t('admin.audit.actor'))}
${text('from', tr.t('admin.audit.from'), 'datetime-local')}
${text('to', tr.t('admin.audit.to'), 'datetime-local')}
<div><button type="submit">${tr.t('admin.audit.filter')}</button></div>
</form>
<p class="hint">${tr.t('admin.audit.utc')}</p>
<p class="links">${tr.t('admin.audit.export')} <a href="/api/admin/audit/export?${String(new URLSearchParams([...exportParams, ['format', 'csv']]))}" download>CSV</a> · <a href="/api/admin/audit/export?${String(new URLSearchParams([...exportParams, ['format', 'ndjson']]))}" download>NDJSON</a></p></section>
<section>${page.length === 0 ? html`<p>${tr.t('admin.audit.none')}</p>` : html`<ul class="sessions admin-rows" data-events>
${page.map((event) => html`<li><span>${auditEventLabel(tr, event.type)} <code>${event.type}</code> · ${auditOutcomeLabel(tr, event.outcome)}</span><span>${tr.dateTime(event.at)}${event.userId ? html`<br>${tr.t('admin.audit.userIs')} <a href="/admin/users/${event.userId}">${event.userId}</a>` : ''}</span><span>${event.actorId ? html`${tr.t('admin.audit.actorIs')} <code data-actor>${event.actorId}</code>` : ''}${event.clientId ? html` <code>${event.clientId}</code>` : ''}</span></li>`)}
</ul>`}
<p class="links">${before ? html`<a href="/admin/audit?${String(kept)}">${tr.t('admin.pages.first')}</a> ` : ''}${next ? html`<a href="/admin/audit?${String(next)}" rel="next">${tr.t('admin.pages.next')}</a>` : ''}</p></section>`,
    });
  });
}
