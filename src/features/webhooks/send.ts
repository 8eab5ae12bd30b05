import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ConnectionPool } from './connections.ts';
import type { DestinationGuard } from './destination.ts';

/** At most this much of a response is read (the body is only kept, cut, for the delivery log). */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface SendResult {
  /** 2xx: delivered. Anything else (3xx included: redirects are never followed) is a failure. */
  ok: boolean;
  statusCode: number | null;
  latencyMs: number;
  /** A short operator-facing reason for failures; never a secret. */
  error: string | null;
}

/**
 * One POST through the destination guard (SSRF rules at connect time: every connection of
 * `pool` was opened through `guard.lookup`), bounded in time and in the response size read, no
 * redirects. Without a pool, a connection of its own.
 */
export async function send(outgoing: OutgoingRequest, options: { guard: DestinationGuard; timeoutMs: number; pool?: ConnectionPool }): Promise<SendResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  let url: URL;
  try {
    url = new URL(outgoing.url);
    options.guard.checkUrl(url);
  } catch (error) {
    return { ok: false, statusCode: null, latencyMs: latency(), error: reasonOf(error) };
  }
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const agent = options.pool ? options.pool.agentFor(url.protocol) : false;
  const body = Buffer.from(outgoing.body, 'utf8');
  const headers = { ...outgoing.headers, 'content-length': String(body.length), 'user-agent': 'Gatehouse-Webhooks/1' };
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    let current: ClientRequest | undefined;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: latency() });
    };
    const post = (retry: boolean) => {
      let answered = false;
      const req = request(url, { method: 'POST', agent, lookup: options.guard.lookup as never, headers }, (response: IncomingMessage) => {
        answered = true;
        let received = 0;
        const status = response.statusCode ?? 0;
        response.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > MAX_RESPONSE_BYTES) {
            // Destroyed, never returned to the pool.
            response.destroy();
            finish(outcome(status, 'response too large (cut)'));
          }
        });
        response.on('end', () => finish(outcome(status, null)));
        response.on('error', () => finish(outcome(status, 'response aborted')));
      });
      current = req;
      req.on('error', (error) => {
        // An idle kept-alive connection the receiver closed meanwhile: once more on another one
        // (Node's advice for `reusedSocket`); the receiver may have seen it, which at-least-once allows.
        if (retry && req.reusedSocket && !answered && !settled) return post(false);
        finish({ ok: false, statusCode: null, error: reasonOf(error) });
      });
      req.end(body);
    };
    // The whole exchange is bounded (connect, send, response), not only socket inactivity.
    const timer = setTimeout(() => {
      current?.destroy(new Error('timeout'));
      finish({ ok: false, statusCode: null, error: `timed out after ${options.timeoutMs} ms` });
    }, options.timeoutMs);
    post(true);
  });
}

function outcome(status: number, note: string | null): Omit<SendResult, 'latencyMs'> {
  const ok = status >= 200 && status < 300;
  if (ok) return { ok, statusCode: status, error: note };
  return { ok, statusCode: status, error: status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}` };
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_DESTINATION_REFUSED') return `destination refused: ${error.message}`;
    if (typeof code === 'string') return code;
    return error.message.slice(0, 200);
  }
  return 'error';
}
