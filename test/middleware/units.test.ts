/**
 * The kit's small parts on their own: the SSE parser (every chunk boundary, every line ending),
 * the revocation list (kinds, client iat rule, pruning, at-least-once), JWKS hygiene (SEC-JWT-19:
 * what a key set may hold before the kit uses a key), cookie reading, and configuration errors
 * that name the option to fix.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { createSSEParser, type SSEMessage } from '../../packages/middleware/src/sse.ts';
import { createRevocationList, parseRevocation } from '../../packages/middleware/src/revocation-list.ts';
import { importVerificationKey, parseJWKS } from '../../packages/middleware/src/jwks.ts';
import { cookieValue, readCredentials } from '../../packages/middleware/src/credentials.ts';
import { createAuthenticator, KitConfigError, requirePermission, requireRole, requireScope, type AuthenticatorOptions } from '../../packages/middleware/src/index.ts';

describe('SSE parser', () => {
  const stream = 'retry: 1000\n\nid: 1795339000123\nevent: revocation\ndata: {"kind":"jti","value":"a"}\n\n: ready\n\n: keep-alive\n\nid: 1795339000124\nevent: revocation\ndata: line one\ndata:line two\n\ndata: no event name\n\nid: 7\n\n';
  const parse = (chunks: string[]) => {
    const events: SSEMessage[] = [];
    const comments: string[] = [];
    const retries: number[] = [];
    const parser = createSSEParser({ onEvent: (event) => events.push(event), onComment: (text) => comments.push(text), onRetry: (ms) => retries.push(ms) });
    for (const chunk of chunks) parser.push(chunk);
    return { events, comments, retries };
  };
  const expected = {
    events: [
      { event: 'revocation', data: '{"kind":"jti","value":"a"}', lastEventId: '1795339000123' },
      { event: 'revocation', data: 'line one\nline two', lastEventId: '1795339000124' },
      { event: 'message', data: 'no event name', lastEventId: '1795339000124' },
    ],
    comments: ['ready', 'keep-alive'],
    retries: [1000],
  };

  it('parses the revocation stream in one chunk, split at every position, and one character at a time', () => {
    assert.deepEqual(parse([stream]), expected);
    for (let at = 0; at <= stream.length; at++) assert.deepEqual(parse([stream.slice(0, at), stream.slice(at)]), expected, `split at ${at}`);
    assert.deepEqual(parse([...stream]), expected);
  });

  it('CRLF and CR line endings, including a CRLF split across chunks', () => {
    const crlf = stream.replace(/\n/g, '\r\n');
    assert.deepEqual(parse([crlf]), expected);
    for (let at = 0; at <= crlf.length; at++) assert.deepEqual(parse([crlf.slice(0, at), crlf.slice(at)]), expected, `CRLF split at ${at}`);
    assert.deepEqual(parse([stream.replace(/\n/g, '\r')]), expected);
  });

  it('a line longer than the limit is an error (a broken or hostile stream is dropped and reconnected)', () => {
    const parser = createSSEParser({ onEvent: () => {}, maxLineLength: 1024 });
    assert.throws(() => parser.push(`data: ${'x'.repeat(2000)}`), /too long/);
  });
});

describe('revocation list', () => {
  it('refuses by jti, grant, session; a deleted client only for tokens issued up to its deletion', () => {
    const list = createRevocationList();
    list.apply({ kind: 'jti', value: 'j1', revokedAt: 100, expiresAt: 200 });
    list.apply({ kind: 'grant', value: 'g1', revokedAt: 100, expiresAt: 200 });
    list.apply({ kind: 'session', value: 's1', revokedAt: 100, expiresAt: 200 });
    list.apply({ kind: 'client', value: 'c1', revokedAt: 100, expiresAt: 200 });
    const token = { jti: 'x', clientId: 'c0', iat: 50 };
    assert.equal(list.covers(token), false);
    assert.equal(list.covers({ ...token, jti: 'j1' }), true);
    assert.equal(list.covers({ ...token, gid: 'g1' }), true);
    assert.equal(list.covers({ ...token, sid: 's1' }), true);
    assert.equal(list.covers({ ...token, clientId: 'c1', iat: 100 }), true, 'iat = revoked_at');
    assert.equal(list.covers({ ...token, clientId: 'c1', iat: 101 }), false, 'a re-created client’s later token');
    assert.equal(list.covers({ ...token, jti: '__proto__' }), false, 'prototype names are plain keys');
    assert.equal(list.sessionRevoked('s1'), true);
  });

  it('applying an event twice is harmless, a later deletion widens; entries go after expires_at', () => {
    const list = createRevocationList();
    list.apply({ kind: 'client', value: 'c1', revokedAt: 100, expiresAt: 200 });
    list.apply({ kind: 'client', value: 'c1', revokedAt: 100, expiresAt: 200 });
    list.apply({ kind: 'client', value: 'c1', revokedAt: 150, expiresAt: 250 });
    assert.equal(list.size(), 1);
    assert.equal(list.covers({ jti: 'x', clientId: 'c1', iat: 140 }), true);
    list.prune(249);
    assert.equal(list.size(), 1);
    list.prune(251);
    assert.equal(list.size(), 0);
  });

  it('malformed events are ignored', () => {
    for (const data of ['', 'null', '[]', '{"kind":"user","value":"a","revoked_at":1,"expires_at":2}', '{"kind":"jti","value":"","revoked_at":1,"expires_at":2}', '{"kind":"jti","value":"a","revoked_at":"1","expires_at":2}', '{"kind":"jti","value":"a","revoked_at":1.5,"expires_at":2}']) {
      assert.equal(parseRevocation(data), undefined, data);
    }
    assert.deepEqual(parseRevocation('{"kind":"grant","value":"g","revoked_at":1,"expires_at":2}'), { kind: 'grant', value: 'g', revokedAt: 1, expiresAt: 2 });
  });
});

describe('JWKS hygiene (SEC-JWT-19)', () => {
  const all = new Set(['ES256', 'EdDSA', 'RS256']);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ecJwk: Record<string, unknown> = { ...(ec.publicKey.export({ format: 'jwk' }) as Record<string, unknown>), kid: 'ec', alg: 'ES256', use: 'sig' };

  it('uses public signing keys only, each bound to the one algorithm its type implies', () => {
    assert.ok(importVerificationKey(ecJwk, all), 'a plain P-256 key');
    const cases: [string, unknown][] = [
      ['a private member', { ...(ec.privateKey.export({ format: 'jwk' }) as object), kid: 'p', alg: 'ES256' }],
      ['a symmetric key', { kty: 'oct', k: 'c2VjcmV0', kid: 'o', alg: 'HS256' }],
      ['use enc', { ...ecJwk, use: 'enc' }],
      ['key_ops without verify', { ...ecJwk, key_ops: ['encrypt'] }],
      ['alg contradicting the key type', { ...ecJwk, alg: 'RS256' }],
      ['ES384 on a P-256 key', { ...ecJwk, alg: 'ES384' }],
      ['no kid', { ...ecJwk, kid: undefined }],
      ['an off-curve point', { ...ecJwk, y: ecJwk.x }],
      ['RSA 1024', { ...(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as object), kid: 'r', alg: 'RS256' }],
      ['P-384', { ...(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' }) as object), kid: 'p384' }],
      ['not an object', 'key'],
    ];
    for (const [name, jwk] of cases) assert.equal(importVerificationKey(jwk, all), undefined, name);
    assert.equal(importVerificationKey(ecJwk, new Set(['RS256'])), undefined, 'an algorithm not allowed by the configuration');
  });

  it('a kid published twice is used for neither; a document without keys is not a JWKS', () => {
    const other = { ...(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }) as object), kid: 'ec', alg: 'ES256' };
    assert.equal(parseJWKS({ keys: [ecJwk, other] }, all)?.size, 0);
    assert.equal(parseJWKS({ keys: [ecJwk] }, all)?.size, 1);
    assert.equal(parseJWKS({}, all), undefined);
    assert.equal(parseJWKS([], all), undefined);
  });
});

describe('credentials', () => {
  it('reads the named cookie exactly, first one wins', () => {
    assert.equal(cookieValue('a=1; __Host-gatehouse=abc; b=2', '__Host-gatehouse'), 'abc');
    assert.equal(cookieValue('x__Host-gatehouse=evil; __Host-gatehouse=good', '__Host-gatehouse'), 'good');
    assert.equal(cookieValue('__Host-gatehouse=first; __Host-gatehouse=second', '__Host-gatehouse'), 'first');
    assert.equal(cookieValue('a=1', '__Host-gatehouse'), undefined);
  });

  it('a bearer token wins over a cookie; sessions off ignores cookies', () => {
    assert.deepEqual(readCredentials({ authorization: 'Bearer abc', cookie: '__Host-gatehouse=x' }, '__Host-gatehouse'), { kind: 'bearer', token: 'abc' });
    assert.deepEqual(readCredentials({ authorization: 'Basic abc', cookie: '__Host-gatehouse=x' }, '__Host-gatehouse'), { kind: 'cookie', value: 'x' });
    assert.deepEqual(readCredentials({ cookie: '__Host-gatehouse=x' }, undefined), { kind: 'none' });
  });
});

describe('configuration', () => {
  const base: AuthenticatorOptions = { issuer: 'https://id.example.com', audience: 'https://api.example.com', revocations: false };
  const rejects = (options: Partial<AuthenticatorOptions> & Record<string, unknown>, key: string) =>
    assert.throws(() => createAuthenticator({ ...base, ...options } as AuthenticatorOptions), (error: unknown) => error instanceof KitConfigError && error.key === key, key);

  it('start-up errors name the option and the fix', () => {
    rejects({ revocations: undefined }, 'revocations');
    rejects({ audience: [] }, 'audience');
    rejects({ audience: '' }, 'audience');
    rejects({ issuer: '' }, 'issuer');
    rejects({ issuer: 'http://id.example.com' }, 'serverUrl');
    rejects({ serverUrl: 'ftp://id.example.com' }, 'serverUrl');
    rejects({ serverUrl: 'https://id.example.com/?x=1' }, 'serverUrl');
    rejects({ clockToleranceSeconds: 300 }, 'clockToleranceSeconds');
    rejects({ clockToleranceSeconds: 1.5 }, 'clockToleranceSeconds');
    rejects({ algorithms: ['HS256' as never] }, 'algorithms');
    rejects({ algorithms: [] }, 'algorithms');
    rejects({ realm: 'a"b' }, 'realm');
    rejects({ session: { cookieName: 'bad name' } }, 'session.cookieName');
    rejects({ revocations: { clientId: 'rs', clientSecret: '' } }, 'revocations.clientSecret');
    rejects({ revocations: { clientId: 'rs', clientSecret: 's', whenUnavailable: 'fail-open' as never } }, 'revocations.whenUnavailable');
    assert.throws(() => createAuthenticator({ ...base, revocations: { clientId: 'rs', clientSecret: 'super-secret-value', whenUnavailable: 'x' as never } }), (error: Error) => !error.message.includes('super-secret-value'), 'no secret in the message');
  });

  it('http:// is fine for loopback and with allowInsecureHttp; guards check their names', async () => {
    for (const serverUrl of ['http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000']) await createAuthenticator({ ...base, serverUrl, jwks: { minCacheSeconds: 0 } }).close();
    await createAuthenticator({ ...base, serverUrl: 'http://10.255.255.1:3000', allowInsecureHttp: true }).close();
    assert.throws(() => requireScope(), TypeError);
    assert.throws(() => requireScope('a b'), TypeError);
    assert.throws(() => requireScope('a"'), TypeError);
    assert.throws(() => requireRole(''), TypeError);
    assert.throws(() => requirePermission(), TypeError);
    assert.throws(() => requirePermission('has space'), TypeError);
  });
});
