import type { FastifyInstance } from 'fastify';
import type { ClientAuthenticator } from '../clients/authenticate.ts';
import type { RevocationService } from './revocation.ts';
import type { Revocation, TokenStore } from './store.ts';

const HEARTBEAT_MS = 15_000;

/**
 * `GET /api/revocations/stream`: Server-Sent Events of revoked token ids, grants and sessions,
 * each with the time until which verifiers must refuse it. A resource server authenticates as a
 * confidential client (HTTP Basic), receives every live revocation first, then new ones as they
 * happen on any instance — so it can refuse a revoked JWT within a second without a call per
 * request. `Last-Event-ID` resumes after a reconnect (ids are revocation times in ms).
 */
export function registerRevocationStream(app: FastifyInstance, deps: { issuer: string; authenticator: ClientAuthenticator; revocations: RevocationService; store: TokenStore; now?: () => number }): void {
  const now = deps.now ?? Date.now;
  const open = new Set<() => void>();
  // Streams never finish on their own: end them before the server waits for connections to drain.
  app.addHook('preClose', async () => {
    for (const end of open) end();
  });
  app.get('/api/revocations/stream', {
    schema: { tags: ['tokens'], summary: 'Server-Sent Events of revocations for resource servers (client authentication: HTTP Basic).' },
  }, async (request, reply) => {
    const client = await deps.authenticator.authenticate(request, {}, { endpoint: `${deps.issuer}/api/revocations/stream` });
    if (client.type !== 'confidential') {
      return reply.code(403).send({ error: 'forbidden', error_description: 'Only confidential clients may read the revocation stream.' });
    }
    const lastId = Number(request.headers['last-event-id']);
    // At-least-once: revocations made in the same millisecond as the last one seen are sent again.
    const since = Number.isFinite(lastId) && lastId > 0 ? lastId : 0;

    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff',
    });

    // The client may leave during any await below: everything set up so far is torn down then.
    let closed = false;
    let unsubscribe: (() => Promise<void>) | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    const end = (): void => {
      if (!raw.writableEnded) raw.end();
    };
    open.add(end);
    raw.on('close', () => {
      closed = true;
      open.delete(end);
      if (heartbeat) clearInterval(heartbeat);
      void unsubscribe?.().catch(() => {});
    });
    // A socket reset mid-stream surfaces here; an 'error' event without a listener would crash
    // the process (SEC-REL). 'close' follows and tears the stream down.
    raw.on('error', () => {
      closed = true;
    });
    // Never write to a stream that ended or broke: a write after end emits 'error'.
    const write = (chunk: string): void => {
      if (!closed && !raw.writableEnded && !raw.destroyed) raw.write(chunk);
    };
    const send = (revocation: Revocation): void => {
      if (revocation.kind === 'user-client') return; // internal: guards code redemption only
      write(`id: ${revocation.revokedAt}\nevent: revocation\ndata: ${JSON.stringify({ kind: revocation.kind, value: revocation.value, revoked_at: Math.floor(revocation.revokedAt / 1000), expires_at: Math.ceil(revocation.expiresAt / 1000) })}\n\n`);
    };
    write('retry: 1000\n\n');

    // Subscribe before reading the backlog so nothing falls between the two.
    const buffered: Revocation[] = [];
    let live = false;
    try {
      const subscribed = await deps.revocations.subscribe((revocation) => {
        if (closed) return;
        if (live) send(revocation);
        else buffered.push(revocation);
      });
      let unsubscribed: Promise<void> | undefined;
      unsubscribe = () => (unsubscribed ??= subscribed());
      if (closed) {
        await unsubscribe();
        return;
      }
      const backlog = await deps.store.listRevocations(now(), since);
      if (closed) return;
      for (const revocation of backlog) send(revocation);
      for (const revocation of buffered) send(revocation);
    } catch (error) {
      // Redis or the database is down. The response is already taken over, so no 503 can be
      // sent: end the stream (the client reconnects after `retry`, and Last-Event-ID resumes it)
      // rather than leave it open and silent, missing revocations.
      request.log.warn({ reason: error instanceof Error ? error.message : 'error' }, 'revocation stream could not start; ended it');
      await unsubscribe?.().catch(() => {});
      end();
      return;
    }
    live = true;
    write(': ready\n\n');
    heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
  });
}
