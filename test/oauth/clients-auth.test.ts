/**
 * Client authentication on back-channel endpoints (SEC-OAUTH-15) and JWT client assertions
 * (SEC-OAUTH-16, the S3 rows of SEC-JWT-01…15), through a minimal Fastify app whose one route
 * calls the authenticator the token, revocation and introspection endpoints use.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, KeyObject, randomUUID, sign as signBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { hashSecret } from '../../src/crypto/random.ts';
import { createAuditLog } from '../../src/features/audit/audit-log.ts';
import { createClientAuthenticator } from '../../src/features/clients/authenticate.ts';
import { createClientRegistry, type ClientRegistry } from '../../src/features/clients/registry.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { formBody } from '../../src/features/oauth/params.ts';
import { registerFormParser } from '../../src/http/api-guard.ts';
import { registerErrorHandling } from '../../src/http/errors.ts';
import { createMemoryStore } from '../../src/storage/ephemeral/memory.ts';
import { openDatabase, type Database } from '../../src/storage/sql/database.ts';
import { migrateToLatest } from '../../src/storage/sql/migrate.ts';

const ISSUER = 'https://auth.example.com';
const TOKEN_ENDPOINT = `${ISSUER}/oauth/token`;
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** A chosen secret with characters that RFC 6749 §2.3.1 form-encoding changes. */
const ODD_SECRET = 'Tr0ub4dor&3 + p%25ss:wörd/=?';

let clock = Date.parse('2031-03-04T05:06:07Z');
const now = (): number => clock;
const nowSeconds = (): number => Math.floor(clock / 1000);

let database: Database;
let registry: ClientRegistry;
let app: FastifyInstance;
const secrets: Record<string, string> = {};
let clientKey: { publicKey: CryptoKey; privateKey: CryptoKey; jwk: JWK };
let otherClientKey: { publicKey: CryptoKey; privateKey: CryptoKey; jwk: JWK };
let attackerKey: { publicKey: CryptoKey; privateKey: CryptoKey; jwk: JWK };
let rsaKey: { publicKey: CryptoKey; privateKey: CryptoKey; jwk: JWK };
let canary: Server;
let canaryUrl: string;
let canaryHits = 0;

async function keyPair(alg: 'ES256' | 'PS256'): Promise<{ publicKey: CryptoKey; privateKey: CryptoKey; jwk: JWK }> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { ...pair, jwk: await exportJWK(pair.publicKey) };
}

before(async () => {
  database = openDatabase({ url: 'sqlite::memory:' });
  await migrateToLatest(database);
  const db = database.db;
  const store = createClientStore(db);
  registry = createClientRegistry({ store, db, audit: createAuditLog(db, { now }), now });
  clientKey = await keyPair('ES256');
  otherClientKey = await keyPair('ES256');
  attackerKey = await keyPair('ES256');
  rsaKey = await keyPair('PS256');

  for (const [id, method] of [['conf', 'client_secret_basic'], ['conf2', 'client_secret_basic'], ['poster', 'client_secret_post']] as const) {
    const created = await registry.create({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: method, grant_types: ['client_credentials'] });
    secrets[id] = created.clientSecret!;
  }
  await registry.create({ client_id: 'pub', name: 'pub', type: 'public', grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['com.example.app:/cb'] });
  await registry.create({ client_id: 'pkjwt', name: 'pkjwt', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [{ ...clientKey.jwk, kid: 'k1', alg: 'ES256', use: 'sig' }] } });
  await registry.create({ client_id: 'pkjwt2', name: 'pkjwt2', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [{ ...otherClientKey.jwk, kid: 'k2' }] } });
  await registry.create({ client_id: 'pkrsa', name: 'pkrsa', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', grant_types: ['client_credentials'], jwks: { keys: [{ ...rsaKey.jwk, kid: 'r1', alg: 'PS256' }] } });
  for (const id of ['rot', 'rot0']) {
    const created = await registry.create({ client_id: id, name: id, type: 'confidential', grant_types: ['client_credentials'] });
    secrets[id] = created.clientSecret!;
  }
  await registry.upsertDeclared({ client_id: 'odd', name: 'odd', type: 'confidential', grant_types: ['client_credentials'], client_secret_hash: hashSecret(ODD_SECRET) });

  const authenticator = createClientAuthenticator({ store, ephemeral: createMemoryStore({ now }), issuer: ISSUER, now });
  app = Fastify();
  registerErrorHandling(app);
  registerFormParser(app);
  app.post('/oauth/token', async (request) => {
    const client = await authenticator.authenticate(request, formBody(request), { endpoint: TOKEN_ENDPOINT });
    return { client_id: client.clientId };
  });
  await app.ready();

  // SEC-JWT-04: a listener that records any request the server makes to a key URL.
  canary = createServer((_request, response) => {
    canaryHits += 1;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [{ ...attackerKey.jwk, kid: 'k1' }] }));
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const address = canary.address();
  canaryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/jwks.json`;
});

after(async () => {
  await app.close();
  await database.close();
  await new Promise<void>((resolve) => canary.close(() => resolve()));
});

/** RFC 6749 §2.3.1: each part form-encoded, joined with ":", base64. */
function basic(clientId: string, secret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(secret)}`).toString('base64')}`;
}

function post(params: Record<string, string>, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString() });
}

function assertAccepted(response: LightMyRequestResponse, clientId: string, what: string): void {
  assert.equal(response.statusCode, 200, `${what}: ${response.body}`);
  assert.deepEqual(response.json(), { client_id: clientId }, what);
}

function assertInvalidClient(response: LightMyRequestResponse, what: string, options: { challenge?: boolean } = {}): void {
  assert.equal(response.statusCode, 401, `${what}: ${response.statusCode} ${response.body}`);
  assert.deepEqual(response.json(), { error: 'invalid_client', error_description: 'Client authentication failed.' }, what);
  if (options.challenge === true) assert.equal(response.headers['www-authenticate'], 'Basic realm="gatehouse"', `${what}: WWW-Authenticate`);
  if (options.challenge === false) assert.equal(response.headers['www-authenticate'], undefined, `${what}: no WWW-Authenticate`);
  for (const secret of Object.values(secrets)) assert.ok(!response.body.includes(secret), `${what}: no secret echoed`);
}

describe('SEC-OAUTH-15 client authentication: secrets and none', () => {
  it('the registered method with the right credentials is accepted (Basic, post, none)', async () => {
    assertAccepted(await post({}, { authorization: basic('conf', secrets.conf!) }), 'conf', 'Basic');
    assertAccepted(await post({ client_id: 'poster', client_secret: secrets.poster! }), 'poster', 'client_secret_post');
    assertAccepted(await post({ client_id: 'pub' }), 'pub', 'public client, none');
    assertAccepted(await post({ client_id: 'conf' }, { authorization: basic('conf', secrets.conf!) }), 'conf', 'Basic plus the same client_id in the body');
  });

  it('a percent-encoded Basic secret (RFC 6749 §2.3.1) decodes to the registered secret; the raw form is refused', async () => {
    assertAccepted(await post({}, { authorization: basic('odd', ODD_SECRET) }), 'odd', 'form-encoded');
    const raw = `Basic ${Buffer.from(`odd:${ODD_SECRET}`).toString('base64')}`;
    assertInvalidClient(await post({}, { authorization: raw }), 'not form-encoded', { challenge: true });
  });

  it('no credentials → invalid_client with WWW-Authenticate: Basic', async () => {
    assertInvalidClient(await post({}), 'nothing', { challenge: true });
  });

  it('wrong secret, another client’s secret and an unknown client answer identically', async () => {
    const wrong = await post({}, { authorization: basic('conf', 'not-the-secret') });
    const other = await post({}, { authorization: basic('conf', secrets.conf2!) });
    const unknown = await post({}, { authorization: basic('nobody', secrets.conf!) });
    for (const [what, response] of [['wrong secret', wrong], ['another client’s secret', other], ['unknown client', unknown]] as const) {
      assertInvalidClient(response, what, { challenge: true });
    }
    assert.equal(wrong.body, unknown.body);
    assert.deepEqual(Object.keys(wrong.headers).sort(), Object.keys(unknown.headers).sort());
    assertInvalidClient(await post({ client_id: 'poster', client_secret: 'nope' }), 'wrong post secret', { challenge: false });
    assertInvalidClient(await post({ client_id: 'nobody', client_secret: 'nope' }), 'unknown post client', { challenge: false });
  });

  it('credentials in both the header and the body → invalid_client (RFC 6749 §2.3: one method)', async () => {
    assertInvalidClient(await post({ client_id: 'conf', client_secret: secrets.conf! }, { authorization: basic('conf', secrets.conf!) }), 'Basic + client_secret', { challenge: true });
    assertInvalidClient(await post({ client_id: 'poster', client_secret: secrets.poster! }, { authorization: basic('conf', secrets.conf!) }), 'Basic of one, post of another');
    assertInvalidClient(await post({ client_id: 'conf2' }, { authorization: basic('conf', secrets.conf!) }), 'Basic with a different body client_id', { challenge: true });
    assertInvalidClient(await post({ client_id: 'poster', client_secret: secrets.poster!, client_assertion_type: JWT_BEARER, client_assertion: await assertion() }), 'secret + assertion');
  });

  it('a method other than the registered one → invalid_client', async () => {
    assertInvalidClient(await post({}, { authorization: basic('poster', secrets.poster!) }), 'post client via Basic', { challenge: true });
    assertInvalidClient(await post({ client_id: 'conf', client_secret: secrets.conf! }), 'Basic client via post');
    assertInvalidClient(await post({ client_id: 'pub', client_secret: 'anything' }), 'public client with a secret');
  });

  it('none (client_id only) for a confidential client → invalid_client', async () => {
    for (const id of ['conf', 'poster', 'pkjwt']) assertInvalidClient(await post({ client_id: id }), `client_id=${id} only`, { challenge: true });
    assertInvalidClient(await post({ client_id: 'nobody' }), 'unknown client_id only', { challenge: true });
  });

  it('malformed Basic → invalid_client with WWW-Authenticate', async () => {
    const cases: Record<string, string> = {
      'not base64': 'Basic %%%not-base64',
      'no colon': `Basic ${Buffer.from('conf').toString('base64')}`,
      'missing padding': `Basic ${Buffer.from(`conf:${secrets.conf}x`).toString('base64').replace(/=+$/, '')}`,
      'bad percent escape': `Basic ${Buffer.from('conf:%zz').toString('base64')}`,
      'empty secret': `Basic ${Buffer.from('conf:').toString('base64')}`,
      'another scheme': 'Bearer abc',
      'scheme only': 'Basic',
      'not UTF-8': `Basic ${Buffer.from([0x63, 0x3a, 0xff, 0xfe]).toString('base64')}`,
    };
    for (const [what, header] of Object.entries(cases)) assertInvalidClient(await post({}, { authorization: header }), what, { challenge: true });
  });

  it('SEC-PWD-19: after rotation the old secret works only during the grace period', async () => {
    const old = secrets.rot!;
    const { clientSecret } = await registry.rotateSecret('rot', { gracePeriodSeconds: 60 });
    assert.notEqual(clientSecret, old);
    assertAccepted(await post({}, { authorization: basic('rot', clientSecret) }), 'rot', 'new secret');
    assertAccepted(await post({}, { authorization: basic('rot', old) }), 'rot', 'old secret inside the grace period');
    clock += 61_000;
    assertInvalidClient(await post({}, { authorization: basic('rot', old) }), 'old secret after the grace period', { challenge: true });
    assertAccepted(await post({}, { authorization: basic('rot', clientSecret) }), 'rot', 'new secret later');

    const old0 = secrets.rot0!;
    const rotated = await registry.rotateSecret('rot0');
    assertInvalidClient(await post({}, { authorization: basic('rot0', old0) }), 'old secret, no grace period', { challenge: true });
    assertAccepted(await post({}, { authorization: basic('rot0', rotated.clientSecret) }), 'rot0', 'new secret');
  });

  it('a repeated credential parameter → invalid_request (SEC-ASVS-16)', async () => {
    const response = await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `grant_type=client_credentials&client_id=poster&client_secret=${secrets.poster}&client_secret=x` });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().error, 'invalid_request');
  });
});

// ---------------------------------------------------------------------------------------------
// private_key_jwt

interface AssertionOptions {
  claims?: Record<string, unknown>;
  /** Claims to leave out. */
  omit?: string[];
  header?: Record<string, unknown>;
  key?: CryptoKey;
}

/** A client assertion for `pkjwt` (valid unless told otherwise), signed with jose. */
async function assertion(options: AssertionOptions = {}): Promise<string> {
  const payload: Record<string, unknown> = { iss: 'pkjwt', sub: 'pkjwt', aud: ISSUER, jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 60, ...options.claims };
  for (const name of options.omit ?? []) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...options.header } as { alg: string }).sign(options.key ?? clientKey.privateKey);
}

/** Signs arbitrary header and payload bytes with ES256 (for headers jose refuses to produce). */
function rawES256(header: Record<string, unknown>, payload: Record<string, unknown> | string, key: CryptoKey = clientKey.privateKey): string {
  const encode = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  const signature = signBytes('sha256', Buffer.from(input), { key: KeyObject.from(key), dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

function goodClaims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'pkjwt', sub: 'pkjwt', aud: ISSUER, jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 60, ...extra };
}

function postAssertion(token: string, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return post({ client_assertion_type: JWT_BEARER, client_assertion: token, ...extra });
}

describe('SEC-OAUTH-16 private_key_jwt client assertions', () => {
  it('accepted: aud = issuer, aud = token endpoint, aud array holding the issuer, matching body client_id', async () => {
    assertAccepted(await postAssertion(await assertion()), 'pkjwt', 'aud = issuer');
    assertAccepted(await postAssertion(await assertion({ claims: { aud: TOKEN_ENDPOINT } })), 'pkjwt', 'aud = token endpoint');
    assertAccepted(await postAssertion(await assertion({ claims: { aud: ['https://other.example', ISSUER] } })), 'pkjwt', 'aud array with the issuer');
    assertAccepted(await postAssertion(await assertion(), { client_id: 'pkjwt' }), 'pkjwt', 'with client_id');
    assertAccepted(await postAssertion(await assertion({ header: { typ: 'JWT' } })), 'pkjwt', 'typ JWT');
    assertAccepted(await postAssertion(await assertion({ omit: ['iat'] })), 'pkjwt', 'no iat');
  });

  it('SEC-JWT-09: nbf 8 s in the future is accepted, 60 s is rejected; iat 60 s ahead is rejected', async () => {
    assertAccepted(await postAssertion(await assertion({ claims: { nbf: nowSeconds() + 8 } })), 'pkjwt', 'nbf +8 s');
    assertInvalidClient(await postAssertion(await assertion({ claims: { nbf: nowSeconds() + 60 } })), 'nbf +60 s');
    assertInvalidClient(await postAssertion(await assertion({ claims: { iat: nowSeconds() + 60, exp: nowSeconds() + 120 } })), 'iat +60 s');
    assertAccepted(await postAssertion(await assertion({ claims: { exp: nowSeconds() - 20, iat: nowSeconds() - 80 } })), 'pkjwt', 'exp 20 s ago, inside the leeway');
  });

  it('a replayed jti is rejected (RFC 7523 §3 item 7)', async () => {
    const token = await assertion();
    assertAccepted(await postAssertion(token), 'pkjwt', 'first use');
    assertInvalidClient(await postAssertion(token), 'replay');
    const jti = randomUUID();
    assertAccepted(await postAssertion(await assertion({ claims: { jti } })), 'pkjwt', 'new assertion');
    assertInvalidClient(await postAssertion(await assertion({ claims: { jti } })), 'a fresh signature over a used jti');
  });

  it('aud, iss and sub: wrong values are rejected (SEC-JWT-10)', async () => {
    const cases: [string, AssertionOptions][] = [
      ['wrong aud', { claims: { aud: 'https://evil.example' } }],
      ['aud = issuer with a trailing slash', { claims: { aud: `${ISSUER}/` } }],
      ['aud = another endpoint', { claims: { aud: `${ISSUER}/oauth/introspect` } }],
      ['array aud without a match', { claims: { aud: ['https://evil.example', 'https://other.example'] } }],
      ['no aud', { omit: ['aud'] }],
      ['iss ≠ sub', { claims: { sub: 'pkjwt2' } }],
      ['no sub', { omit: ['sub'] }],
      ['iss and sub of another client', { claims: { iss: 'pkjwt2', sub: 'pkjwt2' } }],
      ['iss and sub of a secret client', { claims: { iss: 'conf', sub: 'conf' } }],
    ];
    for (const [what, options] of cases) assertInvalidClient(await postAssertion(await assertion(options)), what, { challenge: false });
    assertInvalidClient(await postAssertion(await assertion(), { client_id: 'pkjwt2' }), 'body client_id of another client');
  });

  it('SEC-JWT-08: exp missing, 5 min in the past, too far ahead, lifetime over 5 min, non-NumericDate → rejected; jti required', async () => {
    const cases: [string, AssertionOptions][] = [
      ['no exp', { omit: ['exp'] }],
      ['exp 5 min in the past', { claims: { iat: nowSeconds() - 360, exp: nowSeconds() - 300 } }],
      ['exp an hour ahead', { claims: { exp: nowSeconds() + 3600 } }],
      ['exp an hour ahead without iat', { omit: ['iat'], claims: { exp: nowSeconds() + 3600 } }],
      ['lifetime 305 s', { claims: { iat: nowSeconds() - 10, exp: nowSeconds() + 295 } }],
      ['exp in milliseconds', { claims: { exp: clock + 60_000 } }],
      ['exp as a string', { claims: { exp: String(nowSeconds() + 60) } }],
      ['exp with a fraction', { claims: { exp: nowSeconds() + 60.5 } }],
      ['exp null', { claims: { exp: null } }],
      ['no jti', { omit: ['jti'] }],
      ['empty jti', { claims: { jti: '' } }],
      ['jti a number', { claims: { jti: 12345 } }],
    ];
    for (const [what, options] of cases) assertInvalidClient(await postAssertion(await assertion(options)), what);
  });

  it('SEC-JWT-01/-02/-03: alg none, algorithms not bound to the key, HS256 keyed with the client’s public key → rejected', async () => {
    const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none' })}.${encode(goodClaims())}`;
    assertInvalidClient(await postAssertion(`${unsigned}.`), 'alg none, empty signature');
    assertInvalidClient(await postAssertion(unsigned), 'alg none, no trailing dot');
    for (const alg of ['None', 'NONE', 'nOnE']) assertInvalidClient(await postAssertion(`${encode({ alg })}.${encode(goodClaims())}.`), `alg ${alg}`);
    const good = await assertion();
    assertInvalidClient(await postAssertion(`${encode({ alg: 'none', kid: 'k1' })}.${good.split('.')[1]}.${good.split('.')[2]}`), 'alg none with the original signature');

    const hs256 = (secret: string | Buffer): string => {
      const input = `${encode({ alg: 'HS256', kid: 'k1' })}.${encode(goodClaims())}`;
      return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    };
    assertInvalidClient(await postAssertion(hs256(await exportSPKI(clientKey.publicKey))), 'HS256 keyed with the SPKI PEM');
    assertInvalidClient(await postAssertion(hs256(JSON.stringify({ ...clientKey.jwk, kid: 'k1', alg: 'ES256', use: 'sig' }))), 'HS256 keyed with the JWK JSON text');
    assertInvalidClient(await postAssertion(hs256(JSON.stringify({ keys: [{ ...clientKey.jwk, kid: 'k1' }] }))), 'HS256 keyed with the JWKS JSON text');

    // The RSA client registered PS256: the same key under RS256 is refused.
    const rsaClaims = { iss: 'pkrsa', sub: 'pkrsa', aud: ISSUER, jti: randomUUID(), exp: nowSeconds() + 60 };
    assertAccepted(await postAssertion(await new SignJWT(rsaClaims).setProtectedHeader({ alg: 'PS256', kid: 'r1' }).sign(rsaKey.privateKey)), 'pkrsa', 'PS256 as registered');
    const rs256Input = `${encode({ alg: 'RS256', kid: 'r1' })}.${encode({ ...rsaClaims, jti: randomUUID() })}`;
    const rs256 = `${rs256Input}.${signBytes('sha256', Buffer.from(rs256Input), KeyObject.from(rsaKey.privateKey)).toString('base64url')}`;
    assertInvalidClient(await postAssertion(rs256), 'RS256 with a PS256-registered key');
    assertInvalidClient(await postAssertion(rawES256({ alg: 'ES384', kid: 'k1' }, goodClaims())), 'ES384 header over a P-256 key');
  });

  it('SEC-JWT-04: embedded jwk, jku, x5u and x5c headers are rejected and nothing is fetched', async () => {
    const attacker = { ...attackerKey.jwk, kid: 'k1' };
    const cases: [string, Record<string, unknown>, CryptoKey][] = [
      ['embedded attacker jwk', { alg: 'ES256', jwk: attacker }, attackerKey.privateKey],
      ['embedded attacker jwk, no kid', { alg: 'ES256', jwk: attackerKey.jwk }, attackerKey.privateKey],
      ['jku to the canary (attacker key)', { alg: 'ES256', kid: 'k1', jku: canaryUrl }, attackerKey.privateKey],
      ['jku to the canary (client key)', { alg: 'ES256', kid: 'k1', jku: canaryUrl }, clientKey.privateKey],
      ['jku to instance metadata', { alg: 'ES256', kid: 'k1', jku: 'http://169.254.169.254/latest/meta-data/' }, clientKey.privateKey],
      ['x5u to the canary', { alg: 'ES256', kid: 'k1', x5u: canaryUrl }, attackerKey.privateKey],
      ['x5c self-signed', { alg: 'ES256', kid: 'k1', x5c: ['MIIBszCCAVmgAwIBAgIUQ'] }, attackerKey.privateKey],
      ['attacker key, client kid, no header key', { alg: 'ES256', kid: 'k1' }, attackerKey.privateKey],
    ];
    for (const [what, header, key] of cases) assertInvalidClient(await postAssertion(rawES256(header, goodClaims(), key)), what);
    assert.equal(canaryHits, 0, 'no request reached the canary');
  });

  it('SEC-JWT-05: kid injection strings and another client’s kid are rejected, never a 5xx', async () => {
    const kids = ['../../../../dev/null', '/proc/self/environ', "' OR '1'='1", "x' UNION SELECT 'AAAA'--", 'k1\u0000', 'k'.repeat(10_240), 'k2', ''];
    for (const kid of kids) {
      const response = await postAssertion(rawES256({ alg: 'ES256', kid }, goodClaims()));
      assertInvalidClient(response, `kid ${JSON.stringify(kid.slice(0, 40))}`);
    }
    // pkjwt2's key and kid, claiming to be pkjwt.
    assertInvalidClient(await postAssertion(rawES256({ alg: 'ES256', kid: 'k2' }, goodClaims(), otherClientKey.privateKey)), 'another client’s key and kid');
    assertInvalidClient(await postAssertion(rawES256({ alg: 'ES256', kid: 'k2' }, goodClaims())), 'own key, another client’s kid');
  });

  it('SEC-JWT-12: crit and b64 headers are rejected', async () => {
    const headers: Record<string, unknown>[] = [
      { alg: 'ES256', kid: 'k1', crit: ['x-unknown'], 'x-unknown': 1 },
      { alg: 'ES256', kid: 'k1', crit: [] },
      { alg: 'ES256', kid: 'k1', crit: ['alg'] },
      { alg: 'ES256', kid: 'k1', crit: ['x-absent'] },
      { alg: 'ES256', kid: 'k1', b64: false, crit: ['b64'] },
      { alg: 'ES256', kid: 'k1', b64: false },
    ];
    for (const header of headers) assertInvalidClient(await postAssertion(rawES256(header, goodClaims())), JSON.stringify(header));
  });

  it('SEC-JWT-06/-15/-16: a flipped signature, payload or header bit and non-canonical encodings are rejected', async () => {
    // A token whose signature has a "-" or "_", so that the standard-alphabet variant differs.
    let token = await assertion();
    while (!/[-_]/.test(token.split('.')[2]!)) token = await assertion();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flip = (segment: string): string => {
      const bytes = Buffer.from(segment, 'base64url');
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      return bytes.toString('base64url');
    };
    assertInvalidClient(await postAssertion(`${header}.${payload}.${flip(signature)}`), 'signature bit flip');
    assertInvalidClient(await postAssertion(`${header}.${flip(payload)}.${signature}`), 'payload bit flip');
    assertInvalidClient(await postAssertion(`${header}.${payload}.${signature.slice(0, -2)}`), 'signature truncated');
    assertInvalidClient(await postAssertion(`${header}.${payload}.${Buffer.alloc(64).toString('base64url')}`), 'r = s = 0');
    assertInvalidClient(await postAssertion(`${header}.${payload}.${signature}=`), 'padding');
    assertInvalidClient(await postAssertion(`${header}.${payload}.${signature.replace(/-/g, '+').replace(/_/g, '/')}`), 'standard alphabet');
    // 64 signature bytes fill 86 characters with 4 bits to spare: a twin with those bits set decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) | 1];
    assert.deepEqual(Buffer.from(twin, 'base64url'), Buffer.from(signature, 'base64url'));
    assertInvalidClient(await postAssertion(`${header}.${payload}.${twin}`), 'non-canonical final character');
    assertInvalidClient(await postAssertion(`${header}.${payload}`), 'two segments');
    assertInvalidClient(await postAssertion(`${header}.${payload}.${signature}.x.y`), 'five segments');
    assertInvalidClient(await postAssertion(` ${token}`), 'leading space');
    assertInvalidClient(await postAssertion('x'.repeat(20_000)), 'oversized');
    // The unused token is still good: nothing above consumed its jti.
    assertAccepted(await postAssertion(token), 'pkjwt', 'the original');
  });

  it('SEC-JWT-14: __proto__ and constructor claims change nothing and never cause a 5xx', async () => {
    const claims = goodClaims();
    const text = JSON.stringify(claims).replace(/}$/, ',"__proto__":{"client_id":"conf","sub":"conf"},"constructor":{"prototype":{"x":1}}}');
    assertAccepted(await postAssertion(rawES256({ alg: 'ES256', kid: 'k1' }, text)), 'pkjwt', 'proto claims');
  });

  it('a wrong client_assertion_type, or an assertion for a secret client, is rejected', async () => {
    assertInvalidClient(await post({ client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer', client_assertion: await assertion() }), 'saml2 type');
    assertInvalidClient(await post({ client_assertion: await assertion() }), 'no type');
    assertInvalidClient(await post({ client_assertion_type: JWT_BEARER }), 'no assertion');
  });
});
