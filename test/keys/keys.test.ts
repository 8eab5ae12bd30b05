/**
 * Signing keys: sealed at rest, published before they sign, kept until their tokens expire,
 * agreed on by every instance — on SQLite with the in-process store, and on PostgreSQL + Redis.
 * A frozen clock drives the schedule; `jose` (not our code) verifies what the keys sign.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { createRedisStore } from '../../src/storage/ephemeral/redis.ts';
import type { EphemeralStore } from '../../src/storage/ephemeral/types.ts';
import { createKeyService, type KeyService, type SigningAlgorithm } from '../../src/keys/service.ts';
import { createJWTSigner, createJWTVerifier } from '../../src/keys/jwt.ts';
import { open, seal } from '../../src/crypto/seal.ts';
import { createTestDatabase, probePostgres, probeRedis, redisUrl, skipUnless, testRedisPrefix } from '../support/backends.ts';

const SEAL_KEY = Buffer.alloc(32, 9);
const DAY = 86_400_000;
const CONFIG = { signingAlgorithm: 'ES256' as SigningAlgorithm, keyRotationDays: 30, jwksCacheSeconds: 300, accessTokenMaxTtlSeconds: 3600 };

class Clock {
  value = 1_800_000_000_000;
  now = (): number => this.value;
  advance(ms: number): void {
    this.value += ms;
  }
}

async function sqlite(): Promise<Database> {
  const database = openDatabase({ url: 'sqlite::memory:', poolSize: 1 });
  await migrateToLatest(database);
  return database;
}

function keyService(database: Database, ephemeral: EphemeralStore, clock: Clock, config = CONFIG): KeyService {
  return createKeyService({ db: database.db, ephemeral, sealKey: SEAL_KEY, config, now: clock.now });
}

async function signAndVerify(keys: KeyService, clock: Clock): Promise<{ kid: string }> {
  const token = await createJWTSigner(keys).sign({ iss: 'https://issuer.example', sub: 'u1', iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + 600 }, { typ: 'at+jwt' });
  const header = decodeProtectedHeader(token);
  const { payload } = await jwtVerify(token, createLocalJWKSet(keys.jwks() as Parameters<typeof createLocalJWKSet>[0]), { issuer: 'https://issuer.example', typ: 'at+jwt', currentDate: new Date(clock.now()) });
  assert.equal(payload.sub, 'u1');
  return { kid: header.kid! };
}

describe('sealed secrets', () => {
  it('round-trip, and refuse another key, another context or a flipped byte', () => {
    const sealed = seal(SEAL_KEY, 'secret value', 'ctx-1');
    assert.ok(!sealed.includes('secret'));
    assert.equal(open(SEAL_KEY, sealed, 'ctx-1'), 'secret value');
    assert.throws(() => open(Buffer.alloc(32, 1), sealed, 'ctx-1'));
    assert.throws(() => open(SEAL_KEY, sealed, 'ctx-2'));
    const parts = sealed.split('.');
    const body = Buffer.from(parts[2]!, 'base64url');
    body[0]! ^= 1;
    assert.throws(() => open(SEAL_KEY, [parts[0], parts[1], body.toString('base64url'), parts[3]].join('.'), 'ctx-1'));
    assert.throws(() => open(SEAL_KEY, 'v2.a.b.c', 'ctx-1'));
  });
});

describe('signing keys on SQLite', () => {
  for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
    it(`${alg}: the first start creates one key; jose verifies what it signs; the private key is sealed (SEC-JWT-19)`, async () => {
      const database = await sqlite();
      const ephemeral = createMemoryStore();
      const clock = new Clock();
      const keys = keyService(database, ephemeral, clock, { ...CONFIG, signingAlgorithm: alg });
      try {
        await keys.start();
        const [only, ...others] = keys.list();
        assert.equal(others.length, 0);
        assert.equal(only!.alg, alg);
        assert.equal(only!.state, 'current');
        const { kid } = await signAndVerify(keys, clock);
        assert.equal(kid, only!.kid);
        // JWKS hygiene: public members only, use/alg/kid set.
        const published = keys.jwks().keys;
        assert.equal(published.length, 1);
        for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) assert.ok(!(member in published[0]!), `no ${member}`);
        assert.equal(published[0]!.use, 'sig');
        assert.equal(published[0]!.alg, alg);
        if (alg === 'RS256') assert.ok(Buffer.from(published[0]!.n as string, 'base64url').length >= 256);
        // At rest: the private JWK is sealed; its `d` appears nowhere in the row.
        const row = await database.db.selectFrom('signing_keys').selectAll().executeTakeFirstOrThrow();
        const privateJwk = JSON.parse(open(SEAL_KEY, row.private_jwk_encrypted, row.kid)) as { d: string };
        assert.ok(privateJwk.d.length > 20);
        assert.ok(!JSON.stringify(row).includes(privateJwk.d));
        // A second start on the same database reuses the key.
        const again = keyService(database, ephemeral, clock, { ...CONFIG, signingAlgorithm: alg });
        await again.start();
        assert.deepEqual(again.list().map((key) => key.kid), [only!.kid]);
        await again.stop();
      } finally {
        await keys.stop();
        await database.close();
      }
    });
  }

  it('rotation: the successor is published 2 × jwksCacheSeconds before it signs; the old key stays until its tokens expired', async () => {
    const database = await sqlite();
    const clock = new Clock();
    const keys = keyService(database, createMemoryStore(), clock);
    try {
      await keys.start();
      const first = keys.list()[0]!;
      const lead = 2 * CONFIG.jwksCacheSeconds * 1000;

      // Not yet due.
      clock.advance(30 * DAY - lead - 1000);
      await keys.tick();
      assert.equal(keys.list().length, 1);

      // Due: the successor appears in the JWKS but does not sign yet.
      clock.advance(2000);
      await keys.tick();
      const next = keys.list().find((key) => key.kid !== first.kid)!;
      assert.equal(next.state, 'next');
      assert.ok(next.activatesAt - clock.now() >= lead - 2000, 'published at least the JWKS cache lifetime (twice) before signing');
      assert.deepEqual(keys.jwks().keys.map((key) => key.kid).sort(), [first.kid, next.kid].sort());
      assert.equal((await signAndVerify(keys, clock)).kid, first.kid);
      const oldToken = await createJWTSigner(keys).sign({ iss: 'https://issuer.example', sub: 'u1', iat: Math.floor(clock.now() / 1000), exp: Math.floor(clock.now() / 1000) + 3600 }, { typ: 'at+jwt' });

      // Activation: the successor signs; the old key is retired but still published.
      clock.value = next.activatesAt;
      await keys.tick();
      assert.equal((await signAndVerify(keys, clock)).kid, next.kid);
      const retired = keys.list().find((key) => key.kid === first.kid)!;
      assert.equal(retired.state, 'retired');
      assert.ok(retired.removeAfter! >= next.activatesAt + CONFIG.accessTokenMaxTtlSeconds * 1000);
      const verifier = createJWTVerifier(keys, { issuer: 'https://issuer.example', now: clock.now });
      assert.equal((await verifier.verify(oldToken, { typ: 'at+jwt' })).sub, 'u1');

      // After every token of the old key expired, it leaves the JWKS.
      clock.value = retired.removeAfter! + 1;
      await keys.tick();
      assert.deepEqual(keys.jwks().keys.map((key) => key.kid), [next.kid]);
      await assert.rejects(verifier.verify(oldToken, { typ: 'at+jwt' }));
    } finally {
      await keys.stop();
      await database.close();
    }
  });

  it('manual rotate (lead or --now) and retire (keep published, or unpublish at once)', async () => {
    const database = await sqlite();
    const clock = new Clock();
    const keys = keyService(database, createMemoryStore(), clock);
    try {
      await keys.start();
      const first = keys.list()[0]!;
      const scheduled = await keys.rotate();
      assert.equal(scheduled.state, 'next');
      assert.equal(keys.signingKey().kid, first.kid);
      const immediate = await keys.rotate({ immediate: true });
      assert.equal(keys.signingKey().kid, immediate.kid);
      // Retiring the signer brings a published successor forward.
      await keys.retire(immediate.kid);
      assert.notEqual(keys.signingKey().kid, immediate.kid);
      assert.ok(keys.jwks().keys.some((key) => key.kid === immediate.kid), 'retired key still published');
      await keys.retire(immediate.kid, { unpublish: true });
      assert.ok(!keys.jwks().keys.some((key) => key.kid === immediate.kid), 'unpublished at once');
      await assert.rejects(keys.retire('no-such-kid'));
    } finally {
      await keys.stop();
      await database.close();
    }
  });

  it('a key sealed under another master key is refused at start, with a clear message', async () => {
    const database = await sqlite();
    const clock = new Clock();
    const first = keyService(database, createMemoryStore(), clock);
    await first.start();
    await first.stop();
    const wrong = createKeyService({ db: database.db, ephemeral: createMemoryStore(), sealKey: Buffer.alloc(32, 1), config: CONFIG, now: clock.now, onError: () => {} });
    await assert.rejects(wrong.start(), (error: Error) => error.name === 'KeyUnavailableError' && /GATEHOUSE_MASTER_KEY/.test(error.message) && !error.message.includes(SEAL_KEY.toString('base64')));
    assert.equal((await database.db.selectFrom('signing_keys').select('kid').execute()).length, 1, 'no key of its own was created');
    await database.close();
  });
});

const postgres = await probePostgres();
const redis = await probeRedis();

describe('signing keys across instances (PostgreSQL + Redis)', { skip: skipUnless(postgres) || skipUnless(redis) }, () => {
  it('two instances start together with one key; a rotation on one is served by the other within a second', async () => {
    const { url, drop } = await createTestDatabase();
    const databases = [openDatabase({ url, poolSize: 4 }), openDatabase({ url, poolSize: 4 })];
    await migrateToLatest(databases[0]!);
    const prefix = testRedisPrefix();
    const stores = [await createRedisStore({ url: redisUrl(), prefix }), await createRedisStore({ url: redisUrl(), prefix })];
    const clock = new Clock();
    const [a, b] = [keyService(databases[0]!, stores[0]!, clock), keyService(databases[1]!, stores[1]!, clock)];
    try {
      await Promise.all([a!.start(), b!.start()]);
      assert.equal(a!.list().length, 1, 'the rotation lock let one instance create the first key');
      assert.deepEqual(b!.list().map((key) => key.kid), a!.list().map((key) => key.kid));
      const rotated = await a!.rotate({ immediate: true });
      const deadline = Date.now() + 1000;
      while (b!.signingKey().kid !== rotated.kid && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(b!.signingKey().kid, rotated.kid);
      assert.ok(b!.jwks().keys.some((key) => key.kid === rotated.kid));
    } finally {
      await a!.stop();
      await b!.stop();
      for (const store of stores) await store.close();
      for (const database of databases) await database.close();
      await drop();
    }
  });
});

describe('several algorithm families (access tokens and ID tokens)', () => {
  it('each managed algorithm has its own signer; a key of an algorithm no longer used is retired but stays published', async () => {
    const database = await sqlite();
    const clock = new Clock();
    const both = createKeyService({ db: database.db, ephemeral: createMemoryStore(), sealKey: SEAL_KEY, config: { ...CONFIG, idTokenSigningAlgorithm: 'RS256' }, now: clock.now });
    await both.start();
    assert.equal(both.signingKey().alg, 'ES256');
    assert.equal(both.signingKey('RS256').alg, 'RS256');
    assert.deepEqual(both.list().map((key) => key.state), ['current', 'current']);
    await both.stop();
    // The operator switches access tokens to EdDSA: the ES256 key stops signing, stays published.
    const switched = createKeyService({ db: database.db, ephemeral: createMemoryStore(), sealKey: SEAL_KEY, config: { ...CONFIG, signingAlgorithm: 'EdDSA', idTokenSigningAlgorithm: 'RS256' }, now: clock.now });
    await switched.start();
    assert.equal(switched.signingKey().alg, 'EdDSA');
    const es = switched.list().find((key) => key.alg === 'ES256')!;
    assert.equal(es.state, 'retired');
    assert.ok(switched.jwks().keys.some((key) => key.kid === es.kid), 'still published for the tokens it signed');
    assert.equal(switched.list().filter((key) => key.alg === 'RS256' && key.state === 'current').length, 1, 'the ID-token family is untouched');
    await switched.stop();
    await database.close();
  });
});
