import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import type { Config } from '../../../config/schema.ts';
import type { Client } from '../../clients/model.ts';
import { DPOP_ALGORITHMS, replayKey, verifyDPoPProof, type DPoPFailureCode } from '../../../../packages/middleware/src/dpop.ts';
import type { DPoPNonces } from './nonces.ts';

/** What a verified proof binds a token to: the RFC 7638 thumbprint of its key (`cnf.jkt`). */
export interface DPoPBinding {
  jkt: string;
}

export type DPoPRefusal = { ok: false; error: 'invalid_dpop_proof' | 'use_dpop_nonce'; description: string; detail: string };

export interface DPoPService {
  readonly algorithms: readonly string[];
  /**
   * The token endpoint's step (RFC 9449 §5): the request's proof, if it sent one — throws
   * `invalid_dpop_proof` / `use_dpop_nonce` — or undefined without a `DPoP` header (refused for
   * a client registered for DPoP-bound tokens only).
   */
  tokenRequest(request: FastifyRequest, reply: FastifyReply, client: Client, url: string): Promise<DPoPBinding | undefined>;
  /** A protected resource's step (§7): the proof presented with `accessToken`, or why it is refused. */
  resourceRequest(request: FastifyRequest, reply: FastifyReply, input: { url: string; accessToken: string }): Promise<({ ok: true } & DPoPBinding) | DPoPRefusal>;
  /** `WWW-Authenticate: DPoP …` (§7.1). */
  challenge(error?: string, description?: string): string;
}

const DESCRIPTIONS: Partial<Record<DPoPFailureCode | 'missing' | 'repeated', string>> = {
  dpop_stale: 'The DPoP proof is too old or from the future.',
  dpop_replayed: 'The DPoP proof was already used.',
  dpop_wrong_ath: 'The DPoP proof does not match the access token.',
  missing: 'A DPoP proof is required.',
  repeated: 'Send one DPoP header.',
};

/** The DPoP step of the token endpoint and of protected resources, with a replay cache shared by every instance. */
export function createDPoPService(deps: {
  config: Pick<Config, 'dpopProofWindowSeconds' | 'dpopRequireNonce' | 'dpopBoundClients'>;
  ephemeral: EphemeralStore;
  nonces: DPoPNonces;
  now: () => number;
}): DPoPService {
  const windowSeconds = deps.config.dpopProofWindowSeconds;
  // A jti is remembered as long as a proof carrying it could still pass the iat check.
  const replayTtlMs = (2 * windowSeconds + 5) * 1000;
  const boundClients = new Set(deps.config.dpopBoundClients);

  async function check(request: FastifyRequest, reply: FastifyReply, url: string, accessToken: string | undefined): Promise<({ ok: true } & DPoPBinding) | DPoPRefusal | undefined> {
    const header = request.headers.dpop;
    if (header === undefined) return undefined;
    if (typeof header !== 'string') return { ok: false, error: 'invalid_dpop_proof', description: DESCRIPTIONS.repeated!, detail: 'several DPoP headers' };
    const verified = verifyDPoPProof(header, { method: request.method, url, accessToken, nowSeconds: Math.floor(deps.now() / 1000), windowSeconds });
    if (!verified.ok) return { ok: false, error: 'invalid_dpop_proof', description: DESCRIPTIONS[verified.code] ?? 'The DPoP proof is invalid.', detail: verified.code };
    if (deps.config.dpopRequireNonce) {
      // §8: a fresh nonce goes with every answer; a proof without a current one is refused with it.
      reply.header('dpop-nonce', deps.nonces.current());
      if (verified.nonce === undefined || !deps.nonces.valid(verified.nonce)) {
        return { ok: false, error: 'use_dpop_nonce', description: 'Use the DPoP-Nonce the server provided.', detail: verified.nonce === undefined ? 'no nonce' : 'stale nonce' };
      }
    }
    // §11.1: each proof once, across instances (EphemeralStore.setIfAbsent); keyed on jti, never on signature bytes.
    if (!(await deps.ephemeral.setIfAbsent(`dpop:jti:${replayKey(verified.jkt, verified.jti)}`, '1', replayTtlMs))) {
      return { ok: false, error: 'invalid_dpop_proof', description: DESCRIPTIONS.dpop_replayed!, detail: 'dpop_replayed' };
    }
    return { ok: true, jkt: verified.jkt };
  }

  const challenge = (error?: string, description?: string): string =>
    `DPoP algs="${DPOP_ALGORITHMS.join(' ')}"${error ? `, error="${error}"${description ? `, error_description="${description}"` : ''}` : ''}`;

  return {
    algorithms: DPOP_ALGORITHMS,
    challenge,
    async tokenRequest(request, reply, client, url) {
      const outcome = await check(request, reply, url, undefined);
      if (outcome === undefined) {
        // RFC 9449 §5.2: dpop_bound_access_tokens — this client's tokens are always sender-constrained.
        if (boundClients.has(client.clientId)) throw apiError('invalid_dpop_proof', DESCRIPTIONS.missing!, { detail: 'client requires DPoP' });
        return undefined;
      }
      if (!outcome.ok) {
        const headers: Record<string, string> = outcome.error === 'use_dpop_nonce' ? { 'dpop-nonce': deps.nonces.current() } : {};
        throw apiError(outcome.error, outcome.description, { detail: outcome.detail, headers });
      }
      return { jkt: outcome.jkt };
    },
    async resourceRequest(request, reply, input) {
      const outcome = await check(request, reply, input.url, input.accessToken);
      return outcome ?? { ok: false, error: 'invalid_dpop_proof', description: DESCRIPTIONS.missing!, detail: 'no DPoP header' };
    },
  };
}
