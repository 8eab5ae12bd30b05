import { newId } from '../../../crypto/random.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { Outbox } from '../../webhooks/outbox.ts';
import type { ParticipantStore } from './participants.ts';
import { signLogoutToken } from './logout-token.ts';

export const BACKCHANNEL_KIND = 'backchannel-logout';

/**
 * OpenID Connect Back-Channel Logout 1.0: when sessions end (any way — sign-out, RP-initiated
 * logout, revocation, password change, a disabled or deleted account), every client that got an
 * ID token for one of them and registered a `backchannel_logout_uri` is sent a logout token
 * through the durable outbox, with retries; the user's logout never waits for a relying party.
 */
export function createBackchannelLogout(deps: {
  outbox: Outbox;
  participants: ParticipantStore;
  clients: ClientStore;
  signer: { sign(claims: Record<string, unknown>, options: { typ: string }): Promise<string> };
  issuer: string;
  now: () => number;
}): { sessionsEnded(sessionIds: readonly string[]): Promise<void> } {
  const { outbox, clients } = deps;

  // Signed at send time: a fresh `iat`/`exp` and `jti` for every attempt, with the client's current URI.
  outbox.addKind(BACKCHANNEL_KIND, async (row, at) => {
    const client = row.client_id === null ? undefined : await clients.get(row.client_id);
    if (!client?.backchannelLogoutUri) return { giveUp: 'the client was deleted or no longer has a backchannel_logout_uri' };
    const { sub, sid } = JSON.parse(row.payload) as { sub: string; sid: string };
    const token = await signLogoutToken(deps.signer, { issuer: deps.issuer, clientId: client.clientId, subject: sub, sessionId: sid, now: at });
    // §2.5: POST, form-encoded, the token in `logout_token`.
    return { url: client.backchannelLogoutUri, headers: { 'content-type': 'application/x-www-form-urlencoded', 'cache-control': 'no-store' }, body: new URLSearchParams({ logout_token: token }).toString() };
  });

  return {
    async sessionsEnded(sessionIds) {
      const participants = await deps.participants.take(sessionIds);
      if (participants.length === 0) return;
      const deliveries = [];
      for (const participant of participants) {
        const client = await clients.get(participant.clientId);
        if (!client?.backchannelLogoutUri) continue;
        const at = deps.now();
        const eventId = `logout_${newId(at)}`;
        deliveries.push({
          id: eventId,
          kind: BACKCHANNEL_KIND,
          subscriptionId: null,
          clientId: client.clientId,
          eventId,
          eventType: 'backchannel-logout',
          payload: JSON.stringify({ sub: participant.userId, sid: participant.sessionId }),
        } as const);
      }
      await outbox.enqueue(deliveries);
    },
  };
}
