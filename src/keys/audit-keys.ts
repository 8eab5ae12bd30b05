import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Kysely } from 'kysely';
import { open, seal } from '../crypto/seal.ts';
import type { AuditKeysTable, DatabaseSchema } from '../storage/sql/schema.ts';

/**
 * The audit key family: Ed25519 keys that sign audit checkpoints and nothing else. They live in
 * their own table (`audit_keys`), sealed under `masterKey.derive('audit-keys')` with the kid as
 * associated data, so they never appear in the JWKS and the access-token and ID-token families
 * are untouched. A key row is trusted only if its private half opens under the master key and
 * matches its public half: a row planted by someone with database access but without the
 * master key is refused.
 */
export interface AuditKey {
  kid: string;
  publicKey: KeyObject;
  publicJwk: JWK;
}

export interface AuditKeyRing {
  /** The newest key not retired; created on first use. */
  current(): Promise<AuditKey & { privateKey: KeyObject }>;
  /** Every trusted key (current and retired), by kid. */
  trusted(): Promise<Map<string, AuditKey>>;
  /** A new current key; the previous one stays trusted for verification. */
  rotate(): Promise<AuditKey>;
  sign(data: Buffer): Promise<{ kid: string; signature: string }>;
}

export function createAuditKeyRing(deps: { db: Kysely<DatabaseSchema>; sealKey: Buffer; now?: () => number }): AuditKeyRing {
  const { db, sealKey } = deps;
  const now = deps.now ?? Date.now;
  let cached: (AuditKey & { privateKey: KeyObject }) | undefined;

  function openRow(row: AuditKeysTable): AuditKey & { privateKey: KeyObject } {
    const privateJwk = JSON.parse(open(sealKey, row.private_jwk_encrypted, row.kid)) as JWK;
    const privateKey = createPrivateKeyFromJwk(privateJwk);
    const publicJwk = JSON.parse(row.public_jwk) as JWK;
    const derived = createPublicKey(privateKey).export({ format: 'jwk' }) as JWK;
    if (derived.x !== publicJwk.x || publicJwk.crv !== 'Ed25519') throw new Error(`audit key ${row.kid}: public and private halves differ`);
    return { kid: row.kid, publicJwk, publicKey: createPublicKey({ key: publicJwk as never, format: 'jwk' }), privateKey };
  }

  async function create(): Promise<AuditKey & { privateKey: KeyObject }> {
    const pair = generateKeyPairSync('ed25519');
    const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const privateJwk = pair.privateKey.export({ format: 'jwk' }) as JWK;
    await db.insertInto('audit_keys').values({
      kid,
      public_jwk: JSON.stringify({ ...publicJwk, kid, alg: 'EdDSA', use: 'sig' }),
      private_jwk_encrypted: seal(sealKey, JSON.stringify(privateJwk), kid),
      created_at: now(),
      retired_at: null,
    }).execute();
    return { kid, publicJwk: { ...publicJwk, kid, alg: 'EdDSA' }, publicKey: pair.publicKey, privateKey: pair.privateKey };
  }

  async function current(): Promise<AuditKey & { privateKey: KeyObject }> {
    if (cached) return cached;
    const row = await db.selectFrom('audit_keys').selectAll().where('retired_at', 'is', null).orderBy('created_at', 'desc').orderBy('kid', 'desc').executeTakeFirst();
    cached = row ? openRow(row) : await create();
    return cached;
  }

  return {
    current,
    trusted: async () => {
      const rows = await db.selectFrom('audit_keys').selectAll().execute();
      const keys = new Map<string, AuditKey>();
      for (const row of rows) {
        try {
          const key = openRow(row);
          keys.set(key.kid, { kid: key.kid, publicJwk: key.publicJwk, publicKey: key.publicKey });
        } catch {
          // Not sealed under this master key (or damaged): never trusted.
        }
      }
      return keys;
    },
    rotate: async () => {
      await db.updateTable('audit_keys').set({ retired_at: now() }).where('retired_at', 'is', null).execute();
      cached = await create();
      return { kid: cached.kid, publicJwk: cached.publicJwk, publicKey: cached.publicKey };
    },
    sign: async (data) => {
      const key = await current();
      return { kid: key.kid, signature: sign(null, data, key.privateKey).toString('base64url') };
    },
  };
}

/** Ed25519 verification of a checkpoint signature; false for any malformed input. */
export function verifyAuditSignature(key: KeyObject, data: Buffer, signature: string): boolean {
  try {
    const bytes = Buffer.from(signature, 'base64url');
    if (bytes.length !== 64) return false;
    return verify(null, data, key, bytes);
  } catch {
    return false;
  }
}

/** The public members of an audit key's JWK: an allow-list, so a private member (`d`) can never slip into an export. */
function publicMembers(jwk: JWK): JWK {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid: jwk.kid, alg: 'EdDSA', use: 'sig' } as JWK;
}

/** The public halves of `keys` as a JWK Set (`gatehouse audit key export`), for an auditor to pin. */
export function auditPublicJwkSet(keys: Iterable<AuditKey>): { keys: JWK[] } {
  return { keys: [...keys].map((key) => publicMembers({ ...key.publicJwk, kid: key.kid })) };
}

/**
 * An auditor's pinned audit keys (a JWK Set from `audit key export`, or one JWK), by kid. Each
 * kid must be the key's RFC 7638 thumbprint (as Gatehouse assigns it), so a label cannot point a
 * checkpoint at the wrong key; a file holding a private member is refused rather than used.
 */
export async function parseTrustedAuditKeys(text: string): Promise<Map<string, AuditKey>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error('the trust key file is not JSON (expected the output of "gatehouse audit key export")');
  }
  const set = value as { keys?: unknown } | null;
  const list = set && Array.isArray(set.keys) ? set.keys as JWK[] : [value as JWK];
  const keys = new Map<string, AuditKey>();
  for (const jwk of list) {
    if (!jwk || typeof jwk !== 'object') throw new Error('the trust key file holds something that is not a JWK');
    if ('d' in jwk) throw new Error('the trust key file holds a private key; export the public keys with "gatehouse audit key export"');
    const publicKey = auditPublicKeyFromJwk(jwk);
    const kid = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x! }, 'sha256');
    if (jwk.kid !== undefined && jwk.kid !== kid) throw new Error(`the trust key ${jwk.kid} is labelled with a kid that is not its thumbprint (${kid})`);
    keys.set(kid, { kid, publicKey, publicJwk: publicMembers({ ...jwk, kid }) });
  }
  if (keys.size === 0) throw new Error('the trust key file holds no keys');
  return keys;
}

/** A public key from a JWK (an auditor's pinned key file). */
export function auditPublicKeyFromJwk(jwk: JWK): KeyObject {
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('an audit key is an Ed25519 JWK');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
}

function createPrivateKeyFromJwk(jwk: JWK): KeyObject {
  return createPrivateKey({ key: jwk as never, format: 'jwk' });
}
