/**
 * A small closed-loop HTTP/1.1 load generator for loopback benchmarks: `connections` keep-alive
 * sockets, each sending its next request when the previous response is complete, for a bounded
 * time. Raw `node:net` sockets (no client library in the way), so one core of load generation
 * drives several cores of server. Responses must carry `content-length` (Fastify and Express
 * always send it for JSON); anything else is counted as an error, never guessed.
 *
 * A request spec may draw a value from a pool (`{{POOL}}` in a header or the body): round-robin
 * over fixed values, or `rotate` — each response's JSON field replaces the value it used (refresh
 * rotation). `expectBody` makes a 2xx without that text a failure ("a 2xx is not proof").
 */
import { connect, type Socket } from 'node:net';

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** rr: round-robin; rotate: each response's JSON field replaces the value used; once: each value once, then stop. */
  pool?: { mode: 'rr'; values: string[] } | { mode: 'rotate'; values: string[]; extractJsonField: string } | { mode: 'once'; values: string[] };
  /** A 2xx response whose body lacks this text counts as a failure. */
  expectBody?: string;
}

export interface LoadResult {
  requests: number;
  seconds: number;
  /** Non-2xx plus 2xx that failed the body check. */
  failures: number;
  statuses: Record<string, number>;
  /** Latency percentiles in milliseconds (closed loop: includes queueing). */
  p50: number;
  p99: number;
  max: number;
  errors: number;
  firstFailure?: string;
}

const PLACEHOLDER = '{{POOL}}';

/** Splits the request text around the pool placeholder once, so each request is a concat. */
function compile(spec: RequestSpec, host: string): (value: string | undefined) => string {
  const lines = [`${spec.method} ${spec.path} HTTP/1.1`, `host: ${host}`, 'connection: keep-alive'];
  for (const [name, value] of Object.entries(spec.headers ?? {})) lines.push(`${name}: ${value}`);
  const head = lines.join('\r\n');
  const body = spec.body;
  if (body === undefined) {
    const [before, after] = head.split(PLACEHOLDER);
    return after === undefined ? () => `${head}\r\n\r\n` : (value) => `${before}${value}${after}\r\n\r\n`;
  }
  const hasPool = body.includes(PLACEHOLDER) || head.includes(PLACEHOLDER);
  if (!hasPool) return () => `${head}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
  return (value) => {
    const filled = body.replaceAll(PLACEHOLDER, value ?? '');
    return `${head.replaceAll(PLACEHOLDER, value ?? '')}\r\ncontent-length: ${Buffer.byteLength(filled)}\r\n\r\n${filled}`;
  };
}

interface Parsed { status: number; body: string }

/** Incremental parser of keep-alive HTTP/1.1 responses with content-length. */
function responseParser(onResponse: (response: Parsed) => void, onError: (message: string) => void): (chunk: Buffer) => void {
  let buffer: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffer.subarray(0, end).toString('latin1');
      const status = Number(head.slice(9, 12));
      const match = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!match) return onError(`response without content-length (status ${status})`);
      const length = Number(match[1]);
      if (buffer.length < end + 4 + length) return;
      const body = buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      buffer = buffer.subarray(end + 4 + length);
      onResponse({ status, body });
    }
  };
}

/**
 * Runs a bounded load; resolves after `durationMs` plus the in-flight responses. With `rate`
 * (requests per second over all connections), each connection paces itself to its share instead
 * of sending as soon as the previous answer came (a steady load below the peak, for soaks).
 */
export async function runLoad(options: { base: string; spec: RequestSpec; connections: number; durationMs: number; timeoutMs?: number; rate?: number }): Promise<LoadResult> {
  const url = new URL(options.base);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`refusing a non-loopback target: ${options.base}`);
  const port = Number(url.port);
  const build = compile(options.spec, url.host);
  const pool = options.spec.pool ? [...options.spec.pool.values] : [];
  const rotate = options.spec.pool?.mode === 'rotate' ? options.spec.pool.extractJsonField : undefined;
  const once = options.spec.pool?.mode === 'once';
  if (once) pool.reverse();
  const expect = options.spec.expectBody;
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let failures = 0;
  let errors = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const timeoutMs = options.timeoutMs ?? 10_000;

  const fail = (message: string): void => {
    failures++;
    firstFailure ??= message;
  };

  const intervalMs = options.rate ? (1000 * options.connections) / options.rate : 0;
  function loop(socket: Socket, done: () => void, offsetMs: number): void {
    let sentAt = 0;
    let value: string | undefined;
    let slot = start + offsetMs;
    const send = (): void => {
      if (intervalMs > 0) {
        const wait = slot - performance.now();
        slot = Math.max(slot + intervalMs, performance.now());
        if (wait > 0) {
          setTimeout(sendNow, wait);
          return;
        }
      }
      sendNow();
    };
    const sendNow = (): void => {
      if (performance.now() >= deadline) {
        socket.end();
        return done();
      }
      if (options.spec.pool) {
        if (once) {
          value = pool.pop();
          if (value === undefined) {
            socket.end();
            return done();
          }
        } else if (rotate) {
          value = pool.pop();
          if (value === undefined) {
            fail('rotation pool exhausted');
            socket.end();
            return done();
          }
        } else {
          value = pool[next++ % pool.length];
        }
      }
      sentAt = performance.now();
      socket.write(build(value));
    };
    const timer = setInterval(() => {
      if (sentAt > 0 && performance.now() - sentAt > timeoutMs) {
        errors++;
        firstFailure ??= 'timeout';
        socket.destroy();
        done();
      }
    }, 1000);
    socket.once('close', () => clearInterval(timer));
    socket.on('data', responseParser((response) => {
      latencies.push(performance.now() - sentAt);
      statuses[response.status] = (statuses[response.status] ?? 0) + 1;
      sentAt = 0;
      if (response.status < 200 || response.status > 299) fail(`status ${response.status}: ${response.body.slice(0, 200)}`);
      else if (expect !== undefined && !response.body.includes(expect)) fail(`body without ${JSON.stringify(expect)}: ${response.body.slice(0, 200)}`);
      if (rotate) {
        let successor: unknown;
        try {
          successor = (JSON.parse(response.body) as Record<string, unknown>)[rotate];
        } catch {
          successor = undefined;
        }
        // A failed rotation leaves the old value usable only if the server did not consume it; never reuse it.
        if (typeof successor === 'string') pool.push(successor);
      }
      send();
    }, (message) => {
      errors++;
      firstFailure ??= message;
      socket.destroy();
      done();
    }));
    socket.on('error', (error) => {
      errors++;
      firstFailure ??= error.message;
      done();
    });
    send();
  }

  await Promise.all(Array.from({ length: options.connections }, (_, index) => new Promise<void>((resolve) => {
    let finished = false;
    const done = (): void => {
      if (!finished) {
        finished = true;
        resolve();
      }
    };
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port, noDelay: true }, () => loop(socket, done, (intervalMs * index) / options.connections));
    socket.on('error', (error) => {
      errors++;
      firstFailure ??= error.message;
      done();
    });
  })));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => (latencies.length === 0 ? NaN : latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!);
  return { requests: latencies.length, seconds, failures, statuses, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) ?? NaN, errors, ...(firstFailure !== undefined ? { firstFailure } : {}) };
}
