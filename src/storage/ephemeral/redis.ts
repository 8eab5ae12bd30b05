/**
 * Redis ephemeral store: shared by every instance pointed at the same Redis and prefix.
 *
 * Fails fast rather than queueing: while Redis is unreachable every call rejects at once with
 * `EphemeralUnavailableError` (callers fail closed with 503), and the client keeps reconnecting
 * in the background with a backoff capped at 2 s. Two connections: one for commands, one in
 * subscriber mode for pub/sub (ioredis re-subscribes it after a reconnect).
 */
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { EphemeralUnavailableError } from './types.ts';
import type { CounterState, EphemeralStore } from './types.ts';

export interface RedisStoreOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…`. Never echoed in errors. */
  url: string;
  /** Prepended to every key and channel, e.g. `gatehouse:`. */
  prefix: string;
  /** Limit for one connection attempt, and for the wait on the first one at start-up. */
  connectTimeoutMs?: number;
}

/** `ping()` answers within this, so `/readyz` never hangs on a stalled Redis. */
const PING_TIMEOUT_MS = 1000;
/** A stalled Redis fails requests instead of holding them open. */
const COMMAND_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 2000;

/**
 * Fixed window: the first INCR opens it with PEXPIRE; later ones keep its deadline. The
 * `ttl < 0` guard also repairs a counter key that somehow lost its expiry.
 */
const INCREMENT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
`;

/**
 * A counter and its deadline from one moment, in one command (a MULTI of GET and PTTL is four
 * commands on the wire; this peek runs on every introspection). A missing or non-numeric key
 * reads as no count.
 */
const PEEK_SCRIPT = `
local count = tonumber(redis.call('GET', KEYS[1]) or '')
if not count then
  return {0, 0}
end
return {count, redis.call('PTTL', KEYS[1])}
`;

type ScriptedRedis = Redis & {
  incrementWindow(key: string, windowMs: number): Promise<unknown>;
  peekWindow(key: string): Promise<unknown>;
};

interface Subscription {
  handler: (message: string) => void;
}

/**
 * Opens a Redis-backed store. Resolves even when Redis is down (after at most one connection
 * attempt), so a server can start and report not-ready until Redis comes back.
 */
export async function createRedisStore(options: RedisStoreOptions): Promise<EphemeralStore> {
  const { prefix } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 2000;
  const secrets = urlSecrets(options.url);

  const clientOptions: RedisOptions = {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Reject while disconnected instead of queueing requests behind a dead connection.
    enableOfflineQueue: false,
    // 0: commands in flight when the connection drops are rejected, not re-sent after the
    // reconnect — re-sending an INCR or SET NX whose first attempt may have run would
    // double-count.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(100 * 2 ** (attempt - 1), MAX_RECONNECT_DELAY_MS),
    autoResubscribe: true,
    scripts: { incrementWindow: { lua: INCREMENT_SCRIPT, numberOfKeys: 1 }, peekWindow: { lua: PEEK_SCRIPT, numberOfKeys: 1 } },
  };
  const client = new Redis(options.url, clientOptions) as ScriptedRedis;
  const subscriber = client.duplicate();
  for (const connection of [client, subscriber]) {
    // Connection errors surface as rejected commands; an unhandled 'error' event would crash.
    connection.on('error', () => {});
  }

  const channels = new Map<string, Set<Subscription>>();
  subscriber.on('message', (prefixedChannel: string, message: string) => {
    if (!prefixedChannel.startsWith(prefix)) return;
    const subscriptions = channels.get(prefixedChannel.slice(prefix.length));
    if (subscriptions === undefined) return;
    for (const subscription of [...subscriptions]) deliver(subscription.handler, message);
  });

  // Wait for the first attempt only, and no longer than connectTimeoutMs (a Redis that accepts
  // TCP but never answers would otherwise hold start-up through the handshake's timeouts);
  // on failure ioredis keeps retrying in the background.
  const firstAttempt = Promise.allSettled([client.connect(), subscriber.connect()]);
  await withTimeout(firstAttempt, connectTimeoutMs).catch(() => {});

  async function run<T>(operation: string, connection: Redis, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      throw unavailable(operation, connection, error, secrets);
    }
  }

  const key = (name: string): string => prefix + name;

  return {
    kind: 'redis',

    async set(name, value, ttlMs) {
      const ttl = checkTtl(ttlMs);
      await run('SET', client, () => client.set(key(name), value, 'PX', ttl));
    },

    async setIfAbsent(name, value, ttlMs) {
      const ttl = checkTtl(ttlMs);
      const reply = await run('SET NX', client, () => client.set(key(name), value, 'PX', ttl, 'NX'));
      return reply === 'OK';
    },

    get(name) {
      return run('GET', client, () => client.get(key(name)));
    },

    consume(name) {
      return run('GETDEL', client, () => client.getdel(key(name)));
    },

    async delete(name) {
      await run('DEL', client, () => client.del(key(name)));
    },

    async increment(name, windowMs) {
      const window = checkTtl(windowMs);
      const reply = await run('INCR', client, () => client.incrementWindow(key(name), window));
      const [count, ttl] = integerPair(reply);
      return { count, resetInMs: Math.max(ttl, 0) };
    },

    async peekCounter(name): Promise<CounterState> {
      const reply = await run('GET+PTTL', client, () => client.peekWindow(key(name)));
      const [count, ttl] = integerPair(reply);
      return count === 0 ? { count: 0, resetInMs: 0 } : { count, resetInMs: Math.max(ttl, 0) };
    },

    async publish(channel, message) {
      await run('PUBLISH', client, () => client.publish(key(channel), message));
    },

    async subscribe(channel, handler) {
      const subscription: Subscription = { handler };
      let subscriptions = channels.get(channel);
      if (subscriptions === undefined) {
        subscriptions = new Set();
        channels.set(channel, subscriptions);
      }
      // Registered before the acknowledgement, so a concurrent unsubscribe of the last other
      // handler does not UNSUBSCRIBE underneath this pending subscription.
      subscriptions.add(subscription);
      try {
        // Idempotent on the server; resolves on the SUBSCRIBE acknowledgement.
        await run('SUBSCRIBE', subscriber, () => subscriber.subscribe(key(channel)));
      } catch (error) {
        await release(channel, subscriptions, subscription).catch(() => {});
        throw error;
      }
      return () => release(channel, subscriptions, subscription);
    },

    async ping() {
      // Both connections: a dead subscriber means revocations stop fanning out.
      await Promise.all([
        run('PING', client, () => withTimeout(client.ping(), PING_TIMEOUT_MS)),
        run('PING', subscriber, () => withTimeout(subscriber.ping(), PING_TIMEOUT_MS)),
      ]);
    },

    async close() {
      channels.clear();
      await Promise.all([quit(client), quit(subscriber)]);
    },
  };

  async function release(
    channel: string,
    subscriptions: Set<Subscription>,
    subscription: Subscription,
  ): Promise<void> {
    if (!subscriptions.delete(subscription) || subscriptions.size > 0) return;
    if (channels.get(channel) === subscriptions) channels.delete(channel);
    // Commands on one connection run in order, so a SUBSCRIBE issued after this still wins.
    await run('UNSUBSCRIBE', subscriber, () => subscriber.unsubscribe(key(channel)));
  }
}

/** QUIT when connected (lets replies drain); otherwise stop the reconnect loop outright. */
async function quit(connection: Redis): Promise<void> {
  if (connection.status === 'ready') {
    try {
      await connection.quit();
      return;
    } catch {
      // Fall through: the connection died while quitting.
    }
  }
  connection.disconnect();
}

function unavailable(
  operation: string,
  connection: Redis,
  error: unknown,
  secrets: readonly string[],
): EphemeralUnavailableError {
  let reason: string;
  if (connection.status !== 'ready') {
    reason = `not connected (${connection.status})`;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    reason = redact(message, secrets).slice(0, 120);
  }
  // `cause` keeps the original for debugging; ioredis does not put credentials in messages.
  return new EphemeralUnavailableError(`Redis ${operation} failed: ${reason}`, { cause: error });
}

/** The URL's password (raw and decoded), to scrub from any echoed text. */
function urlSecrets(url: string): string[] {
  try {
    const { password } = new URL(url);
    return password === '' ? [] : [password, decodeURIComponent(password)];
  } catch {
    return [];
  }
}

function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) result = result.split(secret).join('***');
  return result;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function integerPair(reply: unknown): [number, number] {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number') {
    return [reply[0], reply[1]];
  }
  throw new EphemeralUnavailableError('Redis counter script: unexpected reply');
}

/** TTLs are whole milliseconds above zero, as `PX` and `PEXPIRE` require. */
function checkTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new RangeError(`TTL must be a positive number of milliseconds, got ${ttlMs}`);
  }
  return Math.ceil(ttlMs);
}

/** A throwing handler must not stop delivery to the others, nor unwind into ioredis' parser. */
function deliver(handler: (message: string) => void, message: string): void {
  try {
    handler(message);
  } catch {
    // No logger at this layer; handlers own their errors.
  }
}
