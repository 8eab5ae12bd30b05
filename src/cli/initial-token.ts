import { ApiError } from '../errors/catalog.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { createInitialTokenIssuer } from '../features/oauth/register/service.ts';
import { createRegistrationStore } from '../features/oauth/register/store.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig } from './command.ts';

/**
 * `gatehouse clients initial-token [--expires 24h] [--uses N|unlimited] [--json]`: an initial
 * access token for dynamic client registration (RFC 7591 §3), printed once, stored as SHA-256.
 */
export async function runInitialToken(values: { config?: string; json?: boolean; expires?: string; uses?: string }): Promise<number> {
  const expiresInSeconds = values.expires === undefined ? undefined : duration(values.expires);
  const uses = values.uses === undefined ? undefined : values.uses === 'unlimited' ? null : count(values.uses);
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const storage = await openStorage(config);
  try {
    const db = storage.database.db;
    const issuer = createInitialTokenIssuer({ store: createRegistrationStore(db), audit: createAuditLog(db), now: Date.now });
    const issued = await issuer.issue({ ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }), ...(uses === undefined ? {} : { uses }) });
    const view = { id: issued.id, initial_access_token: issued.token, expires_at: issued.expiresAt, uses: issued.uses };
    process.stdout.write(values.json === true
      ? `${JSON.stringify(view, null, 2)}\n`
      : `initial access token (shown once; ${issued.uses === null ? 'unlimited uses' : `${issued.uses} use${issued.uses === 1 ? '' : 's'}`}, until ${new Date(issued.expiresAt).toISOString()}):\n${issued.token}\n`);
    return 0;
  } catch (error) {
    if (error instanceof ApiError && error.status < 500) throw new CliError(error.description, 2);
    throw error;
  } finally {
    await storage.close();
  }
}

/** `90`, `90s`, `30m`, `24h`, `7d` → seconds. */
function duration(text: string): number {
  const match = /^(\d{1,9})([smhd]?)$/.exec(text);
  if (!match) throw new CliError('--expires must be a duration such as 3600, 30m, 24h or 7d', 2);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function count(text: string): number {
  if (!/^\d{1,6}$/.test(text) || Number(text) < 1) throw new CliError('--uses must be a whole number from 1, or unlimited', 2);
  return Number(text);
}
