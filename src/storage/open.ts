import type { Config } from '../config/schema.ts';
import { ConfigError } from '../config/types.ts';
import { openDatabase, type Database } from './sql/database.ts';
import { migrateToLatest, pendingMigrations } from './sql/migrate.ts';
import { openEphemeralStore } from './ephemeral/open.ts';
import type { EphemeralStore } from './ephemeral/types.ts';

export interface Storage {
  database: Database;
  ephemeral: EphemeralStore;
  /** Migrations applied by this start (empty when none were pending). */
  applied: string[];
  close(): Promise<void>;
}

/**
 * Opens the durable and ephemeral stores. Applies pending migrations when `autoMigrate` is on;
 * otherwise refuses to run on an outdated schema with a one-line fix.
 */
export async function openStorage(
  config: Pick<Config, 'databaseUrl' | 'databasePoolSize' | 'redisUrl' | 'redisPrefix' | 'autoMigrate'>,
): Promise<Storage> {
  const database = openDatabase({ url: config.databaseUrl, poolSize: config.databasePoolSize });
  let applied: string[] = [];
  try {
    if (config.autoMigrate) {
      applied = (await migrateToLatest(database)).applied;
    } else {
      const pending = await pendingMigrations(database);
      if (pending.length > 0) {
        throw new ConfigError('GATEHOUSE_AUTO_MIGRATE', `the database needs ${pending.length} migration(s) (${pending.join(', ')}) — run: gatehouse migrate`);
      }
    }
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  const ephemeral = await openEphemeralStore({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
  return {
    database,
    ephemeral,
    applied,
    close: async () => {
      await Promise.allSettled([ephemeral.close(), database.close()]);
    },
  };
}
