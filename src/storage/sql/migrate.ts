import { Migrator, type MigrationResult } from 'kysely/migration';
import type { Database } from './database.ts';
import { migrationProvider, migrations } from './migrations/index.ts';

export interface MigrationReport {
  applied: string[];
}

/** Applies every pending migration; throws with the failing migration's name on error. */
export async function migrateToLatest(database: Database, target?: string): Promise<MigrationReport> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider });
  const { error, results } = target === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(target);
  const applied = (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName);
  if (error !== undefined) {
    const failed = (results ?? []).find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return { applied };
}

/** Names of migrations not yet applied to this database. */
export async function pendingMigrations(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: migrationProvider });
  const known = await migrator.getMigrations();
  return known.filter((m) => m.executedAt === undefined).map((m) => m.name);
}

export const migrationNames: readonly string[] = Object.keys(migrations).sort();
