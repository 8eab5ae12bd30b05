/**
 * The hostile-JWT corpus of security-requirements §3 applied to DPoP proofs (RFC 9449 §4.3) as a
 * surface of their own: the token endpoint and the kit both meet every case here and must refuse
 * it. Proofs are built by hand with node:crypto (helpers of corpus.ts) so that every malformed
 * spelling can be produced; `dpopControls` are correctly made proofs that must pass.
 */
import { createHash, createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign as signBytes, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { b64u, json, P256_N, rawSign, type Case } from './corpus.ts';

export type ProofAlg = 'ES256' | 'EdDSA' | 'RS256' | 'PS256';

export interface ProofMaterial {
  alg: ProofAlg;
  privateKey: KeyObject;
  publicJwk: JWK;
  method: string;
  url: string;
  /** Presented with the proof at a resource: `ath` is required. */
  accessToken?: string;
  nowSeconds: number;
}

export function proofKeys(alg: ProofAlg): { privateKey: KeyObject; publicJwk: JWK } {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : alg === 'EdDSA' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = pair.publicKey.export({ format: 'jwk' }) as JWK;
  return { privateKey: pair.privateKey, publicJwk };
}

const athOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

function signWith(key: KeyObject, alg: ProofAlg, input: string, options: { hash?: string; dsaEncoding?: 'der' | 'ieee-p1363' } = {}): Buffer {
  return alg === 'PS256' ? rawSign(key, 'RS256', input, { pss: true }) : rawSign(key, alg, input, options);
}

/** Proof builders bound to the material. */
export function proofForger(m: ProofMaterial) {
  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const value: Record<string, unknown> = { jti: randomUUID(), htm: m.method, htu: m.url, iat: m.nowSeconds, ...(m.accessToken ? { ath: athOf(m.accessToken) } : {}), ...overrides };
    for (const [name, member] of Object.entries(value)) if (member === undefined) delete value[name];
    return value;
  };
  const header = (overrides: Record<string, unknown> = {}): Record<string, unknown> => {
    const value: Record<string, unknown> = { alg: m.alg, typ: 'dpop+jwt', jwk: m.publicJwk, ...overrides };
    for (const [name, member] of Object.entries(value)) if (member === undefined) delete value[name];
    return value;
  };
  const forge = (head: Record<string, unknown> | string, payload: Record<string, unknown> | string, options: { key?: KeyObject; alg?: ProofAlg; hash?: string; dsaEncoding?: 'der' | 'ieee-p1363' } = {}): string => {
    const input = `${b64u(typeof head === 'string' ? head : JSON.stringify(head))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
    return `${input}.${b64u(signWith(options.key ?? m.privateKey, options.alg ?? m.alg, input, options))}`;
  };
  const hmac = (secret: Buffer | string, head: Record<string, unknown>, payload: Record<string, unknown>): string => {
    const input = `${json(head)}.${json(payload)}`;
    return `${input}.${b64u(createHmac('sha256', secret).update(input).digest())}`;
  };
  /** Payload text with raw JSON members (for duplicates and odd number spellings). */
  const rawPayload = (raw: string): string => {
    const base = JSON.stringify(claims());
    return `${base.slice(0, -1)},${raw}}`;
  };
  return { claims, header, forge, hmac, rawPayload };
}

export function dpopControls(m: ProofMaterial): Case[] {
  const f = proofForger(m);
  return [
    ['a correct proof', f.forge(f.header(), f.claims())],
    ['iat 10 s ago', f.forge(f.header(), f.claims({ iat: m.nowSeconds - 10 }))],
    ['iat 10 s ahead', f.forge(f.header(), f.claims({ iat: m.nowSeconds + 10 }))],
    ['extra claims and a nonce', f.forge(f.header(), f.claims({ nonce: 'n-1', extra: { nested: true } }))],
    ['jwk with matching alg and use', f.forge(f.header({ jwk: { ...m.publicJwk, alg: m.alg, use: 'sig' } }), f.claims())],
  ];
}

/** Every hostile proof, grouped by requirement. */
export function hostileProofs(m: ProofMaterial): Record<string, Case[]> {
  const f = proofForger(m);
  const good = f.forge(f.header(), f.claims());
  const [head, payload, signature] = good.split('.') as [string, string, string];
  const groups: Record<string, Case[]> = {};

  const none: Case[] = [];
  for (const value of ['none', 'None', 'NONE', 'nOnE', 'none ', '']) {
    none.push([`alg ${JSON.stringify(value)}, empty signature`, `${json(f.header({ alg: value }))}.${payload}.`]);
    none.push([`alg ${JSON.stringify(value)}, original signature`, `${json(f.header({ alg: value }))}.${payload}.${signature}`]);
  }
  none.push(['no alg', `${json(f.header({ alg: undefined }))}.${payload}.${signature}`]);
  none.push(['no trailing dot', `${head}.${payload}`]);
  groups['SEC-JWT-01 alg none'] = none;

  const otherAlgs: Case[] = [];
  for (const name of ['ES256', 'EdDSA', 'RS256', 'PS256', 'ES384', 'RS512', 'HS256', 'es256'].filter((value) => value !== m.alg)) {
    otherAlgs.push([`header alg ${name} over a ${m.alg} signature`, f.forge(f.header({ alg: name }), f.claims())]);
  }
  if (m.alg === 'ES256') otherAlgs.push(['ES384 signature with the P-256 key', f.forge(f.header({ alg: 'ES384' }), f.claims(), { hash: 'sha384' })]);
  if (m.alg === 'RS256') otherAlgs.push(['PS256 signature under an RS256 header', f.forge(f.header(), f.claims(), { alg: 'PS256' })]);
  if (m.alg === 'PS256') otherAlgs.push(['RS256 signature under a PS256 header', f.forge(f.header(), f.claims(), { alg: 'RS256' })]);
  otherAlgs.push(['jwk alg contradicts the header', f.forge(f.header({ jwk: { ...m.publicJwk, alg: m.alg === 'ES256' ? 'RS256' : 'ES256' } }), f.claims())]);
  otherAlgs.push(['jwk use enc', f.forge(f.header({ jwk: { ...m.publicJwk, use: 'enc' } }), f.claims())]);
  groups['SEC-JWT-02 algorithm bound to the key'] = otherAlgs;

  const publicKey = createPublicKey({ key: m.publicJwk as never, format: 'jwk' });
  const secrets: [string, Buffer | string][] = [
    ['the JWK JSON text', JSON.stringify(m.publicJwk)],
    ['SPKI PEM', String(publicKey.export({ type: 'spki', format: 'pem' }))],
    ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
    ['an empty key', Buffer.alloc(0)],
    [m.publicJwk.kty === 'RSA' ? 'the raw modulus' : 'the raw x', Buffer.from((m.publicJwk.n ?? m.publicJwk.x)!, 'base64url')],
  ];
  groups['SEC-JWT-03 HMAC keyed with the public key'] = secrets.map(([name, secret]) => [`HS256 keyed with ${name}`, f.hmac(secret, f.header({ alg: 'HS256' }), f.claims())] as Case);

  const other = proofKeys(m.alg);
  const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const privateJwk = m.privateKey.export({ format: 'jwk' }) as JWK;
  const keys: Case[] = [
    ['jwk with the private key members', f.forge(f.header({ jwk: privateJwk }), f.claims())],
    ['symmetric jwk (kty oct) with HS256', f.hmac('attacker-secret', f.header({ alg: 'HS256', jwk: { kty: 'oct', k: b64u('attacker-secret') } }), f.claims())],
    ['no jwk', f.forge(f.header({ jwk: undefined }), f.claims())],
    ['jwk as a string', f.forge(f.header({ jwk: JSON.stringify(m.publicJwk) }), f.claims())],
    ['jwk of another key than the signing one', f.forge(f.header({ jwk: other.publicJwk }), f.claims())],
    ['a P-384 key under ES256', f.forge(f.header({ alg: 'ES256', jwk: p384.publicKey.export({ format: 'jwk' }) }), f.claims(), { key: p384.privateKey, alg: 'ES256' })],
    ['an RSA key of 1024 bits', f.forge(f.header({ alg: 'RS256', jwk: rsa1024.publicKey.export({ format: 'jwk' }) }), f.claims(), { key: rsa1024.privateKey, alg: 'RS256' })],
    ['a kid beside the jwk', f.forge(f.header({ kid: 'attacker' }), f.claims())],
    ['jku', f.forge(f.header({ jku: 'http://169.254.169.254/jwks' }), f.claims())],
    ['x5u', f.forge(f.header({ x5u: 'http://127.0.0.1:9/cert.pem' }), f.claims())],
    ['x5c', f.forge(f.header({ x5c: ['MIIB'] }), f.claims())],
    ['jwk with a padded x/n', f.forge(f.header({ jwk: { ...m.publicJwk, ...(m.publicJwk.n ? { n: `${m.publicJwk.n}=` } : { x: `${m.publicJwk.x}=` }) } }), f.claims())],
  ];
  groups['SEC-JWT-04 embedded and attacker-chosen keys'] = keys;

  const flip = (text: string, index: number): string => {
    const bytes = Buffer.from(text, 'base64url');
    bytes[index % bytes.length]! ^= 0x01;
    return b64u(bytes);
  };
  const secondProof = f.forge(f.header(), f.claims());
  groups['SEC-JWT-06 signature integrity'] = [
    ['a bit flipped in the signature', `${head}.${payload}.${flip(signature, 3)}`],
    ['a bit flipped in the payload', `${head}.${flip(payload, 10)}.${signature}`],
    ['a bit flipped in the header', `${flip(head, 5)}.${payload}.${signature}`],
    ['the signature one byte short', `${head}.${payload}.${b64u(Buffer.from(signature, 'base64url').subarray(1))}`],
    ['the signature of another proof', `${head}.${payload}.${secondProof.split('.')[2]}`],
    ['the payload re-serialised with spaces', `${head}.${b64u(JSON.stringify(JSON.parse(Buffer.from(payload, 'base64url').toString()), null, 1))}.${signature}`],
  ];

  if (m.alg === 'ES256') {
    const input = `${b64u(JSON.stringify(f.header()))}.${b64u(JSON.stringify(f.claims()))}`;
    groups['SEC-JWT-07 ECDSA edge cases'] = [
      ['r = s = 0', `${input}.${b64u(Buffer.alloc(64))}`],
      ['r = s = n', `${input}.${b64u(Buffer.concat([P256_N, P256_N]))}`],
      ['a DER signature', `${input}.${b64u(signBytes('sha256', Buffer.from(input), { key: m.privateKey, dsaEncoding: 'der' }))}`],
    ];
  }

  groups['typ (RFC 9449 §4.2)'] = [
    ['no typ', f.forge(f.header({ typ: undefined }), f.claims())],
    ['typ JWT', f.forge(f.header({ typ: 'JWT' }), f.claims())],
    ['typ at+jwt', f.forge(f.header({ typ: 'at+jwt' }), f.claims())],
    ['typ dpop+jwt with a space', f.forge(f.header({ typ: 'dpop+jwt ' }), f.claims())],
  ];

  groups['SEC-JWT-12 crit and b64'] = [
    ['crit unknown', f.forge(f.header({ crit: ['x-unknown'], 'x-unknown': 1 }), f.claims())],
    ['crit empty', f.forge(f.header({ crit: [] }), f.claims())],
    ['b64 false', f.forge(f.header({ b64: false, crit: ['b64'] }), f.claims())],
  ];

  const headerText = JSON.stringify(f.header());
  groups['SEC-JWT-13 duplicate members'] = [
    ['typ twice in the header', f.forge(`${headerText.slice(0, -1)},"typ":"JWT"}`, f.claims())],
    ['alg twice in the header', f.forge(`{"alg":"none",${headerText.slice(1)}`, f.claims())],
    ['x twice in the jwk', f.forge(headerText.replace('"x":', `"x":"${m.publicJwk.x ?? 'AAAA'}","x":`).replace('"n":', `"n":"${m.publicJwk.n ?? ''}","n":`), f.claims())],
    ['htu twice in the payload', f.forge(f.header(), f.rawPayload(`"htu":"${m.url}"`))],
    ['jti twice in the payload', f.forge(f.header(), f.rawPayload('"jti":"other"'))],
  ];

  groups['SEC-JWT-14 prototype members'] = [
    ['htm only under __proto__', f.forge(f.header(), `{"jti":"${randomUUID()}","htu":"${m.url}","iat":${m.nowSeconds},"__proto__":{"htm":"${m.method}"}}`)],
    ['jwk only under __proto__', f.forge(`{"alg":"${m.alg}","typ":"dpop+jwt","__proto__":{"jwk":${JSON.stringify(m.publicJwk)}}}`, f.claims())],
  ];

  // A proof whose signature has a character that differs between the alphabets (- or _).
  let sample = good;
  while (!/[-_]/.test(sample.split('.')[2]!)) sample = f.forge(f.header(), f.claims());
  const [sampleHead, samplePayload, sampleSignature] = sample.split('.') as [string, string, string];
  const standardAlphabet = `${sampleHead}.${samplePayload}.${Buffer.from(sampleSignature, 'base64url').toString('base64').replace(/=+$/, '')}`;
  groups['SEC-JWT-15/16/17 shape'] = [
    ['padded signature', `${good}=`],
    ['standard-alphabet signature', standardAlphabet],
    ['whitespace inside', `${head}.${payload} .${signature}`],
    ['two segments', `${head}.${payload}`],
    ['four segments', `${good}.${signature}`],
    ['payload is an array', f.forge(f.header(), '[1]')],
    ['header is not JSON', f.forge('not json', f.claims())],
    ['JWS JSON serialization', JSON.stringify({ protected: head, payload, signature })],
    ['a proof of 20 000 characters', f.forge(f.header({ pad: 'x'.repeat(20_000) }), f.claims())],
  ];

  groups['claims (RFC 9449 §4.2)'] = [
    ['no jti', f.forge(f.header(), f.claims({ jti: undefined }))],
    ['no htm', f.forge(f.header(), f.claims({ htm: undefined }))],
    ['no htu', f.forge(f.header(), f.claims({ htu: undefined }))],
    ['no iat', f.forge(f.header(), f.claims({ iat: undefined }))],
    ['jti empty', f.forge(f.header(), f.claims({ jti: '' }))],
    ['jti a number', f.forge(f.header(), f.claims({ jti: 12345 }))],
    ['iat a string', f.forge(f.header(), f.claims({ iat: String(m.nowSeconds) }))],
    ['iat fractional', f.forge(f.header(), f.claims({ iat: m.nowSeconds + 0.5 }))],
    ['iat in milliseconds', f.forge(f.header(), f.claims({ iat: m.nowSeconds * 1000 }))],
    ['iat 31 s ago', f.forge(f.header(), f.claims({ iat: m.nowSeconds - 31 }))],
    ['iat 31 s ahead', f.forge(f.header(), f.claims({ iat: m.nowSeconds + 31 }))],
    ['htm an array', f.forge(f.header(), f.claims({ htm: [m.method] }))],
  ];

  const url = new URL(m.url);
  const otherMethod = m.method === 'GET' ? 'POST' : 'GET';
  groups['htm / htu variants'] = [
    [`htm ${otherMethod}`, f.forge(f.header(), f.claims({ htm: otherMethod }))],
    ['htm lower-case', f.forge(f.header(), f.claims({ htm: m.method.toLowerCase() }))],
    ['htu with a query', f.forge(f.header(), f.claims({ htu: `${m.url}?a=1` }))],
    ['htu with a fragment', f.forge(f.header(), f.claims({ htu: `${m.url}#f` }))],
    ['htu with a trailing slash', f.forge(f.header(), f.claims({ htu: `${m.url}/` }))],
    ['htu of another path', f.forge(f.header(), f.claims({ htu: `${url.origin}/elsewhere` }))],
    ['htu of another host', f.forge(f.header(), f.claims({ htu: `${url.protocol}//evil.example${url.pathname}` }))],
    ['htu with the other scheme', f.forge(f.header(), f.claims({ htu: `${url.protocol === 'https:' ? 'http:' : 'https:'}//${url.host}${url.pathname}` }))],
    ['htu with another port', f.forge(f.header(), f.claims({ htu: `${url.protocol}//${url.hostname}:1${url.pathname}` }))],
    ['htu with user info', f.forge(f.header(), f.claims({ htu: `${url.protocol}//user@${url.host}${url.pathname}` }))],
    ['htu relative', f.forge(f.header(), f.claims({ htu: url.pathname }))],
  ];

  if (m.accessToken) {
    groups['ath (RFC 9449 §4.2, §7)'] = [
      ['no ath', f.forge(f.header(), f.claims({ ath: undefined }))],
      ['ath of another token', f.forge(f.header(), f.claims({ ath: athOf(`${m.accessToken}x`) }))],
      ['ath padded', f.forge(f.header(), f.claims({ ath: `${athOf(m.accessToken)}=` }))],
    ];
  }
  return groups;
}
