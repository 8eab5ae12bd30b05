import type { FastifyInstance } from 'fastify';
import type { KeysFeature } from '../../keys/wiring.ts';
import type { ClientsFeature } from '../clients/wiring.ts';
import type { Shared } from '../shared.ts';
import { createAccessTokenIssuer, type AccessTokenIssuer } from './access-token.ts';
import { createFirstPartyTokens, type FirstPartyTokens } from './first-party.ts';
import { createRefreshTokenService, type RefreshTokenService } from './refresh.ts';
import { createRevocationService, type RevocationService } from './revocation.ts';
import { createSqlTokenStore, type TokenStore } from './store.ts';
import { registerRevocationStream } from './stream-route.ts';
import { createAccessTokenVerifier, type AccessTokenVerifier } from './verify.ts';
import { createDPoPNonces } from '../oauth/dpop/nonces.ts';
import { createDPoPService, type DPoPService } from '../oauth/dpop/service.ts';

export interface TokensFeature {
  store: TokenStore;
  revocations: RevocationService;
  accessTokens: AccessTokenIssuer;
  refreshTokens: RefreshTokenService;
  verifier: AccessTokenVerifier;
  /** Tokens for the first-party client after a sign-in through the JSON API. */
  firstPartyTokens: FirstPartyTokens;
  /** DPoP (RFC 9449) proofs and nonces: the token endpoint, userinfo and first-party sign-in share one replay cache. */
  dpop: DPoPService;
}

/**
 * Tokens: RFC 9068 access tokens, rotating refresh tokens, and revocation that reaches verifiers
 * (durable rows plus the `revocations` channel behind `/api/revocations/stream`).
 */
export function registerTokensFeature(app: FastifyInstance, shared: Shared, parts: {
  keys: KeysFeature;
  clients: ClientsFeature;
  /** A grant outlives no session (tokens/refresh.ts); sessions are built after tokens. */
  sessionLive: (sessionId: string) => Promise<boolean>;
}): TokensFeature {
  const { config, database, ephemeral, audit, issuer, now } = shared;
  const store = createSqlTokenStore(database.db);
  const revocations = createRevocationService({ store, ephemeral, audit, accessTokenMaxTtlSeconds: config.accessTokenMaxTtlSeconds, now });
  const accessTokens = createAccessTokenIssuer({ signer: parts.keys.signer, issuer, defaultTtlSeconds: config.accessTokenTtlSeconds, maxTtlSeconds: config.accessTokenMaxTtlSeconds, now, permissionsOf: shared.roles.permissionsOf });
  const refreshTokens = createRefreshTokenService({ db: database.db, sealKey: shared.masterKey.derive('refresh-token-successors'), config, revocations, audit, now, sessionLive: parts.sessionLive });
  const verifier = createAccessTokenVerifier({ jwt: parts.keys.jwtVerifier, revocations, maxLifetimeSeconds: config.accessTokenMaxTtlSeconds });
  const dpop = createDPoPService({ config, ephemeral, nonces: createDPoPNonces({ key: shared.masterKey.derive('dpop-nonces'), now }), now });
  const firstPartyTokens = createFirstPartyTokens({ clients: parts.clients.store, accessTokens, refreshTokens, issuer, dpop });
  registerRevocationStream(app, { issuer, authenticator: parts.clients.authenticator, revocations: shared.metrics.counting(revocations), store, now });
  return { store, revocations, accessTokens, refreshTokens, verifier, firstPartyTokens, dpop };
}
