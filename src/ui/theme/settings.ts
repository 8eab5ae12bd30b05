import type { Kysely } from 'kysely';
import type { AuditLog } from '../../features/audit/audit-log.ts';
import { accentColor, cssRadius, httpsLink, productName } from '../../config/schema-branding.ts';
import type { Config } from '../../config/schema.ts';
import { ValueError } from '../../config/types.ts';
import { ApiError } from '../../errors/catalog.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { Brand } from './brand.ts';
import { DARK, LIGHT } from './palette.ts';

/** Other instances reload on this message (as `keys:changed`, `clients:changed`): the fast path. */
export const BRANDING_CHANNEL = 'branding:changed';
/** Every instance also reloads this often, pub/sub or not: a lost message costs at most this long (docs/branding.md). */
export const BRANDING_RELOAD_MS = 60_000;

/**
 * The text settings an admin may change (docs/branding.md#from-the-admin-api-or-console), by
 * their wire name: the config key each overrides and that key's own validator
 * (src/config/schema-branding.ts, the contrast refusal included). Logos stay file-configured.
 */
export const BRANDING_SETTINGS = {
  product_name: { brand: 'productName', config: 'brandName', parse: productName },
  accent_color: { brand: 'accentColor', config: 'brandAccentColor', parse: accentColor(LIGHT, 'light') },
  accent_color_dark: { brand: 'accentColorDark', config: 'brandAccentColorDark', parse: accentColor(DARK, 'dark') },
  radius: { brand: 'radius', config: 'brandRadius', parse: cssRadius },
  support_url: { brand: 'supportUrl', config: 'brandSupportUrl', parse: httpsLink },
  privacy_url: { brand: 'privacyUrl', config: 'brandPrivacyUrl', parse: httpsLink },
  terms_url: { brand: 'termsUrl', config: 'brandTermsUrl', parse: httpsLink },
} as const satisfies Record<string, { brand: keyof Brand; config: keyof Config; parse: (raw: unknown) => string }>;

export type BrandingSetting = keyof typeof BRANDING_SETTINGS;
export const BRANDING_SETTING_NAMES = Object.keys(BRANDING_SETTINGS) as BrandingSetting[];
export type BrandingConfig = Pick<Config, (typeof BRANDING_SETTINGS)[BrandingSetting]['config']>;

/** A refused value: 400 `invalid_request` naming the field (the console shows it next to it). */
export class BrandingSettingError extends ApiError {
  readonly field: BrandingSetting;
  readonly reason: string;
  constructor(field: BrandingSetting, reason: string) {
    super('invalid_request', `${field}: ${reason}`);
    this.name = 'BrandingSettingError';
    this.field = field;
    this.reason = reason;
  }
}

/** Per setting: the effective value, the stored override (null: none) and the config value. */
export type BrandingView = Record<BrandingSetting, { value: string | null; override: string | null; configured: string | null }>;
/** PATCH semantics: a string sets an override, null removes it, absent leaves it. */
export type BrandingPatch = Partial<Record<BrandingSetting, string | null>>;

export interface BrandingSettingsDeps {
  db: Kysely<DatabaseSchema>;
  ephemeral: Pick<EphemeralStore, 'publish' | 'subscribe'>;
  config: BrandingConfig;
  now: () => number;
  /** Every committed change is recorded here as `branding-updated` (the names, never the values). */
  audit: Pick<AuditLog, 'record'>;
  /** Receives the effective text settings after every (re)load. */
  apply: (brand: Pick<Brand, (typeof BRANDING_SETTINGS)[BrandingSetting]['brand']>) => void;
  onError: (error: unknown, what: string) => void;
}

type Overrides = Partial<Record<BrandingSetting, string>>;
type StoredRow = { key: string; value: string };

/** Every problem of `patch` at once (the console shows each next to its field). */
export function brandingProblems(patch: BrandingPatch): BrandingSettingError[] {
  const problems: BrandingSettingError[] = [];
  for (const name of BRANDING_SETTING_NAMES) {
    const value = patch[name];
    if (value === undefined || value === null) continue;
    try {
      BRANDING_SETTINGS[name].parse(value);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      problems.push(new BrandingSettingError(name, error.message));
    }
  }
  return problems;
}

function isSetting(key: string): key is BrandingSetting {
  return Object.hasOwn(BRANDING_SETTINGS, key);
}

/**
 * The stored branding settings over the config (docs/branding.md): loaded at start, after every
 * change here, on every instance when one announces a change on `branding:changed`, and every
 * minute whatever pub/sub does (a message lost to a publish failure or a Redis reconnect is
 * caught up there, as the signing keys' reload in src/keys/service.ts).
 */
export function createBrandingSettings(deps: BrandingSettingsDeps) {
  const db = deps.db;
  let overrides: Overrides = {};
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  // Reads may finish out of order (a pub/sub reload racing the minute's): the newest read wins.
  let started = 0;
  let applied = 0;

  function configValue(name: BrandingSetting): string | null {
    return (deps.config[BRANDING_SETTINGS[name].config] as string | undefined) ?? null;
  }

  function valid(rows: readonly StoredRow[]): Overrides {
    const loaded: Overrides = {};
    for (const row of rows) {
      if (!isSetting(row.key)) continue;
      // A row written by hand that the validator refuses is skipped: the config value stays.
      if (brandingProblems({ [row.key]: row.value }).length > 0) {
        deps.onError(new Error(`stored branding setting ${row.key} is invalid`), 'loading branding settings');
        continue;
      }
      loaded[row.key] = BRANDING_SETTINGS[row.key].parse(row.value);
    }
    return loaded;
  }

  function use(generation: number, rows: readonly StoredRow[]): void {
    if (generation <= applied) return;
    applied = generation;
    overrides = valid(rows);
    const effective = Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [BRANDING_SETTINGS[name].brand, overrides[name] ?? configValue(name)]));
    deps.apply(effective as Parameters<BrandingSettingsDeps['apply']>[0]);
  }

  async function reload(): Promise<void> {
    const generation = ++started;
    const rows = await db.selectFrom('branding_settings').select(['key', 'value']).execute();
    use(generation, rows);
  }

  /**
   * One transaction: what changed is decided against the rows stored now, read inside it, never
   * against this instance's memory (which a lost message leaves stale: a real change would be
   * dropped as "no change"). Returns the changed names and the rows as committed.
   */
  async function write(patch: BrandingPatch, at: number): Promise<{ changed: BrandingSetting[]; rows: StoredRow[] }> {
    return db.transaction().execute(async (trx) => {
      const stored = new Map((await trx.selectFrom('branding_settings').select(['key', 'value']).execute()).map((row) => [row.key, row.value]));
      const changed: BrandingSetting[] = [];
      for (const name of BRANDING_SETTING_NAMES) {
        const raw = patch[name];
        if (raw === undefined) continue;
        if (raw === null) {
          const removed = await trx.deleteFrom('branding_settings').where('key', '=', name).executeTakeFirst();
          stored.delete(name);
          if (removed.numDeletedRows > 0n) changed.push(name);
          continue;
        }
        const value = BRANDING_SETTINGS[name].parse(raw);
        if (stored.get(name) === value) continue;
        await trx.insertInto('branding_settings').values({ key: name, value, updated_at: at })
          .onConflict((conflict) => conflict.column('key').doUpdateSet({ value, updated_at: at })).execute();
        stored.set(name, value);
        changed.push(name);
      }
      return { changed, rows: [...stored].map(([key, value]) => ({ key, value })) };
    });
  }

  function view(): BrandingView {
    return Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, { value: overrides[name] ?? configValue(name), override: overrides[name] ?? null, configured: configValue(name) }])) as BrandingView;
  }

  return {
    reload,
    view,
    /**
     * Validates the whole patch first (400 naming the first bad field), then writes it in one
     * transaction — a database failure there changes nothing and reaches the caller (503 when the
     * database is unavailable). Once committed, the change is audited (the actor is the request's
     * authenticated admin, docs/audit.md), reloaded here (from the rows just written when
     * that read fails) and announced to the other instances. Returns the names that changed.
     */
    async update(patch: BrandingPatch): Promise<BrandingSetting[]> {
      const problems = brandingProblems(patch);
      if (problems.length > 0) throw problems[0]!;
      const at = deps.now();
      const { changed, rows } = await write(patch, at);
      // After the commit: a reload begun before it (and so perhaps without it) cannot win over these rows.
      const generation = ++started;
      if (changed.length === 0) {
        use(generation, rows); // nothing to record or announce, but this instance may have been behind
        return changed;
      }
      try {
        await deps.audit.record({ type: 'branding-updated', outcome: 'success', detail: { fields: changed.join(' ') } });
      } finally {
        // Committed: applied and announced even when the audit insert or the reload fails.
        try {
          await reload();
        } catch (error) {
          deps.onError(error, 'reloading branding settings after a change (applying the rows just written)');
          use(generation, rows);
        }
        await deps.ephemeral.publish(BRANDING_CHANNEL, String(at)).catch((error: unknown) => deps.onError(error, 'announcing branding settings'));
      }
      return changed;
    },
    async start(): Promise<void> {
      await reload();
      const again = (): void => void reload().catch((error: unknown) => deps.onError(error, 'reloading branding settings'));
      try {
        unsubscribe = await deps.ephemeral.subscribe(BRANDING_CHANNEL, again);
      } catch (error) {
        deps.onError(error, 'subscribing to branding changes (the reload every minute still runs)');
      }
      // Pub/sub is only the fast path: this reload runs whatever it does.
      timer = setInterval(again, BRANDING_RELOAD_MS);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}

export type BrandingSettings = ReturnType<typeof createBrandingSettings>;
