import { basicAuthorization } from './http.ts';
import { createRevocationList, parseRevocation, type RevocationList } from './revocation-list.ts';
import { createSSEParser } from './sse.ts';
import type { KitEvent } from './types.ts';

/** Where the follower stands: `live` (synced), `grace` (down for less than graceMs), `unavailable`. */
export type RevocationStatus = 'live' | 'grace' | 'unavailable';

export interface RevocationFollower {
  readonly list: RevocationList;
  status(): RevocationStatus;
  /** Resolves on the first `: ready` (backlog applied); rejects if Gatehouse refuses the credentials. */
  synced(): Promise<void>;
  close(): Promise<void>;
}

const PRUNE_EVERY_MS = 60_000;

/**
 * Follows `GET /api/revocations/stream` (docs/tokens.md): one long-lived fetch with HTTP Basic of
 * the resource server's confidential client, parsed as Server-Sent Events. The backlog of live
 * revocations comes first, then `: ready`, then new revocations as they happen. A dropped or
 * silent stream is reconnected with capped exponential backoff and `Last-Event-ID`, so what was
 * revoked meanwhile still arrives (at-least-once). Until the first `: ready` — and from `graceMs`
 * after a drop until the next one — the status is `unavailable`.
 */
export function createRevocationFollower(deps: {
  url: string;
  clientId: string;
  clientSecret: string;
  graceMs: number;
  initialDelayMs: number;
  maxDelayMs: number;
  idleTimeoutMs: number;
  now: () => number;
  onEvent: (event: KitEvent) => void;
}): RevocationFollower {
  const list = createRevocationList();
  const authorization = basicAuthorization(deps.clientId, deps.clientSecret);
  const stop = new AbortController();
  let live = false;
  let everSynced = false;
  let downSince = deps.now();
  let lastEventId = '';
  let attempt = 0;
  let resolveSynced: () => void = () => {};
  let rejectSynced: (error: Error) => void = () => {};
  const syncedPromise = new Promise<void>((resolve, reject) => {
    resolveSynced = resolve;
    rejectSynced = reject;
  });
  // Nobody may be waiting; a refusal is still reported through onEvent.
  syncedPromise.catch(() => {});

  const pruner = setInterval(() => list.prune(Math.floor(deps.now() / 1000)), PRUNE_EVERY_MS);
  pruner.unref();

  function markDown(reason: string): void {
    if (live) {
      live = false;
      downSince = deps.now();
      deps.onEvent({ type: 'revocations-down', detail: reason });
    }
  }

  /** One connection, until it ends; returns 'refused' for 401/403 (wrong credentials). */
  async function connectOnce(): Promise<'ended' | 'refused'> {
    const connection = new AbortController();
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    // Aborting the fetch does not always wake a pending body read (seen with undici when other
    // requests share the origin), so the reader is cancelled too.
    const hangUp = (): void => {
      connection.abort();
      reader?.cancel().catch(() => {});
    };
    stop.signal.addEventListener('abort', hangUp);
    let idle: ReturnType<typeof setTimeout> | undefined;
    const arm = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(hangUp, deps.idleTimeoutMs);
      idle.unref();
    };
    try {
      arm();
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization, 'cache-control': 'no-store' };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      const response = await fetch(deps.url, { headers, redirect: 'error', signal: connection.signal });
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return 'refused';
      }
      if (response.status !== 200 || !/^text\/event-stream/i.test(response.headers.get('content-type') ?? '') || !response.body) {
        await response.body?.cancel();
        throw new Error(`unexpected answer ${response.status}`);
      }
      deps.onEvent({ type: 'revocations-connected' });
      const parser = createSSEParser({
        onEvent: (message) => {
          if (/^\d{1,20}$/.test(message.lastEventId)) lastEventId = message.lastEventId;
          if (message.event !== 'revocation') return;
          const entry = parseRevocation(message.data);
          if (entry) list.apply(entry);
        },
        onComment: (text) => {
          if (text !== 'ready' || live) return;
          live = true;
          attempt = 0;
          deps.onEvent({ type: 'revocations-synced', detail: `${list.size()} live revocations` });
          if (!everSynced) {
            everSynced = true;
            resolveSynced();
          }
        },
      });
      const decoder = new TextDecoder();
      reader = response.body.getReader();
      if (stop.signal.aborted) hangUp();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        arm();
        parser.push(decoder.decode(value, { stream: true }));
      }
      return 'ended';
    } finally {
      if (idle) clearTimeout(idle);
      stop.signal.removeEventListener('abort', hangUp);
      hangUp();
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (stop.signal.aborted) return resolve();
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        stop.signal.removeEventListener('abort', done);
        resolve();
      }
      stop.signal.addEventListener('abort', done);
    });
  }

  const running = (async () => {
    while (!stop.signal.aborted) {
      let outcome: 'ended' | 'refused' | 'failed';
      try {
        outcome = await connectOnce();
      } catch (error) {
        outcome = 'failed';
        if (!stop.signal.aborted) markDown(error instanceof Error ? error.message : 'stream failed');
      }
      if (stop.signal.aborted) break;
      if (outcome === 'ended') markDown('stream ended');
      if (outcome === 'refused') {
        markDown('credentials refused');
        deps.onEvent({ type: 'revocations-refused', detail: `Gatehouse refused client ${deps.clientId} at the revocation stream (401/403)` });
        if (!everSynced) rejectSynced(new Error(`@gatehouse/middleware: Gatehouse refused the revocation stream credentials of client ${deps.clientId}`));
      }
      // Capped exponential backoff with jitter; a refusal waits the longest.
      const base = outcome === 'refused' ? deps.maxDelayMs : Math.min(deps.maxDelayMs, deps.initialDelayMs * 2 ** attempt);
      attempt = Math.min(attempt + 1, 30);
      await sleep(base / 2 + Math.random() * (base / 2));
    }
  })();

  return {
    list,
    status() {
      if (live) return 'live';
      if (!everSynced) return 'unavailable';
      return deps.now() - downSince <= deps.graceMs ? 'grace' : 'unavailable';
    },
    synced: () => syncedPromise,
    async close() {
      stop.abort();
      clearInterval(pruner);
      await running;
    },
  };
}
