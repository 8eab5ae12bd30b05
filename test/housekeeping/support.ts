/**
 * Helpers for the housekeeping tests: the app on each SQL backend (SQLite in memory, a scratch
 * PostgreSQL database) with a manual clock, one housekeeping run over the app's own database at
 * that clock (`runOnce`, as `registerHousekeeping` schedules it), and grey-box row counts.
 */
import type { TestApp } from '../support/app.ts';
import { createTestDatabase, probePostgres, skipUnless } from '../support/backends.ts';
import { createOAuthApp, fixtureClients } from '../support/oauth.ts';
import { runOnce, type HousekeepingResult } from '../../src/features/housekeeping/housekeeping.ts';

export const START = 1_900_000_000_000;
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

const postgres = await probePostgres();
export const BACKENDS = [
  { name: 'SQLite', postgres: false, skip: false as string | false },
  { name: 'PostgreSQL', postgres: true, skip: skipUnless(postgres) },
];
export type Backend = (typeof BACKENDS)[number];

/** `confrt2` with a one-hour absolute lifetime: its grants die within a test. */
export function clients(): Record<string, unknown>[] {
  return fixtureClients().map((client) => (client.client_id === 'confrt2' ? { ...client, refresh_token_absolute_ttl_seconds: 3600 } : client));
}

/** The OAuth app on the backend with the manual clock; a PostgreSQL database is dropped on close. */
export async function createApp(backend: Backend, now: () => number): Promise<TestApp & { url?: string }> {
  if (!backend.postgres) return createOAuthApp({ now, clients: clients() });
  const scratch = await createTestDatabase();
  const t = await createOAuthApp({ now, clients: clients(), env: { GATEHOUSE_DATABASE_URL: scratch.url } });
  return { ...t, url: scratch.url, close: async () => { await t.close(); await scratch.drop(); } };
}

/** One housekeeping run at `now`. */
export function sweep(t: TestApp, now: number, options: { batchSize?: number } = {}): Promise<HousekeepingResult> {
  return runOnce({ database: t.storage.database, now: () => now, ...options });
}

export async function tokenRows(t: TestApp, grantId: string): Promise<number> {
  return (await t.storage.database.db.selectFrom('refresh_tokens').select('id').where('grant_id', '=', grantId).execute()).length;
}

export async function grantExists(t: TestApp, grantId: string): Promise<boolean> {
  return (await t.storage.database.db.selectFrom('grants').select('id').where('id', '=', grantId).executeTakeFirst()) !== undefined;
}

export async function grantRow(t: TestApp, grantId: string): Promise<{ expires_at: number; revoked_at: number | null }> {
  const row = await t.storage.database.db.selectFrom('grants').select(['expires_at', 'revoked_at']).where('id', '=', grantId).executeTakeFirstOrThrow();
  return { expires_at: Number(row.expires_at), revoked_at: row.revoked_at === null ? null : Number(row.revoked_at) };
}
