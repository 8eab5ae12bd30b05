import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Config } from '../config/schema.ts';
import { normalizeEmail } from '../features/accounts/email-address.ts';
import { createSqlUserStore } from '../features/accounts/store.ts';
import { createAuditLog, isAuditEventType, MAX_QUERY_LIMIT, type AuditEventType, type AuditLog, type AuditQuery, type StoredAuditEvent } from '../features/audit/audit-log.ts';
import { auditExport, auditPages, type ExportFormat } from '../features/admin/audit-export.ts';
import { eventView } from '../features/admin/users-routes.ts';
import { openStorage } from '../storage/open.ts';
import { CliError } from './command.ts';

/** `audit tail` and `audit export` flags (parsed by audit.ts). */
export const AUDIT_READ_OPTIONS = {
  user: { type: 'string' }, type: { type: 'string' }, outcome: { type: 'string' }, actor: { type: 'string' }, client: { type: 'string' },
  since: { type: 'string' }, until: { type: 'string' }, limit: { type: 'string' }, follow: { type: 'boolean' }, format: { type: 'string' },
} as const;

export interface AuditReadFlags {
  user?: string | undefined; type?: string | undefined; outcome?: string | undefined; actor?: string | undefined; client?: string | undefined;
  since?: string | undefined; until?: string | undefined; limit?: string | undefined; follow?: boolean | undefined; format?: string | undefined;
  out?: string | undefined; json?: boolean | undefined;
}

type Filter = Omit<AuditQuery, 'limit' | 'before'>;

export const DEFAULT_TAIL = 50;
/** `--follow` polls this often; each poll re-reads this far back so that a row another process wrote a little late (same ms, clock skew) is not skipped. */
const FOLLOW_INTERVAL_MS = 1000;
const FOLLOW_LOOKBACK_MS = 5000;

/**
 * `gatehouse audit tail|export`: the admin API's reads (GET /api/admin/audit and its export)
 * over the same AuditLog.query, filters, event view and export stream (audit-export.ts). Reading
 * is not audited, as it is not through the API.
 */
export async function runAuditRead(config: Config, sub: 'tail' | 'export', flags: AuditReadFlags): Promise<number> {
  const filter = filterOf(flags);
  const limit = sub === 'tail' ? tailLimit(flags.limit) : undefined;
  const format = sub === 'export' ? exportFormat(flags.format) : undefined;
  if (sub === 'export' && (flags.limit !== undefined || flags.follow)) throw new CliError('--limit and --follow are options of audit tail', 2);
  if (sub === 'tail' && (flags.format !== undefined || flags.out !== undefined)) throw new CliError('--format and --out are options of audit export', 2);
  const storage = await openStorage(config);
  try {
    const db = storage.database.db;
    // Read-only: no MAC key, and nothing is ever recorded through this log.
    const audit = createAuditLog(db);
    if (flags.user !== undefined) filter.userId = await resolveUser(audit, createSqlUserStore(db), flags.user);
    if (sub === 'export') return await runExport(audit, filter, format!, flags.out);
    return await runTail(audit, filter, { limit: limit!, follow: flags.follow === true, json: flags.json === true });
  } finally {
    await storage.close();
  }
}

async function runTail(audit: AuditLog, filter: Filter, options: { limit: number; follow: boolean; json: boolean }): Promise<number> {
  const print = (events: StoredAuditEvent[]): void => {
    if (events.length > 0) process.stdout.write(events.map(options.json ? (event) => `${JSON.stringify(eventView(event))}\n` : line).join(''));
  };
  // Newest first from the query; printed oldest first, like tail(1).
  const first = await audit.query({ ...filter, limit: options.limit });
  print(first.toReversed());
  if (!options.follow) return 0;

  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The id is the API's cursor (time-ordered). Ids seen inside the look-back window are kept so each event prints once.
    // Nothing at or before the newest event already printed is new (the window may reach further back than --limit).
    const startId = first[0]?.id ?? '';
    const seen = new Map(first.map((event) => [event.id, event.at]));
    let newestAt = first[0]?.at ?? Date.now();
    while (!stop.signal.aborted) {
      await sleep(FOLLOW_INTERVAL_MS, stop.signal);
      if (stop.signal.aborted) break;
      const windowStart = newestAt - FOLLOW_LOOKBACK_MS;
      const fresh: StoredAuditEvent[] = [];
      for await (const page of auditPages(audit, { ...filter, from: Math.max(filter.from ?? 0, windowStart) })) {
        for (const event of page) if (event.id > startId && !seen.has(event.id)) fresh.push(event);
      }
      fresh.sort((a, b) => (a.id < b.id ? -1 : 1));
      print(fresh);
      for (const event of fresh) {
        seen.set(event.id, event.at);
        newestAt = Math.max(newestAt, event.at);
      }
      for (const [id, at] of seen) if (at < newestAt - FOLLOW_LOOKBACK_MS) seen.delete(id);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The API's export stream, page by page (never the whole table in memory), to stdout or atomically to FILE. */
async function runExport(audit: AuditLog, filter: Filter, format: ExportFormat, out: string | undefined): Promise<number> {
  const source = () => Readable.from(auditExport(audit, filter, format));
  if (out === undefined) {
    try {
      await pipeline(source(), process.stdout, { end: false });
    } catch (error) {
      // The reader went away (`| head`): not a failure of the export.
      if ((error as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw error;
    }
    return 0;
  }
  // Temp file beside FILE, then rename: readers never see half an export. 0600: it holds personal data.
  const temp = join(dirname(out), `.${basename(out)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(source(), createWriteStream(temp, { mode: 0o600, flags: 'wx', flush: true }));
    await rename(temp, out);
  } catch (error) {
    await unlink(temp).catch(() => {});
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new CliError(`cannot write ${out}: ${code}`, 1);
    throw error;
  }
  process.stderr.write(`wrote the audit export to ${out}\n`);
  return 0;
}

/** The API's filters (audit-routes.ts filterOf), from flags; bad values exit 2 before anything is opened. */
function filterOf(flags: AuditReadFlags): Filter {
  if (flags.type !== undefined && !isAuditEventType(flags.type)) throw new CliError(`--type: unknown event type "${flags.type}" (docs/audit.md lists the types)`, 2);
  if (flags.outcome !== undefined && flags.outcome !== 'success' && flags.outcome !== 'failure') throw new CliError('--outcome must be success or failure', 2);
  const from = flags.since === undefined ? undefined : time('--since', flags.since);
  const to = flags.until === undefined ? undefined : time('--until', flags.until);
  if (from !== undefined && to !== undefined && from >= to) throw new CliError('--since must be before --until', 2);
  return {
    ...(flags.type === undefined ? {} : { type: flags.type as AuditEventType }),
    ...(flags.outcome === undefined ? {} : { outcome: flags.outcome as 'success' | 'failure' }),
    ...(flags.actor === undefined ? {} : { actorId: flags.actor }),
    ...(flags.client === undefined ? {} : { clientId: flags.client }),
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
  };
}

/** As the API's `from`/`to` (audit-routes.ts time): ms since the epoch, or an ISO 8601 date or date-time. */
function time(flag: string, text: string): number {
  const value = /^\d{1,15}$/.test(text) ? Number(text) : /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(value)) throw new CliError(`${flag}: not a date (ms since the epoch or ISO 8601, e.g. 2025-01-31T12:00:00Z)`, 2);
  return value;
}

function tailLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_TAIL;
  const value = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 1 && value <= MAX_QUERY_LIMIT)) throw new CliError(`--limit must be 1 to ${MAX_QUERY_LIMIT}`, 2);
  return value;
}

function exportFormat(text: string | undefined): ExportFormat {
  if (text === undefined) return 'ndjson';
  if (text !== 'ndjson' && text !== 'csv') throw new CliError('--format must be ndjson or csv', 2);
  return text;
}

/**
 * An email must be a current account's. An id is taken when it is an account's, or when the log
 * has events about it (a deleted account's trail stays readable); otherwise exit 1.
 */
async function resolveUser(audit: AuditLog, users: ReturnType<typeof createSqlUserStore>, given: string): Promise<string> {
  if (given.includes('@')) {
    const email = normalizeEmail(given);
    const user = email === undefined ? undefined : await users.findByEmail(email);
    if (!user) throw new CliError(`no user with email ${given}`, 1);
    return user.id;
  }
  if (await users.findById(given)) return given;
  if ((await audit.query({ userId: given, limit: 1 })).length > 0) return given;
  throw new CliError(`no user with id ${given}`, 1);
}

/** One event per line: time, type, outcome, user, actor, ip, request id (tab-separated, `-` for none). */
function line(event: StoredAuditEvent): string {
  const cells = [new Date(event.at).toISOString(), event.type, event.outcome, event.userId, event.actorId, event.ip, event.requestId];
  return `${cells.map((cell) => cell ?? '-').join('\t')}\n`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
