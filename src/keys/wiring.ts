import type { FastifyInstance } from 'fastify';
import type { Shared } from '../features/shared.ts';
import { createJWTSigner, createJWTVerifier, type JWTSigner, type JWTVerifier } from './jwt.ts';
import { registerJWKSRoute } from './routes.ts';
import { createKeyService, type KeyService } from './service.ts';

export interface KeysFeature {
  keys: KeyService;
  /** Signs access tokens (the configured signing algorithm). */
  signer: JWTSigner;
  /** Signs ID tokens and logout tokens (`idTokenSigningAlgorithm`). */
  idTokenSigner: JWTSigner;
  /** Verifies our own JWTs: `kid` from our key set, `alg` bound to the key. */
  jwtVerifier: JWTVerifier;
}

/**
 * Signing keys: loaded (or created) before the first request, rotation followed on every
 * instance (announced on `keys:changed`), and the JWKS route. Must come before any feature that signs.
 */
export async function registerKeysFeature(app: FastifyInstance, shared: Shared): Promise<KeysFeature> {
  const { config, database, audit } = shared;
  const keys = createKeyService({
    db: database.db,
    ephemeral: shared.ephemeral,
    sealKey: shared.masterKey.derive('signing-keys'),
    config,
    audit,
    now: shared.now,
    onError: shared.onBackgroundError,
    onRotated: (key, context) => audit.record({ type: 'signing-key-rotated', outcome: 'success', actorId: context?.actorId ?? null, detail: { kid: key.kid, alg: key.alg, activates_at: key.activatesAt } }),
  });
  await keys.start();
  app.addHook('onClose', () => keys.stop());
  registerJWKSRoute(app, { keys, cacheSeconds: config.jwksCacheSeconds });
  return {
    keys,
    signer: createJWTSigner(keys),
    idTokenSigner: createJWTSigner(keys, config.idTokenSigningAlgorithm),
    jwtVerifier: createJWTVerifier(keys, { issuer: shared.issuer, now: shared.now }),
  };
}
