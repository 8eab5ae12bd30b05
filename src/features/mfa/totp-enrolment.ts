import { renderSVG } from 'uqr';
import { apiError } from '../../errors/catalog.ts';
import { constantTimeEqual, randomBuffer, randomToken } from '../../crypto/random.ts';
import { open, seal } from '../../crypto/seal.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';
import { base32Encode, otpauthUri } from './totp.ts';

export interface TotpEnrolment {
  enrolmentId: string;
  /** Base32, for typing into an app; shown to the user, never logged. */
  secret: string;
  otpauthUri: string;
  /** The QR code of `otpauthUri`, SVG rendered here (uqr): no external image service. */
  qrSvg: string;
}

/** How long a set-up waits for its first code; it is not extended by showing it again. */
export const ENROLMENT_TTL_MS = 10 * 60_000;
const ENROLMENT_ID = /^[A-Za-z0-9_-]{32}$/;

interface Saved {
  enrolmentId: string;
  /** The secret, sealed under the TOTP key with the user id as associated data. */
  secret: string;
}

/**
 * The one pending TOTP set-up of a user, in the ephemeral store (every instance sees it): the
 * secret sealed, 10 minutes, created by the first start and handed back by every later start
 * until it is confirmed (then gone) or expires. A page that reloads after a wrong or empty
 * first code therefore shows the same QR code the user already scanned, instead of a new
 * secret that their app does not know.
 */
export function createTotpEnrolments(deps: { ephemeral: EphemeralStore; sealKey: Buffer; issuerName: string }) {
  const { ephemeral, sealKey } = deps;
  const key = (userId: string) => `mfa:enrol:user:${userId}`;
  const context = (userId: string) => `mfa-enrol:${userId}`;

  async function read(userId: string): Promise<Saved | undefined> {
    const text = await ephemeral.get(key(userId));
    return text === null ? undefined : (JSON.parse(text) as Saved);
  }

  function secretOf(userId: string, saved: Saved): Buffer {
    return Buffer.from(open(sealKey, saved.secret, context(userId)), 'base64url');
  }

  function view(userId: string, email: string, saved: Saved): TotpEnrolment {
    const secret = secretOf(userId, saved);
    const uri = otpauthUri({ issuer: deps.issuerName, account: email, secret });
    return { enrolmentId: saved.enrolmentId, secret: base32Encode(secret), otpauthUri: uri, qrSvg: renderSVG(uri, { pixelSize: 5 }) };
  }

  return {
    /** The user's pending set-up, or a new one (160-bit secret, RFC 4226 §4 R6). Two tabs starting at once share one. */
    async start(userId: string, email: string): Promise<TotpEnrolment> {
      const existing = await read(userId);
      if (existing) return view(userId, email, existing);
      const created: Saved = { enrolmentId: randomToken(24), secret: seal(sealKey, randomBuffer(20).toString('base64url'), context(userId)) };
      if (await ephemeral.setIfAbsent(key(userId), JSON.stringify(created), ENROLMENT_TTL_MS)) return view(userId, email, created);
      const winner = await read(userId);
      if (!winner) throw apiError('conflict', 'Start the set-up again.');
      return view(userId, email, winner);
    },

    /** The secret of the pending set-up named `enrolmentId` (read only: a wrong code keeps it). */
    async secret(userId: string, enrolmentId: string): Promise<Buffer | undefined> {
      if (!ENROLMENT_ID.test(enrolmentId)) return undefined;
      const saved = await read(userId);
      return saved && constantTimeEqual(saved.enrolmentId, enrolmentId) ? secretOf(userId, saved) : undefined;
    },

    /** Uses the set-up up (GETDEL): of concurrent confirmations, one gets true. */
    async finish(userId: string, enrolmentId: string): Promise<boolean> {
      const text = await ephemeral.consume(key(userId));
      return text !== null && constantTimeEqual((JSON.parse(text) as Saved).enrolmentId, enrolmentId);
    },
  };
}

export type TotpEnrolments = ReturnType<typeof createTotpEnrolments>;
