/**
 * Contract suite for the ephemeral store port, run against every backend: in-process memory
 * and Redis. Redis cases are skipped with a printed reason on a laptop without Redis and fail
 * in CI (see test/support/backends.ts).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { openEphemeralStore } from '../../src/storage/ephemeral/open.ts';
import { createRedisStore } from '../../src/storage/ephemeral/redis.ts';
import { EphemeralUnavailableError } from '../../src/storage/ephemeral/types.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral/types.ts';
import { probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';

const CONCURRENCY = 50;

interface ContractTarget {
  /** A fresh store. */
  open(): Promise<EphemeralStore>;
  /**
   * Another instance sharing state with stores from `open()` (Redis: a second store with the
   * same prefix). Without it, "peer" operations go to the same store.
   */
  openPeer?: () => Promise<EphemeralStore>;
}

/** The behaviour every backend must show; call inside a `describe`. */
function ephemeralContract(target: ContractTarget): void {
  let store: EphemeralStore;
  let peer: EphemeralStore;
  const opened: EphemeralStore[] = [];

  before(async () => {
    store = await target.open();
    opened.push(store);
    peer = target.openPeer ? await target.openPeer() : store;
    if (peer !== store) opened.push(peer);
  });

  after(async () => {
    await Promise.all(opened.map((each) => each.close()));
  });

  /** Half of the calls go to each instance, so the race is also across instances. */
  const either = (index: number): EphemeralStore => (index % 2 === 0 ? store : peer);

  describe('set / get / delete', () => {
    it('returns what was set, and null for an absent key', async () => {
      const key = fresh('k');
      await store.set(key, 'value-1', 10_000);
      assert.equal(await store.get(key), 'value-1');
      assert.equal(await peer.get(key), 'value-1');
      assert.equal(await store.get(fresh('absent')), null);
    });

    it('expires a value after its TTL', async () => {
      const key = fresh('k');
      await store.set(key, 'short-lived', 100);
      assert.equal(await store.get(key), 'short-lived');
      await sleep(300);
      assert.equal(await store.get(key), null);
    });

    it('overwrites the value and the TTL', async () => {
      const key = fresh('k');
      await store.set(key, 'first', 100);
      await peer.set(key, 'second', 10_000);
      await sleep(300);
      assert.equal(await store.get(key), 'second');
    });

    it('deletes a key, and accepts deleting an absent one', async () => {
      const key = fresh('k');
      await store.set(key, 'value', 10_000);
      await peer.delete(key);
      assert.equal(await store.get(key), null);
      await store.delete(fresh('absent'));
    });
  });

  describe('setIfAbsent', () => {
    it(`lets exactly one of ${CONCURRENCY} concurrent callers win`, async () => {
      const key = fresh('nx');
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, index) =>
          either(index).setIfAbsent(key, `caller-${index}`, 10_000),
        ),
      );
      const winners = results.flatMap((won, index) => (won ? [index] : []));
      assert.equal(winners.length, 1);
      assert.equal(await store.get(key), `caller-${winners[0]}`);
    });

    it('succeeds again once the previous value expired', async () => {
      const key = fresh('nx');
      assert.equal(await store.setIfAbsent(key, 'first', 100), true);
      assert.equal(await store.setIfAbsent(key, 'second', 100), false);
      await sleep(300);
      assert.equal(await peer.setIfAbsent(key, 'third', 10_000), true);
      assert.equal(await store.get(key), 'third');
    });
  });

  describe('consume', () => {
    it(`returns the value to exactly one of ${CONCURRENCY} concurrent callers`, async () => {
      const key = fresh('once');
      await store.set(key, 'single-use', 10_000);
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, index) => either(index).consume(key)),
      );
      assert.deepEqual(
        results.filter((value) => value !== null),
        ['single-use'],
      );
      assert.equal(await store.get(key), null);
    });

    it('returns null for an absent or expired key', async () => {
      assert.equal(await store.consume(fresh('absent')), null);
      const key = fresh('once');
      await store.set(key, 'short-lived', 100);
      await sleep(300);
      assert.equal(await store.consume(key), null);
    });
  });

  describe('increment / peekCounter', () => {
    it(`counts 1..${CONCURRENCY} under ${CONCURRENCY} concurrent increments`, async () => {
      const key = fresh('rl');
      const results = await Promise.all(
        Array.from({ length: CONCURRENCY }, (_, index) => either(index).increment(key, 10_000)),
      );
      const counts = results.map((state) => state.count).sort((a, b) => a - b);
      assert.deepEqual(
        counts,
        Array.from({ length: CONCURRENCY }, (_, index) => index + 1),
      );
      for (const state of results) assert.ok(state.resetInMs > 0 && state.resetInMs <= 10_000);
      const peeked = await peer.peekCounter(key);
      assert.equal(peeked.count, CONCURRENCY);
      assert.ok(peeked.resetInMs > 0 && peeked.resetInMs <= 10_000);
    });

    it('keeps the window that the first increment opened', async () => {
      const key = fresh('rl');
      const first = await store.increment(key, 10_000);
      await sleep(20);
      const second = await store.increment(key, 10_000);
      assert.equal(second.count, 2);
      assert.ok(second.resetInMs <= first.resetInMs);
    });

    it('starts over at 1 when the window has passed', async () => {
      const key = fresh('rl');
      assert.equal((await store.increment(key, 100)).count, 1);
      assert.equal((await store.increment(key, 100)).count, 2);
      await sleep(300);
      const reset = await store.increment(key, 100);
      assert.equal(reset.count, 1);
      assert.ok(reset.resetInMs > 0 && reset.resetInMs <= 100);
      await sleep(300);
      assert.deepEqual(await store.peekCounter(key), { count: 0, resetInMs: 0 });
    });

    it('peeks without counting, and reports 0 for an absent counter', async () => {
      const key = fresh('rl');
      assert.deepEqual(await store.peekCounter(key), { count: 0, resetInMs: 0 });
      await store.increment(key, 10_000);
      await store.increment(key, 10_000);
      assert.equal((await store.peekCounter(key)).count, 2);
      assert.equal((await store.peekCounter(key)).count, 2);
      assert.equal((await store.increment(key, 10_000)).count, 3);
    });
  });

  describe('publish / subscribe', () => {
    it('delivers to a subscriber, from this instance and from another', async () => {
      const channel = fresh('revoked');
      const received: string[] = [];
      const unsubscribe = await store.subscribe(channel, (message) => received.push(message));
      await store.publish(channel, 'from-self');
      await peer.publish(channel, 'from-peer');
      await waitFor(() => received.length === 2);
      assert.deepEqual(received.sort(), ['from-peer', 'from-self']);
      await unsubscribe();
    });

    it('stops delivery after unsubscribe, and keeps other handlers of the channel', async () => {
      const channel = fresh('revoked');
      const dropped: string[] = [];
      const kept: string[] = [];
      const unsubscribeDropped = await store.subscribe(channel, (message) => dropped.push(message));
      const unsubscribeKept = await store.subscribe(channel, (message) => kept.push(message));
      await peer.publish(channel, 'one');
      await waitFor(() => dropped.length === 1 && kept.length === 1);

      await unsubscribeDropped();
      await peer.publish(channel, 'two');
      await waitFor(() => kept.length === 2);

      // A sentinel on another channel, published after: once it arrives, 'three' would have too.
      await unsubscribeKept();
      const sentinel: string[] = [];
      const sentinelChannel = fresh('sentinel');
      const unsubscribeSentinel = await store.subscribe(sentinelChannel, (m) => sentinel.push(m));
      await peer.publish(channel, 'three');
      await peer.publish(sentinelChannel, 'done');
      await waitFor(() => sentinel.length === 1);
      assert.deepEqual(dropped, ['one']);
      assert.deepEqual(kept, ['one', 'two']);
      await unsubscribeSentinel();
    });

    it('does not deliver a message to other channels', async () => {
      const quiet: string[] = [];
      const loud: string[] = [];
      const quietChannel = fresh('quiet');
      const loudChannel = fresh('loud');
      const unsubscribeQuiet = await store.subscribe(quietChannel, (m) => quiet.push(m));
      const unsubscribeLoud = await store.subscribe(loudChannel, (m) => loud.push(m));
      await store.publish(loudChannel, 'hello');
      await waitFor(() => loud.length === 1);
      assert.deepEqual(quiet, []);
      await unsubscribeQuiet();
      await unsubscribeLoud();
    });
  });

  it('rejects calls after close with EphemeralUnavailableError', async () => {
    const closed = await target.open();
    await closed.close();
    await assert.rejects(closed.get('anything'), EphemeralUnavailableError);
    await assert.rejects(closed.ping(), EphemeralUnavailableError);
  });
}

describe('memory ephemeral store', () => {
  ephemeralContract({ open: async () => createMemoryStore() });

  describe('with a frozen clock', () => {
    let clock = 0;
    const store = createMemoryStore({ now: () => clock });
    after(() => store.close());

    it('expires exactly at the TTL', async () => {
      clock = 1_000_000;
      await store.set('k', 'v', 1000);
      clock += 999;
      assert.equal(await store.get('k'), 'v');
      clock += 1;
      assert.equal(await store.get('k'), null);
    });

    it('reports the exact window and resets when it ends', async () => {
      clock = 2_000_000;
      assert.deepEqual(await store.increment('rl', 1000), { count: 1, resetInMs: 1000 });
      clock += 400;
      assert.deepEqual(await store.increment('rl', 1000), { count: 2, resetInMs: 600 });
      assert.deepEqual(await store.peekCounter('rl'), { count: 2, resetInMs: 600 });
      clock += 600;
      assert.deepEqual(await store.peekCounter('rl'), { count: 0, resetInMs: 0 });
      assert.deepEqual(await store.increment('rl', 1000), { count: 1, resetInMs: 1000 });
    });
  });

  it('delivers asynchronously, and a throwing handler does not stop the others', async () => {
    const store = createMemoryStore();
    try {
      const received: string[] = [];
      await store.subscribe('c', () => {
        throw new Error('handler bug');
      });
      await store.subscribe('c', (message) => received.push(message));
      const published = store.publish('c', 'm');
      assert.deepEqual(received, [], 'not delivered on the publisher stack');
      await published;
      await waitFor(() => received.length === 1);
    } finally {
      await store.close();
    }
  });

  it('is what openEphemeralStore returns without a Redis URL', async () => {
    const store = await openEphemeralStore({ redisUrl: undefined, redisPrefix: 'unused:' });
    try {
      assert.equal(store.kind, 'memory');
    } finally {
      await store.close();
    }
  });
});

const redis = await probeRedis();

describe('Redis ephemeral store', { skip: skipUnless(redis) }, () => {
  const prefixes: string[] = [];
  const redisStore = (prefix: string, url = redisUrl()): Promise<EphemeralStore> => {
    if (!prefixes.includes(prefix)) prefixes.push(prefix);
    return createRedisStore({ url, prefix });
  };

  after(() => deleteKeys(prefixes));

  describe('contract', () => {
    const prefix = testRedisPrefix();
    ephemeralContract({ open: () => redisStore(prefix), openPeer: () => redisStore(prefix) });
  });

  describe('prefixes', () => {
    const prefixA = testRedisPrefix();
    const prefixB = testRedisPrefix();
    let a: EphemeralStore;
    let b: EphemeralStore;
    before(async () => {
      a = await redisStore(prefixA);
      b = await redisStore(prefixB);
    });
    after(() => Promise.all([a.close(), b.close()]));

    it('stores every key under the prefix', async () => {
      await a.set('session:1', 'v', 10_000);
      await a.increment('rl:1', 10_000);
      const raw = await rawClient();
      try {
        assert.equal(await raw.get(`${prefixA}session:1`), 'v');
        assert.equal(await raw.get(`${prefixA}rl:1`), '1');
        assert.equal(await raw.exists('session:1'), 0);
      } finally {
        raw.disconnect();
      }
    });

    it('isolates keys of stores with different prefixes', async () => {
      await a.set('shared-name', 'from-a', 10_000);
      assert.equal(await b.get('shared-name'), null);
      assert.equal(await b.setIfAbsent('shared-name', 'from-b', 10_000), true);
      assert.equal(await a.get('shared-name'), 'from-a');
      assert.equal(await b.consume('shared-name'), 'from-b');
      assert.equal(await a.get('shared-name'), 'from-a');
    });

    it('isolates channels of stores with different prefixes', async () => {
      const onA: string[] = [];
      const onB: string[] = [];
      const unsubscribeA = await a.subscribe('revoked', (m) => onA.push(m));
      const unsubscribeB = await b.subscribe('revoked', (m) => onB.push(m));
      await a.publish('revoked', 'for-a');
      await b.publish('revoked', 'for-b');
      await waitFor(() => onA.length === 1 && onB.length === 1);
      assert.deepEqual(onA, ['for-a']);
      assert.deepEqual(onB, ['for-b']);
      await unsubscribeA();
      await unsubscribeB();
    });
  });

  describe('when Redis is unreachable', () => {
    const password = 's3cretpw';
    let store: EphemeralStore;
    before(async () => {
      // Resolves although nothing listens: the server starts and reports not-ready.
      store = await redisStore(testRedisPrefix(), `redis://:${password}@127.0.0.1:1`);
    });
    after(() => store.close());

    for (const [name, call] of [
      ['ping', (s: EphemeralStore) => s.ping()],
      ['get', (s: EphemeralStore) => s.get('k')],
      ['set', (s: EphemeralStore) => s.set('k', 'v', 1000)],
      ['consume', (s: EphemeralStore) => s.consume('k')],
      ['increment', (s: EphemeralStore) => s.increment('k', 1000)],
      ['publish', (s: EphemeralStore) => s.publish('c', 'm')],
      ['subscribe', (s: EphemeralStore) => s.subscribe('c', () => {})],
    ] as const) {
      it(`rejects ${name} fast with EphemeralUnavailableError, without the password`, async () => {
        const started = performance.now();
        await assert.rejects(call(store), (error: unknown) => {
          assert.ok(error instanceof EphemeralUnavailableError);
          assert.equal(error.code, 'EPHEMERAL_UNAVAILABLE');
          assert.ok(!error.message.includes(password), error.message);
          assert.ok(!String(error.stack).includes(password));
          return true;
        });
        assert.ok(performance.now() - started < 3000);
      });
    }
  });

  describe('when the connection drops and comes back', () => {
    const prefix = testRedisPrefix();
    let proxy: TcpProxy;
    let store: EphemeralStore;
    let direct: EphemeralStore;
    before(async () => {
      proxy = await startProxy(new URL(redisUrl()));
      store = await redisStore(prefix, proxy.url);
      direct = await redisStore(prefix);
    });
    after(async () => {
      await Promise.all([store.close(), direct.close()]);
      await proxy.close();
    });

    it('reports unavailable, then reconnects and re-subscribes by itself', async () => {
      const received: string[] = [];
      await store.subscribe('revoked', (m) => received.push(m));
      await direct.publish('revoked', 'before');
      await waitFor(() => received.length === 1);

      await proxy.drop();
      await assert.rejects(store.ping(), EphemeralUnavailableError);
      await assert.rejects(store.get('k'), EphemeralUnavailableError);

      await proxy.resume();
      await waitFor(async () => {
        try {
          await store.ping();
          return true;
        } catch {
          return false;
        }
      }, 6000);

      await direct.publish('revoked', 'after');
      await waitFor(() => received.length === 2);
      assert.deepEqual(received, ['before', 'after']);
      await store.set('k', 'v', 10_000);
      assert.equal(await direct.get('k'), 'v');
    });
  });

  describe('when Redis stops answering', () => {
    let proxy: TcpProxy;
    let store: EphemeralStore;
    before(async () => {
      proxy = await startProxy(new URL(redisUrl()));
      store = await redisStore(testRedisPrefix(), proxy.url);
    });
    after(async () => {
      await store.close();
      await proxy.close();
    });

    it('rejects ping within about a second, and recovers', async () => {
      await store.ping();
      proxy.stall();
      const started = performance.now();
      await assert.rejects(store.ping(), EphemeralUnavailableError);
      assert.ok(performance.now() - started < 2500);
      proxy.unstall();
      await waitFor(async () => {
        try {
          await store.ping();
          return true;
        } catch {
          return false;
        }
      });
    });
  });

  it('is what openEphemeralStore returns with a Redis URL', async () => {
    const prefix = testRedisPrefix();
    prefixes.push(prefix);
    const store = await openEphemeralStore({ redisUrl: redisUrl(), redisPrefix: prefix });
    try {
      assert.equal(store.kind, 'redis');
      await store.ping();
    } finally {
      await store.close();
    }
  });
});

function fresh(label: string): string {
  return `${label}:${randomUUID()}`;
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 2000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function rawClient(): Promise<Redis> {
  const client = new Redis(redisUrl(), {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}

/** Removes every key a test run left under its prefixes. */
async function deleteKeys(prefixes: readonly string[]): Promise<void> {
  const client = await rawClient();
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    client.disconnect();
  }
}

interface TcpProxy {
  /** The Redis URL, pointed at the proxy. */
  readonly url: string;
  /** Cuts every connection and stops accepting new ones: Redis looks down. */
  drop(): Promise<void>;
  /** Accepts connections again on the same port. */
  resume(): Promise<void>;
  /** Holds back every reply while keeping connections open: Redis looks stalled. */
  stall(): void;
  /** Lets the held-back replies through. */
  unstall(): void;
  close(): Promise<void>;
}

/** A loopback TCP proxy in front of Redis, to take Redis "down" without touching it. */
async function startProxy(upstream: URL): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  const pairs = new Set<{ client: net.Socket; remote: net.Socket }>();
  const server = net.createServer((client) => {
    const remote = net.connect(Number(upstream.port || 6379), upstream.hostname);
    const pair = { client, remote };
    pairs.add(pair);
    remote.on('close', () => pairs.delete(pair));
    for (const socket of [client, remote]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        remote.destroy();
      });
    }
    client.pipe(remote).pipe(client);
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stop = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  await listen(0);
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  const port = address.port;
  const url = new URL(upstream);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    drop: stop,
    resume: () => listen(port),
    stall: () => {
      for (const pair of pairs) pair.remote.unpipe(pair.client);
    },
    unstall: () => {
      for (const pair of pairs) pair.remote.pipe(pair.client);
    },
    close: async () => {
      if (server.listening) await stop();
    },
  };
}
