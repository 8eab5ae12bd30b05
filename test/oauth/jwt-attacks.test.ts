/**
 * The hostile-JWT corpus of security-requirements §3 against our access-token verifier, as a
 * resource server meets it: `POST /oauth/introspect` (surface S1). Every hostile token must get
 * exactly `{"active":false}` with status 200 — never a 5xx, never `active:true`.
 *
 * Built from a valid access token and our published public key (what an attacker has), plus —
 * for claim and header variants that only a correct signature would reveal — tokens signed with
 * the server's real private key, obtained grey-box through a KeyService over the test database
 * (a compromised-issuer simulation, SEC-JWT-14). The corpus runs for each signing algorithm.
 *
 * Covers SEC-JWT-01…08, 10, 11, 12, 14, 15, 16, 17, plus an end-to-end S3 (client assertion) check
 * at the real endpoints.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, createHmac, createPublicKey, generateKeyPairSync, KeyObject, randomBytes, randomUUID, sign as signBytes, type JsonWebKey as NodeJWK } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, calculateJwkThumbprint, type JWK } from 'jose';
import type { TestApp } from '../support/app.ts';
import type { SigningKey } from '../../src/keys/service.ts';
import { API, assertActive, assertInactive, clientToken, createOAuthApp, fixtureClients, introspect, postForm, revoke, serverKeys } from '../support/oauth.ts';

type Alg = 'ES256' | 'EdDSA' | 'RS256';

const b64u = (value: Buffer | string): string => Buffer.from(value).toString('base64url');
const fromB64u = (value: string): Buffer => Buffer.from(value, 'base64url');
const json = (value: unknown): string => b64u(JSON.stringify(value));

/** P-256 group order. */
const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
/** Ed25519 group order L, little-endian. */
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;

function toLittleEndian(value: bigint, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
}
function fromLittleEndian(buffer: Buffer): bigint {
  let value = 0n;
  for (let i = buffer.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(buffer[i]!);
  return value;
}

/** The canary: records every request (SEC-JWT-04: the server must fetch nothing). */
let canary: Server;
let canaryUrl = '';
let canaryHits = 0;
const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const attackerJwk = attacker.publicKey.export({ format: 'jwk' }) as JWK;
let attackerKid = '';
let selfSignedCertificate = '';

before(async () => {
  attackerKid = await calculateJwkThumbprint(attackerJwk);
  canary = createServer((request, response) => {
    canaryHits++;
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ keys: [{ ...attackerJwk, kid: attackerKid, alg: 'ES256', use: 'sig' }] }));
  });
  await new Promise<void>((resolve) => canary.listen(0, '127.0.0.1', resolve));
  const address = canary.address();
  canaryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // A real self-signed certificate for the x5c variant (falls back to junk bytes without openssl).
  const dir = mkdtempSync(join(tmpdir(), 'gh-x5c-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=attacker', '-days', '1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.der'), '-outform', 'DER'], { stdio: 'ignore', timeout: 10_000 });
    selfSignedCertificate = readFileSync(join(dir, 'c.der')).toString('base64');
  } catch {
    selfSignedCertificate = randomBytes(300).toString('base64');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
after(() => new Promise<void>((resolve) => canary.close(() => resolve())));

/** Signs `input` the way `alg` would with `key` (P1363 ECDSA unless asked for DER). */
function rawSign(key: KeyObject, alg: Alg, input: string, options: { dsaEncoding?: 'der' | 'ieee-p1363'; hash?: string; pss?: boolean } = {}): Buffer {
  const data = Buffer.from(input);
  if (alg === 'EdDSA') return signBytes(null, data, key);
  if (alg === 'ES256') return signBytes(options.hash ?? 'sha256', data, { key, dsaEncoding: options.dsaEncoding ?? 'ieee-p1363' });
  return signBytes(options.hash ?? 'sha256', data, options.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key);
}

/** The results of a corpus run: each case that was not exactly {"active":false} with 200. */
async function inactiveAll(t: TestApp, cases: [string, string][], caller = 'svc'): Promise<string[]> {
  const failures: string[] = [];
  for (const [name, token] of cases) {
    const response = await introspect(t, token, caller);
    if (response.statusCode !== 200 || response.body !== '{"active":false}') failures.push(`${name}: ${response.statusCode} ${response.body.slice(0, 160)}`);
  }
  return failures;
}

for (const alg of ['ES256', 'EdDSA', 'RS256'] as const) {
  describe(`hostile JWTs at /oauth/introspect, ${alg} signing keys (SEC-JWT, surface S1)`, () => {
    let t: TestApp;
    let key: SigningKey;
    let privateKey: KeyObject;
    let publicJwk: JWK;
    let jwksText: string;
    let valid: string;
    let issuer: string;
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    before(async () => {
      t = await createOAuthApp({ env: { GATEHOUSE_SIGNING_ALGORITHM: alg, GATEHOUSE_INTROSPECTION_INACTIVE_LIMIT: '1000000' } });
      issuer = t.config.publicUrl;
      const keys = await serverKeys(t);
      key = keys.signingKey();
      privateKey = KeyObject.from(key.privateKey);
      const jwks = await t.app.inject({ url: '/.well-known/jwks.json' });
      jwksText = jwks.body;
      publicJwk = (jwks.json() as { keys: JWK[] }).keys.find((candidate) => candidate.kid === key.kid)!;
      assert.ok(publicJwk, 'the signing key is published');
      valid = await clientToken(t, 'svc', { scope: 'read' });
    });
    after(() => t.close());

    /** Valid claims for svc (the caller, so only the verifier can refuse). */
    const claimsFor = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
      iss: issuer,
      sub: 'client:svc',
      aud: API,
      iat: nowSeconds(),
      exp: nowSeconds() + 300,
      jti: randomUUID(),
      client_id: 'svc',
      scope: 'read',
      ...overrides,
    });
    /** Payload JSON text with some members replaced by raw JSON text (undefined = removed). */
    const rawClaims = (raw: Record<string, string | undefined>): string => {
      const base = claimsFor();
      const members = Object.entries(base)
        .filter(([name]) => !(name in raw))
        .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
      for (const [name, value] of Object.entries(raw)) if (value !== undefined) members.push(`${JSON.stringify(name)}:${value}`);
      return `{${members.join(',')}}`;
    };
    const header = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ alg, kid: key.kid, typ: 'at+jwt', ...overrides });
    /** A compact JWS signed with the server's real key; header/payload as objects or raw JSON text. */
    const forge = (head: Record<string, unknown> | string, payload: Record<string, unknown> | string, options: Parameters<typeof rawSign>[3] = {}): string => {
      const input = `${b64u(typeof head === 'string' ? head : JSON.stringify(head))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
      return `${input}.${b64u(rawSign(privateKey, alg, input, options))}`;
    };
    const hmac = (hash: string, secret: Buffer | string, head: Record<string, unknown>, payload: Record<string, unknown>): string => {
      const input = `${json(head)}.${json(payload)}`;
      return `${input}.${b64u(createHmac(hash, secret).update(input).digest())}`;
    };
    const attackerSigned = (head: Record<string, unknown>, payload: Record<string, unknown>): string => {
      const input = `${json(head)}.${json(payload)}`;
      return `${input}.${b64u(signBytes('sha256', Buffer.from(input), { key: attacker.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
    };

    it('controls: the issued token and a token signed with the real key are active (the corpus tests the verifier, not our signer)', async () => {
      assertActive(await introspect(t, valid, 'svc'), 'issued token');
      assertActive(await introspect(t, forge(header(), claimsFor()), 'svc'), 'forged with the real key');
      assertActive(await introspect(t, forge(header(), rawClaims({})), 'svc'), 'raw-claims helper');
    });

    it('SEC-JWT-01: alg none in every spelling, with and without a signature or trailing dot', async () => {
      const [, payload, signature] = valid.split('.') as [string, string, string];
      const cases: [string, string][] = [];
      for (const none of ['none', 'None', 'NONE', 'nOnE', 'none ', ' none', 'none\u0000', '']) {
        const head = json({ alg: none, kid: key.kid, typ: 'at+jwt' });
        cases.push([`alg ${JSON.stringify(none)}, empty signature`, `${head}.${payload}.`]);
        cases.push([`alg ${JSON.stringify(none)}, original signature`, `${head}.${payload}.${signature}`]);
        cases.push([`alg ${JSON.stringify(none)}, no trailing dot`, `${head}.${payload}`]);
        cases.push([`alg ${JSON.stringify(none)}, fresh claims`, `${json({ alg: none, typ: 'at+jwt' })}.${json(claimsFor())}.`]);
      }
      cases.push(['no alg at all', `${json({ kid: key.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
      cases.push(['alg null', `${json({ alg: null, kid: key.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
      cases.push(['alg array', `${json({ alg: [alg], kid: key.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-02: an algorithm other than the key’s (same key, re-signed) is refused', async () => {
      const cases: [string, string][] = [];
      const payload = claimsFor();
      if (alg === 'ES256') {
        cases.push(['ES384 with the P-256 key', forge(header({ alg: 'ES384' }), payload, { hash: 'sha384' })]);
        cases.push(['ES512 with the P-256 key', forge(header({ alg: 'ES512' }), payload, { hash: 'sha512' })]);
        cases.push(['ES256K header', forge(header({ alg: 'ES256K' }), payload)]);
      }
      if (alg === 'RS256') {
        cases.push(['PS256 with the RSA key', forge(header({ alg: 'PS256' }), payload, { pss: true })]);
        cases.push(['RS384 with the RSA key', forge(header({ alg: 'RS384' }), payload, { hash: 'sha384' })]);
        cases.push(['RS512 with the RSA key', forge(header({ alg: 'RS512' }), payload, { hash: 'sha512' })]);
      }
      if (alg === 'EdDSA') cases.push(['Ed25519 (fully specified) header', forge(header({ alg: 'Ed25519' }), payload)]);
      for (const other of ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256', 'ES384'].filter((name) => name !== alg)) {
        cases.push([`header alg ${other} over a ${alg} signature`, forge(header({ alg: other }), payload)]);
      }
      cases.push(['lower-case alg', forge(header({ alg: alg.toLowerCase() }), payload)]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-03: HS256/384/512 keyed with our public key in every serialisation', async () => {
      const publicKey = createPublicKey({ key: publicJwk as NodeJWK, format: 'jwk' });
      const spkiPem = String(publicKey.export({ type: 'spki', format: 'pem' }));
      const secrets: [string, Buffer | string][] = [
        ['SPKI PEM', spkiPem],
        ['SPKI PEM without the final newline', spkiPem.trimEnd()],
        ['SPKI PEM with leading whitespace', `\n  ${spkiPem}`],
        ['SPKI PEM with CRLF', spkiPem.replace(/\n/g, '\r\n')],
        ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
        ['JWK JSON text', JSON.stringify(publicJwk)],
        ['JWK JSON text (key members only)', JSON.stringify(Object.fromEntries(Object.entries(publicJwk).filter(([name]) => ['kty', 'crv', 'x', 'y', 'n', 'e'].includes(name))))],
        ['JWKS JSON text as served', jwksText],
        ['JWKS JSON text re-serialised', JSON.stringify({ keys: [publicJwk] })],
        ['the kid', key.kid],
        ['an empty key', Buffer.alloc(0)],
      ];
      if (publicJwk.kty === 'RSA') {
        secrets.push(['PKCS#1 PEM', String(publicKey.export({ type: 'pkcs1', format: 'pem' }))]);
        secrets.push(['PKCS#1 DER', publicKey.export({ type: 'pkcs1', format: 'der' })]);
        secrets.push(['raw modulus', fromB64u(publicJwk.n!)]);
        secrets.push(['modulus base64url text', publicJwk.n!]);
      } else {
        secrets.push(['raw x', fromB64u(publicJwk.x!)]);
        secrets.push(['x base64url text', publicJwk.x!]);
        if (publicJwk.y) {
          secrets.push(['raw x‖y', Buffer.concat([fromB64u(publicJwk.x!), fromB64u(publicJwk.y)])]);
          secrets.push(['uncompressed point', Buffer.concat([Buffer.from([4]), fromB64u(publicJwk.x!), fromB64u(publicJwk.y)])]);
        }
      }
      const cases: [string, string][] = [];
      for (const [name, secret] of secrets) {
        for (const [hmacAlg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
          cases.push([`${hmacAlg} keyed with ${name}`, hmac(hash, secret, header({ alg: hmacAlg }), claimsFor())]);
        }
        cases.push([`HS256 keyed with ${name}, no kid`, hmac('sha256', secret, { alg: 'HS256', typ: 'at+jwt' }, claimsFor())]);
      }
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-04: embedded jwk, jku, x5u and x5c are refused and nothing is fetched', async () => {
      const hitsBefore = canaryHits;
      const attackerPublic = { ...attackerJwk, kid: attackerKid, alg: 'ES256', use: 'sig' };
      const payload = claimsFor();
      const cases: [string, string][] = [
        ['jwk header with the attacker key, attacker kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jwk: attackerPublic }, payload)],
        ['jwk header with the attacker key, our kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, jwk: attackerPublic }, payload)],
        ['jwk header, no kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', jwk: attackerPublic }, payload)],
        ['jwk header holding our public key, signed by the attacker', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, jwk: publicJwk }, payload)],
        ['jku at the canary', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jku: `${canaryUrl}/jwks.json` }, payload)],
        ['jku at the canary with our kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, jku: `${canaryUrl}/jwks.json` }, payload)],
        ['jku at the metadata address', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jku: 'http://169.254.169.254/latest/meta-data/' }, payload)],
        ['jku at localhost', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jku: `${issuer}/.well-known/jwks.json` }, payload)],
        ['x5u at the canary', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, x5u: `${canaryUrl}/cert.pem` }, payload)],
        ['x5c self-signed', attackerSigned({ alg: 'ES256', typ: 'at+jwt', x5c: [selfSignedCertificate] }, payload)],
        ['x5c self-signed, our kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, x5c: [selfSignedCertificate] }, payload)],
        ['plain forgery with our kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, payload)],
        ['plain forgery with an unknown kid', attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid }, payload)],
        // With our own valid signature: key-carrying members are refused outright, not ignored.
        ['our signature with a jku member', forge(header({ jku: `${canaryUrl}/jwks.json` }), claimsFor())],
        ['our signature with a jwk member', forge(header({ jwk: publicJwk }), claimsFor())],
        ['our signature with an x5u member', forge(header({ x5u: `${canaryUrl}/cert.pem` }), claimsFor())],
      ];
      assert.deepEqual(await inactiveAll(t, cases), []);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(canaryHits, hitsBefore, 'the server made no outbound request');
    });

    it('SEC-JWT-05: kid injection is refused (with a real signature), never a 5xx', async () => {
      const payload = claimsFor();
      const kids: unknown[] = [
        '../../../../dev/null', '/dev/null', '/proc/self/environ', "' OR '1'='1", "x' UNION SELECT 'AAAA'--", `${key.kid}' --`, 'A'.repeat(5000), 'abc\u0000', `${key.kid}\u0000`, `${key.kid} `, ` ${key.kid}`,
        key.kid.toUpperCase() === key.kid ? key.kid.toLowerCase() : key.kid.toUpperCase(), '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '*', '%', '{"$ne":null}', 1, 0, null, true, [key.kid], { kid: key.kid },
      ];
      const cases: [string, string][] = kids.map((kid) => [`kid ${JSON.stringify(kid).slice(0, 40)}`, forge(header({ kid }), payload)]);
      cases.push(['no kid', forge({ alg, typ: 'at+jwt' }, payload)]);
      cases.push(['kid ../../dev/null with HS256 and an empty key', hmac('sha256', Buffer.alloc(0), { alg: 'HS256', typ: 'at+jwt', kid: '../../../../dev/null' }, payload)]);
      cases.push(['kid /proc/self/environ with HS256', hmac('sha256', 'PATH=/usr/bin', { alg: 'HS256', typ: 'at+jwt', kid: '/proc/self/environ' }, payload)]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-06: signature integrity — every single-bit flip, truncation, a transplanted signature, re-serialised JSON', async () => {
      const [head, payload, signature] = valid.split('.') as [string, string, string];
      const cases: [string, string][] = [];
      const flips = (segment: string): string[] => {
        const bytes = fromB64u(segment);
        return Array.from({ length: bytes.length }, (_, index) => {
          const copy = Buffer.from(bytes);
          copy[index]! ^= 1 << (index % 8);
          return b64u(copy);
        });
      };
      flips(head).forEach((mutated, index) => cases.push([`header bit flip at byte ${index}`, `${mutated}.${payload}.${signature}`]));
      flips(payload).forEach((mutated, index) => cases.push([`payload bit flip at byte ${index}`, `${head}.${mutated}.${signature}`]));
      flips(signature).forEach((mutated, index) => cases.push([`signature bit flip at byte ${index}`, `${head}.${payload}.${mutated}`]));
      const signatureBytes = fromB64u(signature);
      cases.push(['signature truncated by one byte', `${head}.${payload}.${b64u(signatureBytes.subarray(0, -1))}`]);
      cases.push(['signature truncated by one character', `${head}.${payload}.${signature.slice(0, -1)}`]);
      cases.push(['signature with an extra byte', `${head}.${payload}.${b64u(Buffer.concat([signatureBytes, Buffer.from([0])]))}`]);
      cases.push(['empty signature', `${head}.${payload}.`]);
      const other = await clientToken(t, 'svc', { scope: 'read' });
      cases.push(['signature of another valid token', `${head}.${payload}.${other.split('.')[2]}`]);
      const decoded = JSON.parse(fromB64u(payload).toString()) as Record<string, unknown>;
      cases.push(['payload re-serialised with whitespace', `${head}.${b64u(JSON.stringify(decoded, null, 1))}.${signature}`]);
      cases.push(['payload members reordered', `${head}.${json(Object.fromEntries(Object.entries(decoded).reverse()))}.${signature}`]);
      cases.push(['payload with a widened scope', `${head}.${json({ ...decoded, scope: 'read write' })}.${signature}`]);
      const decodedHeader = JSON.parse(fromB64u(head).toString()) as Record<string, unknown>;
      cases.push(['header members reordered', `${json(Object.fromEntries(Object.entries(decodedHeader).reverse()))}.${payload}.${signature}`]);
      assert.deepEqual(await inactiveAll(t, cases), []);
      assertActive(await introspect(t, valid, 'svc'), 'the original still verifies');
    });

    it('SEC-JWT-07: signature edge cases (psychic signatures, wrong encodings and lengths)', async () => {
      const payload = claimsFor();
      const input = `${json(header())}.${json(payload)}`;
      const good = rawSign(privateKey, alg, input);
      const cases: [string, string][] = [];
      const withSignature = (name: string, signature: Buffer) => cases.push([name, `${input}.${b64u(signature)}`]);
      withSignature('all-zero signature of the right length', Buffer.alloc(good.length));
      withSignature('63/255-byte signature (leading byte dropped)', good.subarray(1));
      withSignature('prefixed zero byte', Buffer.concat([Buffer.from([0]), good]));
      if (alg === 'ES256') {
        const r = good.subarray(0, 32);
        const s = good.subarray(32);
        withSignature('r = s = 0 (CVE-2022-21449)', Buffer.alloc(64));
        withSignature('r = s = n', Buffer.concat([P256_N, P256_N]));
        withSignature('r = n, s valid', Buffer.concat([P256_N, s]));
        withSignature('r valid, s = n', Buffer.concat([r, P256_N]));
        withSignature('r = 0, s valid', Buffer.concat([Buffer.alloc(32), s]));
        withSignature('r valid, s = 0', Buffer.concat([r, Buffer.alloc(32)]));
        withSignature('r + n (≥ n, 33 bytes)', Buffer.concat([Buffer.from((BigInt(`0x${r.toString('hex')}`) + BigInt(`0x${P256_N.toString('hex')}`)).toString(16).padStart(66, '0'), 'hex'), s]));
        withSignature('DER-encoded signature (JWS needs raw R‖S)', rawSign(privateKey, alg, input, { dsaEncoding: 'der' }));
        withSignature('P-384-sized zero signature', Buffer.alloc(96));
      }
      if (alg === 'EdDSA') {
        const R = good.subarray(0, 32);
        const S = fromLittleEndian(good.subarray(32));
        withSignature('non-canonical S (S + L)', Buffer.concat([R, toLittleEndian(S + ED25519_L, 32)]));
        withSignature('identity R, S = 0', Buffer.concat([Buffer.from([1, ...Buffer.alloc(31)]), Buffer.alloc(32)]));
      }
      if (alg === 'RS256') {
        withSignature('signature = 1', Buffer.concat([Buffer.alloc(good.length - 1), Buffer.from([1])]));
        withSignature('signature = modulus', fromB64u(publicJwk.n!));
      }
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-08: time claims — missing, past, future and non-NumericDate values', async () => {
      const now = nowSeconds();
      const cases: [string, string][] = [];
      const variant = (name: string, raw: Record<string, string | undefined>) => cases.push([name, forge(header(), rawClaims(raw))]);
      variant('exp missing', { exp: undefined });
      variant('exp 2 minutes ago (beyond the 30 s leeway)', { exp: String(now - 120) });
      variant('exp an hour ago', { exp: String(now - 3600), iat: String(now - 3900) });
      variant('exp as a string', { exp: `"${now + 300}"` });
      variant('exp "9999999999"', { exp: '"9999999999"' });
      variant('exp with a fraction', { exp: `${now + 300}.5` });
      variant('exp -1', { exp: '-1' });
      variant('exp 0', { exp: '0' });
      variant('exp 1e309 (Infinity)', { exp: '1e309' });
      variant('exp 1e10 (far future)', { exp: '1e10' });
      variant('exp null', { exp: 'null' });
      variant('exp array', { exp: `[${now + 300}]` });
      variant('exp object', { exp: '{}' });
      variant('exp true', { exp: 'true' });
      variant('exp above 2^53', { exp: '9007199254740993' });
      variant('exp in milliseconds', { exp: String((now + 300) * 1000) });
      variant('lifetime above the maximum', { exp: String(now + t.config.accessTokenMaxTtlSeconds + 600) });
      variant('iat missing', { iat: undefined });
      variant('iat 2 minutes in the future', { iat: String(now + 120) });
      variant('iat as a string', { iat: `"${now}"` });
      variant('iat with a fraction', { iat: `${now}.5` });
      variant('iat in milliseconds', { iat: String(now * 1000) });
      variant('iat negative', { iat: '-1' });
      variant('iat null', { iat: 'null' });
      variant('nbf 2 minutes in the future', { nbf: String(now + 120) });
      variant('nbf as a string', { nbf: `"${now}"` });
      variant('nbf with a fraction', { nbf: `${now}.5` });
      variant('nbf null', { nbf: 'null' });
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-09: one bounded leeway (30 s) — inside accepted, beyond rejected', async () => {
      const now = nowSeconds();
      const accepted: [string, Record<string, string | undefined>][] = [
        ['exp 25 s ago', { exp: String(now - 25) }],
        ['iat 8 s ahead', { iat: String(now + 8) }],
        ['nbf 8 s ahead', { nbf: String(now + 8) }],
      ];
      for (const [name, raw] of accepted) assertActive(await introspect(t, forge(header(), rawClaims(raw)), 'svc'), name);
      const rejected: [string, string][] = [
        ['exp 35 s ago', forge(header(), rawClaims({ exp: String(now - 35), iat: String(now - 300) }))],
        ['iat 35 s ahead', forge(header(), rawClaims({ iat: String(now + 35) }))],
        ['nbf 35 s ahead', forge(header(), rawClaims({ nbf: String(now + 35) }))],
      ];
      assert.deepEqual(await inactiveAll(t, rejected), []);
    });

    it('SEC-JWT-10: issuer and audience — missing, other, variants and wrong types', async () => {
      const cases: [string, string][] = [];
      const variant = (name: string, overrides: Record<string, unknown>, remove: string[] = []) => {
        const payload = claimsFor(overrides);
        for (const name of remove) delete payload[name];
        cases.push([name, forge(header(), payload)]);
      };
      variant('iss missing', {}, ['iss']);
      variant('iss of another issuer', { iss: 'https://evil.example' });
      variant('iss with a trailing slash', { iss: `${issuer}/` });
      variant('iss with another scheme', { iss: issuer.replace(/^http:/, 'https:') });
      variant('iss upper-cased', { iss: issuer.toUpperCase() });
      variant('iss with a trailing space', { iss: `${issuer} ` });
      variant('iss as an array', { iss: [issuer] });
      variant('iss null', { iss: null });
      variant('aud missing', {}, ['aud']);
      variant('aud a number', { aud: 123 });
      variant('aud null', { aud: null });
      variant('aud an empty array', { aud: [] });
      variant('aud an object', { aud: { 0: API } });
      variant('sub missing', {}, ['sub']);
      variant('sub a number', { sub: 123 });
      variant('client_id missing', {}, ['client_id']);
      variant('client_id a number', { client_id: 1 });
      variant('jti missing', {}, ['jti']);
      variant('jti a number', { jti: 7 });
      assert.deepEqual(await inactiveAll(t, cases), []);
      // Audience: a resource server sees a token only when it names that resource.
      const foreign: [string, string][] = [
        ['aud of another resource', forge(header(), claimsFor({ aud: 'https://evil.example' }))],
        ['aud with a trailing slash', forge(header(), claimsFor({ aud: `${API}/` }))],
        ['aud upper-cased', forge(header(), claimsFor({ aud: API.toUpperCase() }))],
        ['aud missing', forge(header(), (({ aud: _aud, ...rest }) => rest)(claimsFor()))],
      ];
      assert.deepEqual(await inactiveAll(t, foreign, 'rs'), []);
      assertActive(await introspect(t, forge(header(), claimsFor({ aud: [API, 'https://evil.example'] })), 'rs'), 'control: a multi-valued aud naming the resource');
    });

    it('SEC-JWT-11: explicit typing — other typ values and other kinds of JWT are not access tokens', async () => {
      const payload = claimsFor();
      const cases: [string, string][] = [];
      for (const typ of [undefined, 'JWT', 'jwt', 'at+jwt ', 'at+jwt\u0000', 'logout+jwt', 'dpop+jwt', 'secevent+jwt', 'id_token', 'JOSE', 'token-introspection+jwt', '', 123, ['at+jwt'], null]) {
        const head: Record<string, unknown> = { alg, kid: key.kid };
        if (typ !== undefined) head.typ = typ;
        cases.push([`typ ${JSON.stringify(typ)}`, forge(head, payload)]);
      }
      // Our own ID-token-shaped JWT (aud = client, nonce, azp) and a client-assertion-shaped JWT.
      const idToken = { iss: issuer, sub: 'client:svc', aud: 'svc', azp: 'svc', nonce: 'n-0S6_WzA2Mj', iat: nowSeconds(), exp: nowSeconds() + 300, auth_time: nowSeconds() };
      cases.push(['an ID token (typ JWT)', forge({ alg, kid: key.kid, typ: 'JWT' }, idToken)]);
      cases.push(['an ID token (no typ)', forge({ alg, kid: key.kid }, idToken)]);
      const assertion = { iss: 'svc', sub: 'svc', aud: `${issuer}/oauth/token`, jti: randomUUID(), iat: nowSeconds(), exp: nowSeconds() + 60 };
      cases.push(['a client-assertion-shaped JWT', forge({ alg, kid: key.kid, typ: 'JWT' }, assertion)]);
      cases.push(['a logout token', forge({ alg, kid: key.kid, typ: 'logout+jwt' }, { iss: issuer, aud: 'svc', iat: nowSeconds(), exp: nowSeconds() + 60, jti: randomUUID(), events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: 'x' })]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-12: crit and b64 headers (validly signed) are refused', async () => {
      const payload = claimsFor();
      const cases: [string, string][] = [
        ['crit with an unknown extension', forge(header({ crit: ['x-unknown'], 'x-unknown': 1 }), payload)],
        ['crit empty', forge(header({ crit: [] }), payload)],
        ['crit naming alg', forge(header({ crit: ['alg'] }), payload)],
        ['crit naming an absent parameter', forge(header({ crit: ['exp'] }), payload)],
        ['crit not an array', forge(header({ crit: 'x-unknown', 'x-unknown': 1 }), payload)],
        ['b64 false without crit', forge(header({ b64: false }), payload)],
        ['b64 true with crit', forge(header({ b64: true, crit: ['b64'] }), payload)],
        ['zip DEF', forge(header({ zip: 'DEF' }), payload)],
        ['enc member (JWE confusion)', forge(header({ enc: 'A256GCM' }), payload)],
      ];
      // RFC 7797 unencoded payload, signed over the raw JSON (the compact form then has extra dots).
      const head = json(header({ b64: false, crit: ['b64'] }));
      const rawPayload = JSON.stringify(payload);
      const unencoded = `${head}.${rawPayload}`;
      cases.push(['b64 false with crit, unencoded payload', `${unencoded}.${b64u(rawSign(privateKey, alg, unencoded))}`]);
      cases.push(['b64 false with crit, encoded payload, signature over the raw payload', `${head}.${b64u(rawPayload)}.${b64u(rawSign(privateKey, alg, unencoded))}`]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-14: __proto__, constructor and friends in claims change nothing, never cause a 5xx, and are never echoed with the wrong type', async () => {
      const base = rawClaims({}).slice(0, -1);
      const payloads: [string, string][] = [
        ['__proto__ with roles, active and scope', `${base},"__proto__":{"roles":["admin"],"active":true,"scope":"admin","isAdmin":true}}`],
        ['constructor.prototype', `${base},"constructor":{"prototype":{"roles":["admin"],"isAdmin":true}}}`],
        ['toString, valueOf, hasOwnProperty', `${base},"toString":"admin","valueOf":1,"hasOwnProperty":"admin"}`],
        ['numeric-string keys', `${base},"0":"admin","1":"admin","length":2}`],
      ];
      for (const [name, payload] of payloads) {
        const response = await introspect(t, forge(header(), payload), 'svc');
        assert.equal(response.statusCode, 200, `${name}: ${response.body}`);
        assert.ok(!response.body.includes('admin'), `${name}: no injected privilege in ${response.body}`);
        const body = response.json() as Record<string, unknown>;
        if (body.active === true) assert.equal(body.scope, 'read', `${name}: the scope is the token’s own`);
      }
      for (const [name, sub] of [['sub __proto__', '__proto__'], ['sub constructor', 'constructor']] as const) {
        const response = await introspect(t, forge(header(), claimsFor({ sub, client_id: 'svc' })), 'svc');
        assert.ok(response.statusCode < 500, `${name}: ${response.statusCode}`);
      }
      // A kid that exists only on the header's prototype is no kid.
      const headerText = `{"alg":"${alg}","typ":"at+jwt","__proto__":{"kid":"${key.kid}"}}`;
      assertInactive(await introspect(t, forge(headerText, claimsFor()), 'svc'), 'kid via __proto__');
      const typProto = `{"alg":"${alg}","kid":"${key.kid}","__proto__":{"typ":"at+jwt"}}`;
      assertInactive(await introspect(t, forge(typProto, claimsFor()), 'svc'), 'typ via __proto__');
      // Claims the response echoes must have their registered types: an object smuggled in as
      // `roles` (e.g. {"__proto__":["admin"]}) or `sid` is a malformed token, not data to pass on
      // to a resource server that may merge it naively.
      const mistyped: string[] = [];
      for (const [name, payload] of [
        ['roles as an object with __proto__', `${base},"roles":{"__proto__":["admin"]}}`],
        ['roles as a string', `${base},"roles":"admin"}`],
        ['roles with a non-string member', `${base},"roles":[{"__proto__":{"admin":true}}]}`],
        ['sid as an object', `${base},"sid":{"__proto__":{"admin":true}}}`],
        ['sid as a number', `${base},"sid":1}`],
        ['gid as an object', `${base},"gid":{"x":1}}`],
        ['gid as an array', `${base},"gid":["a","b"]}`],
      ] as const) {
        const response = await introspect(t, forge(header(), payload), 'svc');
        if (response.statusCode !== 200) {
          mistyped.push(`${name}: ${response.statusCode} ${response.body}`);
          continue;
        }
        const body = response.json() as Record<string, unknown>;
        if (body.active !== true) continue;
        if ('roles' in body && !(Array.isArray(body.roles) && body.roles.every((role) => typeof role === 'string'))) mistyped.push(`${name}: roles echoed as ${JSON.stringify(body.roles)}`);
        if ('sid' in body && typeof body.sid !== 'string') mistyped.push(`${name}: sid echoed as ${JSON.stringify(body.sid)}`);
      }
      assert.deepEqual(mistyped, [], 'mistyped claims are never passed on');
      // Nothing leaked into the process's prototypes.
      const probe: Record<string, unknown> = {};
      for (const name of ['roles', 'isAdmin', 'active', 'scope']) assert.equal(probe[name], undefined, `Object.prototype.${name} is untouched`);
    });

    it('SEC-JWT-15 (P1): non-canonical base64url twins of a valid signature are refused', async () => {
      const [head, payload, signature] = valid.split('.') as [string, string, string];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = signature.at(-1)!;
      const nonCanonical = signature.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
      const cases: [string, string][] = [
        ['padding appended', `${head}.${payload}.${signature}=`],
        ['double padding appended', `${head}.${payload}.${signature}==`],
        ['standard alphabet (+ /)', `${head}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`],
        ['a line break inside', `${head}.${payload}.${signature.slice(0, 20)}\n${signature.slice(20)}`],
        ['a space inside', `${head}.${payload}.${signature.slice(0, 20)} ${signature.slice(20)}`],
        ['non-alphabet characters', `${head}.${payload}.${signature.slice(0, 20)}!${signature.slice(20)}`],
        ['a trailing newline', `${valid}\n`],
        ['a trailing space', `${valid} `],
      ];
      if (nonCanonical !== signature) cases.push(['non-zero unused bits in the last character', `${head}.${payload}.${nonCanonical}`]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('a revoked token stays refused in every encoding twin (revocation keyed on jti, not on bytes)', async () => {
      const token = await clientToken(t, 'svc', { scope: 'read' });
      assert.equal((await revoke(t, token, 'svc')).statusCode, 200);
      const [head, payload, signature] = token.split('.') as [string, string, string];
      const twins: [string, string][] = [
        ['the token itself', token],
        ['padded signature', `${head}.${payload}.${signature}=`],
        ['standard-alphabet signature', `${head}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`],
      ];
      if (alg === 'ES256') {
        // ECDSA malleability: (r, n − s) is another valid signature of the same token.
        const bytes = fromB64u(signature);
        const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
        const highS = Buffer.from((BigInt(`0x${P256_N.toString('hex')}`) - s).toString(16).padStart(64, '0'), 'hex');
        twins.push(['malleated signature (r, n − s)', `${head}.${payload}.${b64u(Buffer.concat([bytes.subarray(0, 32), highS]))}`]);
      }
      assert.deepEqual(await inactiveAll(t, twins), []);
    });

    it('SEC-JWT-16 (P1): structure — segment counts, empty parts, non-object JSON, bad UTF-8, JSON serialization, nesting', async () => {
      const [head, payload, signature] = valid.split('.') as [string, string, string];
      const cases: [string, string][] = [
        ['one dot', '.'], ['two dots', '..'], ['three dots', '...'], ['one segment', head],
        ['two segments', `${head}.${payload}`], ['four segments', `${valid}.x`], ['six segments', `${valid}.x.y.z`], ['trailing dot', `${valid}.`],
        ['empty header', `.${payload}.${signature}`], ['empty payload', `${head}..${signature}`],
        ['leading space', ` ${valid}`],
        ['JWS JSON serialization (flattened)', JSON.stringify({ protected: head, payload, signature })],
        ['JWS JSON serialization (general)', JSON.stringify({ payload, signatures: [{ protected: head, signature }] })],
      ];
      for (const text of ['[]', '"x"', 'null', '1', 'true', '{', '\uFEFF{}']) {
        cases.push([`header JSON ${JSON.stringify(text)}`, forge(text, claimsFor())]);
        cases.push([`payload JSON ${JSON.stringify(text)}`, forge(header(), text)]);
      }
      const badUtf8 = Buffer.concat([Buffer.from(JSON.stringify(header()).slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])]);
      const badInput = `${b64u(badUtf8)}.${json(claimsFor())}`;
      cases.push(['header with invalid UTF-8', `${badInput}.${b64u(rawSign(privateKey, alg, badInput))}`]);
      cases.push(['header with a BOM', forge(`\uFEFF${JSON.stringify(header())}`, claimsFor())]);
      cases.push(['nested JWT (cty JWT)', forge(header({ cty: 'JWT' }), valid)]);
      assert.deepEqual(await inactiveAll(t, cases), []);
    });

    it('SEC-JWT-17: oversized tokens are refused without a 5xx, and the server keeps answering', async () => {
      const payload = claimsFor();
      const nested = `${rawClaims({}).slice(0, -1)},"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      const manyMembers = { ...header(), ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`m${i}`, i])) };
      const cases: [string, string][] = [
        ['10 KB kid', forge(header({ kid: 'k'.repeat(10 * 1024) }), payload)],
        ['64 KB kid', forge(header({ kid: 'k'.repeat(64 * 1024) }), payload)],
        ['aud with 100 000 entries', forge(header(), claimsFor({ aud: Array.from({ length: 100_000 }, (_, i) => `https://r${i}.example`) }))],
        ['JSON nesting depth 10 000', forge(header(), nested)],
        ['10 000 header members', forge(manyMembers, payload)],
        ['1 MB token', `${valid.split('.')[0]}.${b64u(randomBytes(750_000))}.${valid.split('.')[2]}`],
      ];
      for (const [name, token] of cases) {
        const response = await introspect(t, token, 'svc');
        // Inactive, or refused as an invalid (too large) request — never a server error, never active.
        const refused = response.statusCode === 200 ? response.body === '{"active":false}' : [400, 413, 431].includes(response.statusCode);
        assert.ok(refused, `${name}: ${response.statusCode} ${response.body.slice(0, 200)}`);
        assert.ok(!response.body.includes('"active":true'), name);
      }
      assertActive(await introspect(t, valid, 'svc'), 'the server still answers');
    });

    it('forged tokens at /oauth/revoke revoke nothing (a forged jti cannot kill a real token)', async () => {
      const real = await clientToken(t, 'svc', { scope: 'read' });
      const realClaims = JSON.parse(fromB64u(real.split('.')[1]!).toString()) as Record<string, unknown>;
      const forgeries = [
        `${json({ alg: 'none', kid: key.kid, typ: 'at+jwt' })}.${json(realClaims)}.`,
        attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: key.kid }, realClaims),
        hmac('sha256', String(createPublicKey({ key: publicJwk as NodeJWK, format: 'jwk' }).export({ type: 'spki', format: 'pem' })), header({ alg: 'HS256' }), realClaims),
      ];
      for (const forged of forgeries) assert.equal((await revoke(t, forged, 'svc')).statusCode, 200);
      assertActive(await introspect(t, real, 'svc'), 'the real token is untouched');
    });
  });
}

describe('client assertions at the real endpoints (surface S3, SEC-OAUTH-16)', () => {
  let t: TestApp;
  let clientKey: Awaited<ReturnType<typeof generateKeyPair>>;
  let clientJwk: JWK;
  let issuer: string;
  const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

  before(async () => {
    clientKey = await generateKeyPair('ES256', { extractable: true });
    clientJwk = { ...(await exportJWK(clientKey.publicKey)), kid: 'c1', alg: 'ES256', use: 'sig' };
    t = await createOAuthApp({
      clients: fixtureClients({ extra: [{ client_id: 'pkjwt', name: 'pkjwt', type: 'confidential', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [clientJwk] }, grant_types: ['client_credentials'], scopes: ['read'], audiences: [API] }] }),
    });
    issuer = t.config.publicUrl;
  });
  after(() => t.close());

  const assertion = (claims: Record<string, unknown> = {}, head: Record<string, unknown> = { alg: 'ES256', kid: 'c1' }) =>
    new SignJWT({ jti: randomUUID(), ...claims }).setProtectedHeader(head as { alg: string }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(issuer).setIssuedAt().setExpirationTime('60s').sign(clientKey.privateKey);
  const post = (url: string, value: string, params: Record<string, string> = {}) => postForm(t, url, { client_assertion_type: JWT_BEARER, client_assertion: value, ...params });

  it('a valid assertion authenticates at token, revocation and introspection; a replayed one does not', async () => {
    const first = await assertion();
    const token = await post('/oauth/token', first, { grant_type: 'client_credentials' });
    assert.equal(token.statusCode, 200, token.body);
    const accessToken = (token.json() as { access_token: string }).access_token;
    assert.equal((await post('/oauth/token', first, { grant_type: 'client_credentials' })).statusCode, 401, 'replayed jti');
    assertActive(await post('/oauth/introspect', await assertion(), { token: accessToken }));
    assert.equal((await post('/oauth/revoke', await assertion(), { token: accessToken })).statusCode, 200);
    assertInactive(await post('/oauth/introspect', await assertion(), { token: accessToken }));
  });

  /** A correctly ES256-signed assertion from raw header and claims JSON text. */
  const rawAssertion = async (head: string, claims: string): Promise<string> => {
    const input = `${b64u(head)}.${b64u(claims)}`;
    const signature = signBytes('sha256', Buffer.from(input), { key: KeyObject.from(clientKey.privateKey), dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64u(signature)}`;
  };
  const claimsText = () => {
    const at = Math.floor(Date.now() / 1000);
    return `"iss":"pkjwt","sub":"pkjwt","aud":${JSON.stringify(issuer)},"iat":${at},"exp":${at + 60},"jti":${JSON.stringify(randomUUID())}`;
  };

  it('RFC 8725 §3.11 / SEC-JWT-11: an assertion typed as another kind of JWT (at+jwt, logout+jwt …) is refused; JWT or no typ is accepted', async () => {
    for (const typ of ['at+jwt', 'logout+jwt', 'application/at+jwt', 'secevent+jwt', 'dpop+jwt', 'JWS', '', 1]) {
      const response = await post('/oauth/token', await assertion({}, { alg: 'ES256', kid: 'c1', typ }), { grant_type: 'client_credentials' });
      assert.equal(response.statusCode, 401, `typ ${JSON.stringify(typ)}: ${response.body}`);
      assert.equal((response.json() as { error: string }).error, 'invalid_client');
    }
    for (const typ of ['JWT', 'jwt', 'application/jwt', undefined]) {
      const head = { alg: 'ES256', kid: 'c1', ...(typ === undefined ? {} : { typ }) };
      const response = await post('/oauth/token', await assertion({}, head), { grant_type: 'client_credentials' });
      assert.equal(response.statusCode, 200, `typ ${String(typ)}: ${response.body}`);
    }
  });

  it('SEC-JWT-13: an assertion whose header or claims name a member twice is refused, whichever value comes first', async () => {
    const at = Math.floor(Date.now() / 1000);
    const cases: [string, string, string][] = [
      ['exp twice, expired first', '{"alg":"ES256","kid":"c1"}', `{"exp":${at - 3600},${claimsText()}}`],
      ['exp twice, expired last', '{"alg":"ES256","kid":"c1"}', `{${claimsText()},"exp":${at - 3600}}`],
      ['iss twice, another client first', '{"alg":"ES256","kid":"c1"}', `{"iss":"other",${claimsText()}}`],
      ['aud twice', '{"alg":"ES256","kid":"c1"}', `{"aud":"https://evil.example",${claimsText()}}`],
      ['jti twice (replay cache keyed on the other)', '{"alg":"ES256","kid":"c1"}', `{${claimsText()},"jti":"fixed"}`],
      ['header alg twice', '{"alg":"none","alg":"ES256","kid":"c1"}', `{${claimsText()}}`],
      ['header typ twice, at+jwt first', '{"alg":"ES256","typ":"at+jwt","typ":"JWT","kid":"c1"}', `{${claimsText()}}`],
    ];
    for (const [name, head, claims] of cases) {
      const response = await post('/oauth/token', await rawAssertion(head, claims), { grant_type: 'client_credentials' });
      assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
      assert.equal((response.json() as { error: string }).error, 'invalid_client', name);
    }
    const control = await post('/oauth/token', await rawAssertion('{"alg":"ES256","kid":"c1"}', `{${claimsText()}}`), { grant_type: 'client_credentials' });
    assert.equal(control.statusCode, 200, `the same assertion without duplicates is accepted: ${control.body}`);
  });

  it('alg none, HS256 keyed with the client’s public key, an embedded jwk and a wrong audience → invalid_client', async () => {
    const valid = await assertion();
    const [, payload] = valid.split('.') as [string, string];
    const spki = String(createPublicKey({ key: clientJwk as NodeJWK, format: 'jwk' }).export({ type: 'spki', format: 'pem' }));
    const hsInput = `${json({ alg: 'HS256', kid: 'c1' })}.${payload}`;
    const otherKey = await generateKeyPair('ES256', { extractable: true });
    const bad = [
      ['alg none', `${json({ alg: 'none', kid: 'c1' })}.${payload}.`],
      ['HS256 with the public key', `${hsInput}.${b64u(createHmac('sha256', spki).update(hsInput).digest())}`],
      ['embedded jwk of the signing key', await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(otherKey.publicKey) }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(issuer).setIssuedAt().setExpirationTime('60s').sign(otherKey.privateKey)],
      ['wrong audience', await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'c1' }).setIssuer('pkjwt').setSubject('pkjwt').setAudience('https://evil.example').setIssuedAt().setExpirationTime('60s').sign(clientKey.privateKey)],
      ['signed by another key', await new SignJWT({ jti: randomUUID() }).setProtectedHeader({ alg: 'ES256', kid: 'c1' }).setIssuer('pkjwt').setSubject('pkjwt').setAudience(issuer).setIssuedAt().setExpirationTime('60s').sign(otherKey.privateKey)],
    ] as const;
    for (const [name, value] of bad) {
      const response = await post('/oauth/token', value, { grant_type: 'client_credentials' });
      assert.equal(response.statusCode, 401, `${name}: ${response.body}`);
      assert.equal((response.json() as { error: string }).error, 'invalid_client', name);
    }
  });
});
