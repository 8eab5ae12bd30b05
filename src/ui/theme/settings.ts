import type { Kysely } from 'kysely';
import { accentColor, cssRadius, httpsLink, productName } from '../../config/schema-branding.ts';
import type { Config } from '../../config/schema.ts';
import { ValueError } from '../../config/types.ts';
import { ApiError } from '../../errors/catalog.ts';
import type { DatabaseSchema } from '../../storage/sql/schema.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import type { Brand } from './brand.ts';
import { DARK, LIGHT } from './palette.ts';

/** Other instances reload on this message (as `keys:changed`, `clients:changed`). */
export const BRANDING_CHANNEL = 'branding:changed';
/** Without pub/sub, every instance reloads this often. */
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
  /** Receives the effective text settings after every (re)load. */
  apply: (brand: Pick<Brand, (typeof BRANDING_SETTINGS)[BrandingSetting]['brand']>) => void;
  onError: (error: unknown, what: string) => void;
}

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

/**
 * The stored branding settings over the config (docs/branding.md): loaded at start, after every
 * change here, and on every instance when one announces a change on `branding:changed` — or
 * every minute when the ephemeral store has no pub/sub.
 */
export function createBrandingSettings(deps: BrandingSettingsDeps) {
  const db = deps.db;
  let overrides: Partial<Record<BrandingSetting, string>> = {};
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  function configValue(name: BrandingSetting): string | null {
    return (deps.config[BRANDING_SETTINGS[name].config] as string | undefined) ?? null;
  }

  async function reload(): Promise<void> {
    const rows = await db.selectFrom('branding_settings').select(['key', 'value']).execute();
    const loaded: Partial<Record<BrandingSetting, string>> = {};
    for (const row of rows) {
      if (!(row.key in BRANDING_SETTINGS)) continue;
      const name = row.key as BrandingSetting;
      // A row written by hand that the validator refuses is skipped: the config value stays.
      if (brandingProblems({ [name]: row.value }).length > 0) {
        deps.onError(new Error(`stored branding setting ${name} is invalid`), 'loading branding settings');
        continue;
      }
      loaded[name] = BRANDING_SETTINGS[name].parse(row.value);
    }
    overrides = loaded;
    const effective = Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [BRANDING_SETTINGS[name].brand, overrides[name] ?? configValue(name)]));
    deps.apply(effective as Parameters<BrandingSettingsDeps['apply']>[0]);
  }

  function view(): BrandingView {
    return Object.fromEntries(BRANDING_SETTING_NAMES.map((name) => [name, { value: overrides[name] ?? configValue(name), override: overrides[name] ?? null, configured: configValue(name) }])) as BrandingView;
  }

  return {
    reload,
    view,
    /** Validates the whole patch first (400 naming the first bad field), then writes it, reloads and announces it. Returns the names that changed. */
    async update(patch: BrandingPatch): Promise<BrandingSetting[]> {
      const problems = brandingProblems(patch);
      if (problems.length > 0) throw problems[0]!;
      const at = deps.now();
      const changed: BrandingSetting[] = [];
      await db.transaction().execute(async (trx) => {
        for (const name of BRANDING_SETTING_NAMES) {
          const raw = patch[name];
          if (raw === undefined) continue;
          if (raw === null) {
            const removed = await trx.deleteFrom('branding_settings').where('key', '=', name).executeTakeFirst();
            if (removed.numDeletedRows > 0n) changed.push(name);
            continue;
          }
          const value = BRANDING_SETTINGS[name].parse(raw);
          if (overrides[name] === value) continue;
          await trx.insertInto('branding_settings').values({ key: name, value, updated_at: at })
            .onConflict((conflict) => conflict.column('key').doUpdateSet({ value, updated_at: at })).execute();
          changed.push(name);
        }
      });
      await reload();
      if (changed.length > 0) await deps.ephemeral.publish(BRANDING_CHANNEL, String(at)).catch((error: unknown) => deps.onError(error, 'announcing branding settings'));
      return changed;
    },
    async start(): Promise<void> {
      await reload();
      const again = (): void => void reload().catch((error: unknown) => deps.onError(error, 'reloading branding settings'));
      try {
        unsubscribe = await deps.ephemeral.subscribe(BRANDING_CHANNEL, again);
      } catch (error) {
        deps.onError(error, 'subscribing to branding changes (reloading every minute instead)');
        timer = setInterval(again, BRANDING_RELOAD_MS);
        timer.unref();
      }
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
