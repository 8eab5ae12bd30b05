import { hashSecret, randomToken } from '../../../crypto/random.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import type { AuthorizationRequest } from './request.ts';

/** A validated authorization request waiting for sign-in or consent (10 minutes at most). */
export interface Interaction {
  id: string;
  request: Omit<AuthorizationRequest, 'prompt'> & { prompt: ('none' | 'login' | 'consent')[] };
  createdAt: number;
  /** The browser session that may complete it, fixed at the first page shown to a signed-in user. */
  sessionId?: string;
  /** `sub` of a valid `id_token_hint`: the request is for that user only. */
  hintSub?: string;
  /** Set when the user was sent to sign in: a sign-in after `createdAt` then counts as fresh. */
  loginRequested?: boolean;
  /** From a pushed request (RFC 9126): SHA-256 of the browser's continuation cookie (par/continuation.ts). */
  browserBinding?: string;
}

/** What an authorization code stands for; stored under the code's SHA-256, consumed once. */
export interface CodeRecord {
  clientId: string;
  userId: string;
  sessionId: string;
  redirectUri: string;
  redirectUriSent: boolean;
  scope: string[];
  audience: string[];
  nonce: string | undefined;
  codeChallenge: string;
  authTime: number;
  amr: string[];
  /** The `acr` the ID token states (chosen against `acr_values`). */
  acr?: string;
  issuedAt: number;
}

const INTERACTION_TTL_MS = 10 * 60_000;

/**
 * Short-lived authorization state in the ephemeral store (shared by every instance with Redis):
 * interactions, codes (single use through an atomic consume) and the marker a redeemed code
 * leaves behind, so that a second redemption can revoke what the first one issued (RFC 6749
 * §4.1.2, SEC-OAUTH-10).
 */
export function createAuthorizationState(ephemeral: EphemeralStore, options: { codeTtlSeconds: number; now: () => number }) {
  const codeTtlMs = options.codeTtlSeconds * 1000;
  return {
    async saveInteraction(interaction: Omit<Interaction, 'id'>): Promise<Interaction> {
      const saved: Interaction = { ...interaction, id: randomToken(24) };
      await ephemeral.set(`oidc:interaction:${saved.id}`, JSON.stringify(saved), INTERACTION_TTL_MS);
      return saved;
    },
    async updateInteraction(interaction: Interaction): Promise<void> {
      const remaining = Math.max(1000, interaction.createdAt + INTERACTION_TTL_MS - options.now());
      await ephemeral.set(`oidc:interaction:${interaction.id}`, JSON.stringify(interaction), remaining);
    },
    async interaction(id: string): Promise<Interaction | undefined> {
      if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return undefined;
      const text = await ephemeral.get(`oidc:interaction:${id}`);
      return text ? (JSON.parse(text) as Interaction) : undefined;
    },
    async finishInteraction(id: string): Promise<Interaction | undefined> {
      if (!/^[A-Za-z0-9_-]{32}$/.test(id)) return undefined;
      const text = await ephemeral.consume(`oidc:interaction:${id}`);
      return text ? (JSON.parse(text) as Interaction) : undefined;
    },
    async issueCode(record: CodeRecord): Promise<string> {
      const code = randomToken(32);
      await ephemeral.set(`oidc:code:${hashSecret(code)}`, JSON.stringify(record), codeTtlMs);
      return code;
    },
    /** The code's record, exactly once; every later call gets undefined. */
    async redeemCode(code: string): Promise<CodeRecord | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return undefined;
      const text = await ephemeral.consume(`oidc:code:${hashSecret(code)}`);
      return text ? (JSON.parse(text) as CodeRecord) : undefined;
    },
    /** Remembers which grant a redeemed code produced (for as long as a replay is worth catching). */
    async markRedeemed(code: string, grantId: string): Promise<void> {
      await ephemeral.set(`oidc:code-used:${hashSecret(code)}`, grantId, Math.max(codeTtlMs * 10, 10 * 60_000));
    },
    async redeemedGrant(code: string): Promise<string | undefined> {
      if (!/^[A-Za-z0-9_-]{43}$/.test(code)) return undefined;
      return (await ephemeral.get(`oidc:code-used:${hashSecret(code)}`)) ?? undefined;
    },
  };
}

export type AuthorizationState = ReturnType<typeof createAuthorizationState>;
