import { KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import type { Config } from '../config/schema.ts';
import { open, seal } from '../crypto/seal.ts';
import type { EphemeralStore } from '../storage/ephemeral/types.ts';
import type { DatabaseSchema, SigningKeysTable } from '../storage/sql/schema.ts';
import type { AuditLog } from '../features/audit/audit-log.ts';

export type SigningAlgorithm = Config['signingAlgorithm'];
export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'EdDSA', 'RS256'];

export const KEYS_CHANNEL = 'keys:changed';
const LOCK_KEY = 'keys:rotation-lock';
const TICK_MS = 60_000;
/** Slack on top of the longest token lifetime before a retired key leaves the JWKS. */
const REMOVAL_SLACK_MS = 60_000;

/** The stored keys cannot be used (wrong master key, damaged rows): start-up stops. */
export class KeyUnavailableError extends Error {
  override name = 'KeyUnavailableError';
}

export interface KeyInfo {
  kid: string;
  alg: SigningAlgorithm;
  createdAt: number;
  activatesAt: number;
  retiredAt: number | null;
  removeAfter: number | null;
  /** `next` (published, not signing yet), `current` (signing), `retired` (published for verification only). */
  state: 'next' | 'current' | 'retired';
}

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  /** The same key for node:crypto's synchronous sign (about 3× cheaper than WebCrypto through jose). */
  privateKeyObject: KeyObject;
}

interface LoadedKey {
  row: SigningKeysTable;
  alg: SigningAlgorithm;
  publicJwk: JWK;
  publicKey: CryptoKey;
  privateKey: CryptoKey;
  privateKeyObject: KeyObject;
}

export interface KeyService {
  /** Loads the keys, creates or rotates as due, follows changes from other instances. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reloads from the database and rotates when due (runs every minute; tests call it). */
  tick(): Promise<void>;
  /** The key that signs now, of `algorithm` (default: the first managed algorithm). */
  signingKey(algorithm?: SigningAlgorithm): SigningKey;
  /** A published key by `kid` and algorithm, for verifying our own tokens. */
  verificationKey(kid: string, alg: string): CryptoKey | undefined;
  /** The public JWK Set: next, current and retired keys until every token they signed expired. */
  jwks(): { keys: JWK[] };
  list(): KeyInfo[];
  /** Creates the successor now; it signs after the publication lead (or at once with `immediate`). */
  rotate(options?: { immediate?: boolean; algorithm?: SigningAlgorithm; /** The acting admin, passed on to `onRotated` for the audit log. */ actorId?: string }): Promise<KeyInfo>;
  /**
   * Stops a key signing; `unpublish` also drops it from the JWKS at once (compromise). Audited
   * here (`signing-key-retired`, the acting admin in `actor_id`), whoever asks: API, console, CLI.
   */
  retire(kid: string, options?: { unpublish?: boolean; /** The acting admin (a user id, `client:<id>`, `cli`). */ actorId?: string }): Promise<KeyInfo>;
}

/**
 * Signing keys with automatic rotation (RFC 7517 key sets, RFC 8725 §3.1 one algorithm per key).
 *
 * - Private keys live in `signing_keys` as JWKs sealed under `masterKey.derive('signing-keys')`
 *   (AES-256-GCM, the `kid` as associated data); the database never holds one in clear.
 * - A successor is created `lead` (2 × the JWKS cache lifetime) before it signs, so every verifier
 *   that caches the JWKS has seen it first. Then the old key is retired and stays published
 *   until every token it signed has expired (longest access-token lifetime + a minute).
 * - Every instance converges: changes are announced on the ephemeral store (`keys:changed`) and
 *   every instance also reloads each minute; which key signs is a pure function of the rows and
 *   the clock, so instances agree without coordination. Creating a key takes a short lock.
 */
export function createKeyService(deps: {
  db: Kysely<DatabaseSchema>;
  ephemeral: EphemeralStore;
  sealKey: Buffer;
  config: Pick<Config, 'signingAlgorithm' | 'keyRotationDays' | 'jwksCacheSeconds' | 'accessTokenMaxTtlSeconds'> & { idTokenSigningAlgorithm?: SigningAlgorithm };
  /**
   * The algorithms kept signing, each its own rotating family (default: signingAlgorithm and,
   * when configured, idTokenSigningAlgorithm). Keys of any other algorithm are retired and stay
   * published until their tokens expired.
   */
  algorithms?: readonly SigningAlgorithm[];
  now?: () => number;
  onError?: (error: unknown, what: string) => void;
  /** `actorId`: the admin who asked for the rotation; absent for scheduled ones. */
  onRotated?: (info: KeyInfo, context?: { actorId?: string }) => Promise<void> | void;
  /** Where retirements are recorded (one record, whichever surface asked). */
  audit?: Pick<AuditLog, 'record'>;
}): KeyService {
  const now = deps.now ?? Date.now;
  const { db, ephemeral, sealKey, config } = deps;
  const leadMs = 2 * config.jwksCacheSeconds * 1000;
  const rotationMs = config.keyRotationDays * 86_400_000;
  const keepMs = config.accessTokenMaxTtlSeconds * 1000 + REMOVAL_SLACK_MS;
  const algorithms: readonly SigningAlgorithm[] = [...new Set(deps.algorithms && deps.algorithms.length > 0 ? deps.algorithms : [config.signingAlgorithm, ...(config.idTokenSigningAlgorithm ? [config.idTokenSigningAlgorithm] : [])])];
  const primary = algorithms[0]!;
  let keys: LoadedKey[] = [];
  const imported = new Map<string, LoadedKey>();
  let timer: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;
  let creating: Promise<void> | undefined;

  async function load(row: SigningKeysTable): Promise<LoadedKey> {
    const cached = imported.get(row.kid);
    if (cached) return { ...cached, row };
    if (!(SIGNING_ALGORITHMS as readonly string[]).includes(row.alg)) throw new Error(`signing key ${row.kid} has an unsupported algorithm`);
    const alg = row.alg as SigningAlgorithm;
    const publicJwk = JSON.parse(row.public_jwk) as JWK;
    const privateJwk = JSON.parse(open(sealKey, row.private_jwk_encrypted, row.kid)) as JWK;
    const privateKey = (await importJWK(privateJwk, alg)) as CryptoKey;
    const loaded: LoadedKey = {
      row,
      alg,
      publicJwk,
      publicKey: (await importJWK(publicJwk, alg)) as CryptoKey,
      privateKey,
      privateKeyObject: KeyObject.from(privateKey),
    };
    imported.set(row.kid, loaded);
    return loaded;
  }

  /** Loads every key; returns the kids that could not be opened. */
  async function reload(): Promise<string[]> {
    const rows = await db.selectFrom('signing_keys').selectAll().orderBy('activates_at', 'asc').orderBy('kid', 'asc').execute();
    const next: LoadedKey[] = [];
    const failed: string[] = [];
    for (const row of rows) {
      try {
        next.push(await load(row));
      } catch (error) {
        // A key sealed under another master key (or damaged) cannot sign or verify here.
        failed.push(row.kid);
        deps.onError?.(error, `loading signing key ${row.kid}`);
      }
    }
    keys = next;
    for (const kid of imported.keys()) if (!rows.some((row) => row.kid === kid)) imported.delete(kid);
    return failed;
  }

  /** The signer of `alg` at `at`: the latest activated key of it that is not retired (ties: the larger kid). */
  function signerAt(at: number, alg: SigningAlgorithm = primary): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    for (const key of keys) {
      if (key.alg !== alg || key.row.retired_at !== null || key.row.activates_at > at) continue;
      if (!best || key.row.activates_at > best.row.activates_at || (key.row.activates_at === best.row.activates_at && key.row.kid > best.row.kid)) best = key;
    }
    return best;
  }

  function info(key: LoadedKey, at: number = now()): KeyInfo {
    const signer = signerAt(at, key.alg);
    const state: KeyInfo['state'] = key.row.retired_at !== null ? 'retired' : key.row.activates_at > at ? 'next' : signer?.row.kid === key.row.kid ? 'current' : 'retired';
    return { kid: key.row.kid, alg: key.alg, createdAt: key.row.created_at, activatesAt: key.row.activates_at, retiredAt: key.row.retired_at, removeAfter: key.row.remove_after, state };
  }

  function published(key: LoadedKey, at: number): boolean {
    return key.row.remove_after === null || key.row.remove_after > at;
  }

  async function announce(): Promise<void> {
    try {
      await ephemeral.publish(KEYS_CHANNEL, String(now()));
    } catch (error) {
      deps.onError?.(error, 'announcing a key change');
    }
  }

  async function insertKey(activatesAt: number, alg: SigningAlgorithm = primary): Promise<LoadedKey> {
    const pair = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}), ...(alg === 'RS256' ? { modulusLength: 2048 } : {}) });
    const privateJwk = await exportJWK(pair.privateKey);
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const publicEntry: JWK = { ...publicJwk, kid, alg, use: 'sig' };
    const row: SigningKeysTable = {
      kid,
      alg,
      public_jwk: JSON.stringify(publicEntry),
      private_jwk_encrypted: seal(sealKey, JSON.stringify({ ...privateJwk, kid, alg }), kid),
      created_at: now(),
      activates_at: activatesAt,
      retired_at: null,
      remove_after: null,
    };
    await db.insertInto('signing_keys').values(row).execute();
    return load(row);
  }

  /** Marks keys that a newer key has replaced as retired, and deletes keys past their removal. */
  async function settle(at: number): Promise<boolean> {
    let changed = false;
    for (const key of keys) {
      if (key.row.retired_at !== null || key.row.activates_at > at) continue;
      const managed = algorithms.includes(key.alg);
      const signer = managed ? signerAt(at, key.alg) : undefined;
      if (managed && (!signer || signer === key)) continue;
      {
        // Replaced at the moment its successor activated (or now, for an algorithm no longer
        // used): tokens it signed expire within keepMs of that.
        const retiredAt = signer ? signer.row.activates_at : at;
        await db.updateTable('signing_keys').set({ retired_at: retiredAt, remove_after: retiredAt + keepMs }).where('kid', '=', key.row.kid).where('retired_at', 'is', null).execute();
        changed = true;
      }
    }
    const removed = await db.deleteFrom('signing_keys').where('remove_after', '<', at - 86_400_000).executeTakeFirst();
    if (Number(removed.numDeletedRows) > 0) changed = true;
    return changed;
  }

  /** What is due: a first key, or the successor of a key nearing the end of its period. */
  function due(at: number, alg: SigningAlgorithm): { activatesAt: number } | undefined {
    const signer = signerAt(at, alg);
    const pending = keys.some((key) => key.alg === alg && key.row.retired_at === null && key.row.activates_at > at);
    if (!signer) {
      // Nothing signs: a key that is about to activate will do; otherwise one is needed now.
      return pending ? undefined : { activatesAt: at };
    }
    if (pending) return undefined;
    const endsAt = signer.row.activates_at + rotationMs;
    if (at < endsAt - leadMs) return undefined;
    return { activatesAt: Math.max(at + leadMs, endsAt) };
  }

  async function withLock<T>(work: () => Promise<T>): Promise<T | undefined> {
    const owner = `${process.pid}:${Math.random()}`;
    if (!(await ephemeral.setIfAbsent(LOCK_KEY, owner, 30_000))) return undefined;
    try {
      return await work();
    } finally {
      if ((await ephemeral.get(LOCK_KEY)) === owner) await ephemeral.delete(LOCK_KEY);
    }
  }

  async function tick(): Promise<void> {
    await reload();
    const at = now();
    let changed = await settle(at);
    if (algorithms.some((alg) => due(at, alg))) {
      // One creator at a time, in this process and across instances; re-check under the lock.
      creating ??= (async () => {
        const created = await withLock(async () => {
          await reload();
          let any = false;
          for (const alg of algorithms) {
            const stillDue = due(now(), alg);
            if (!stillDue) continue;
            const key = await insertKey(stillDue.activatesAt, alg);
            await deps.onRotated?.(info(key));
            any = true;
          }
          return any;
        });
        if (created) changed = true;
      })().finally(() => {
        creating = undefined;
      });
      await creating;
      const missing = () => algorithms.some((alg) => !signerAt(now(), alg));
      if (missing()) {
        // Another instance holds the lock while creating the first keys: wait for it briefly.
        for (let attempt = 0; attempt < 50 && missing(); attempt++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await reload();
        }
      }
    }
    if (changed) {
      await reload();
      await settle(now());
      await reload();
      await announce();
    }
  }

  return {
    start: async () => {
      const failed = await reload();
      if (failed.length > 0) {
        // Never paper over a wrong master key with fresh keys: instances would disagree.
        throw new KeyUnavailableError(`the signing key ${failed[0]} cannot be opened with this master key — GATEHOUSE_MASTER_KEY must be the key this database was set up with`);
      }
      await tick();
      if (algorithms.some((alg) => !signerAt(now(), alg))) throw new Error('no signing key could be loaded or created (is the master key the one the keys were sealed with?)');
      unsubscribe = await ephemeral.subscribe(KEYS_CHANNEL, () => {
        reload().catch((error: unknown) => deps.onError?.(error, 'reloading signing keys'));
      });
      timer = setInterval(() => {
        tick().catch((error: unknown) => deps.onError?.(error, 'signing key rotation'));
      }, TICK_MS);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await unsubscribe?.();
      unsubscribe = undefined;
      await creating?.catch(() => {});
    },
    tick,
    signingKey: (algorithm = primary) => {
      const signer = signerAt(now(), algorithm);
      if (!signer) throw new Error(`no ${algorithm} signing key is active`);
      return { kid: signer.row.kid, alg: signer.alg, privateKey: signer.privateKey, privateKeyObject: signer.privateKeyObject };
    },
    verificationKey: (kid, alg) => {
      const at = now();
      const key = keys.find((candidate) => candidate.row.kid === kid);
      if (!key || key.alg !== alg || !published(key, at)) return undefined;
      return key.publicKey;
    },
    jwks: () => {
      const at = now();
      return { keys: keys.filter((key) => published(key, at)).map((key) => ({ ...key.publicJwk })) };
    },
    list: () => {
      const at = now();
      return keys.map((key) => info(key, at));
    },
    rotate: async (options = {}) => {
      await reload();
      const at = now();
      const alg = options.algorithm ?? primary;
      const previous = signerAt(at, alg);
      const key = await insertKey(options.immediate ? at : at + leadMs, alg);
      if (options.immediate && previous) {
        // The new key signs from now on, even within the same millisecond as its predecessor.
        await db.updateTable('signing_keys').set({ retired_at: at, remove_after: at + keepMs }).where('kid', '=', previous.row.kid).where('retired_at', 'is', null).execute();
      }
      await reload();
      await settle(now());
      await reload();
      await announce();
      const result = info(keys.find((candidate) => candidate.row.kid === key.row.kid) ?? key);
      await deps.onRotated?.(result, options.actorId === undefined ? {} : { actorId: options.actorId });
      return result;
    },
    retire: async (kid, options = {}) => {
      await reload();
      const key = keys.find((candidate) => candidate.row.kid === kid);
      if (!key) throw new Error(`no signing key with kid ${kid}`);
      const at = now();
      const wasSigner = signerAt(at, key.alg)?.row.kid === kid;
      await db.updateTable('signing_keys').set({ retired_at: key.row.retired_at ?? at, remove_after: options.unpublish ? at : (key.row.remove_after ?? at + keepMs) }).where('kid', '=', kid).execute();
      await reload();
      if (wasSigner) {
        // Something must sign: bring a published successor forward, or create one at once.
        const next = keys.filter((candidate) => candidate.alg === key.alg && candidate.row.retired_at === null).at(-1);
        if (next) await db.updateTable('signing_keys').set({ activates_at: at }).where('kid', '=', next.row.kid).execute();
        else if (algorithms.includes(key.alg)) await insertKey(at, key.alg);
        await reload();
      }
      await announce();
      const retired = keys.find((candidate) => candidate.row.kid === kid);
      await deps.audit?.record({ type: 'signing-key-retired', outcome: 'success', actorId: options.actorId ?? null, detail: { kid, alg: key.alg, unpublished: options.unpublish === true } });
      return retired ? info(retired) : { ...info(key), retiredAt: at, removeAfter: at, state: 'retired' };
    },
  };
}
