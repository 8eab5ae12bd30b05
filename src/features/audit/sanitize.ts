import { isSecretName } from '../../http/logging.ts';

/**
 * What an audit event may hold (SEC-ASVS-14): no secrets, no control characters, bounded sizes.
 * Audit rows end up in log shippers, terminals and admin pages; a CR/LF or an ANSI escape in a
 * user agent must not forge a line or recolour a terminal there.
 */

export type DetailValue = string | number | boolean | null;

export const MAX_USER_AGENT_LENGTH = 512;
export const MAX_DETAIL_STRING_LENGTH = 256;
const MAX_DETAIL_FIELDS = 32;
const MAX_FIELD_NAME_LENGTH = 64;
// Client ids may be 128 characters; `client:<client_id>` as actor is 135. The admin audit filter takes 160.
const MAX_ID_LENGTH = 160;
const MAX_IP_LENGTH = 64;

// ANSI/VT100 sequences first (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, two-byte `ESC x`),
// so that their printable tails ("[31m") go too; then every remaining C0/C1 control, DEL, the
// Unicode line/paragraph separators and the bidi overrides that reorder text on screen.
const ANSI_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u009b[0-?]*[ -/]*[@-~]|\u001b[@-_]?/g;
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Extra names the audit log drops on top of the logging rules: any `…code`, any `…hash…`. */
const AUDIT_SECRET_NAME = /code$|hash/i;

/** Removes control characters and terminal escapes, then cuts to `max` UTF-16 units without splitting a surrogate pair. */
export function cleanText(value: string, max: number): string {
  const clean = value.replace(ANSI_SEQUENCE, '').replace(CONTROL, '');
  if (clean.length <= max) return clean;
  const cut = clean.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut;
}

export function cleanOptional(value: string | null | undefined, max: number): string | null {
  if (value === undefined || value === null) return null;
  const clean = cleanText(String(value), max);
  return clean === '' ? null : clean;
}

export function cleanUserAgent(value: string | null | undefined): string | null {
  return cleanOptional(value, MAX_USER_AGENT_LENGTH);
}

export function cleanIp(value: string | null | undefined): string | null {
  return cleanOptional(value, MAX_IP_LENGTH);
}

export function cleanId(value: string | null | undefined): string | null {
  return cleanOptional(value, MAX_ID_LENGTH);
}

export function isAuditSecretName(name: string): boolean {
  return isSecretName(name) || AUDIT_SECRET_NAME.test(name);
}

/**
 * Keeps flat, primitive, non-secret fields: secret-looking names are dropped (not masked — the
 * audit trail has no use for "[redacted]"), strings are cleaned and cut to 256, non-finite
 * numbers become null, objects and functions from untyped callers are dropped.
 */
export function sanitizeDetail(detail: Record<string, unknown> | undefined): Record<string, DetailValue> {
  const kept = new Map<string, DetailValue>();
  if (detail === undefined || detail === null || typeof detail !== 'object') return {};
  for (const [rawName, value] of Object.entries(detail)) {
    if (kept.size >= MAX_DETAIL_FIELDS) break;
    const name = cleanText(rawName, MAX_FIELD_NAME_LENGTH);
    if (name === '' || isAuditSecretName(rawName) || isAuditSecretName(name) || kept.has(name)) continue;
    if (value === null || typeof value === 'boolean') kept.set(name, value);
    else if (typeof value === 'number') kept.set(name, Number.isFinite(value) ? value : null);
    else if (typeof value === 'string') kept.set(name, cleanText(value, MAX_DETAIL_STRING_LENGTH));
  }
  // fromEntries defines own properties, so a field named "__proto__" stays plain data.
  return Object.fromEntries(kept);
}
