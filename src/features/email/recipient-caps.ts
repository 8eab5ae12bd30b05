import type { RateLimiter, RateLimitRule } from '../rate-limit/limiter.ts';
import type { Mailer, OutgoingMail } from './mailer.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Every mail that somebody other than the recipient can cause, with its cap per recipient
 * address. The counters live in the ephemeral store (Redis when scaled out), so the caps hold
 * across instances; keys are hashed there (no addresses in clear). A mail over its cap is dropped
 * silently — the request that caused it answers as always, so the cap tells nothing either.
 * docs/accounts-and-sessions.md ("Mail caps") is this table in prose; keep the two in step.
 */
export const RECIPIENT_CAPS = {
  /** "Someone tried to sign up with your address" (sign-up with a registered address). */
  'already-registered': { limit: 3, windowMs: DAY },
  /** The verification link: at sign-up, and re-sent from a signed-in session. */
  'verify-email': { limit: 5, windowMs: HOUR },
  /** The password-reset link ("forgot password" needs only the address). */
  'password-reset': { limit: 3, windowMs: HOUR },
  /** The link that proves an address before a social identity is linked to its account. */
  'link-identity': { limit: 3, windowMs: HOUR },
  /** "Sign-in to your account was paused" after failed sign-ins (anyone can fail to sign in): once per lockout history window. */
  lockout: { limit: 1, windowMs: DAY },
  /** The link that confirms a new address (a signed-in user may name anyone's address). */
  'change-email': { limit: 3, windowMs: HOUR },
} as const satisfies Record<string, Omit<RateLimitRule, 'name'>>;

export type CappedMailKind = keyof typeof RECIPIENT_CAPS;

/** The cap of `kind` as a limiter rule, for a path that must check it before doing the work (issuing a link). */
export function recipientCapRule(kind: CappedMailKind): RateLimitRule {
  return { name: `mail:${kind}`, ...RECIPIENT_CAPS[kind] };
}

export interface CappedMailer {
  /**
   * Counts `mail` against its recipient's cap for `kind` (awaited: a store outage fails the
   * request like any rate limit) and, when under the cap, sends it in the background — SMTP
   * failures go to `onError`, never to the caller. Resolves true when the mail was handed over.
   */
  send(kind: CappedMailKind, mail: OutgoingMail, what?: string): Promise<boolean>;
}

export function createCappedMailer(deps: { mailer: Mailer; limiter: RateLimiter; onError: (error: unknown, what: string) => void }): CappedMailer {
  return {
    async send(kind, mail, what = `${kind} mail`) {
      const decision = await deps.limiter.hit(recipientCapRule(kind), mail.to.toLowerCase());
      if (!decision.allowed) return false;
      deps.mailer.send(mail).catch((error: unknown) => deps.onError(error, what));
      return true;
    },
  };
}
