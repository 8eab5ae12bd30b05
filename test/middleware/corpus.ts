/**
 * The hostile-JWT corpus of security-requirements §3 (SEC-JWT-01…17), as the kit meets it on
 * surface S1 ("any first-party resource server or SDK we ship"). Ported from
 * test/oauth/jwt-attacks.test.ts, which attacks /oauth/introspect. Built from what an attacker
 * has (a valid token, the published keys) plus, for claim and header variants that only a
 * correct signature would reveal, the server's real private key (compromised-issuer simulation).
 * Every case here must be refused; `controls` must be accepted.
 */
import { constants, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign as signBytes, type JsonWebKey as NodeJWK, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

export type Alg = 'ES256' | 'EdDSA' | 'RS256';
export type Case = [name: string, token: string];

export const b64u = (value: Buffer | string): string => Buffer.from(value).toString('base64url');
export const fromB64u = (value: string): Buffer => Buffer.from(value, 'base64url');
export const json = (value: unknown): string => b64u(JSON.stringify(value));

/** P-256 group order. */
export const P256_N = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');
const ED25519_L = (1n << 252n) + 27742317777372353535851937790883648493n;
const toLittleEndian = (value: bigint, bytes: number): Buffer => {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return out;
};
const fromLittleEndian = (buffer: Buffer): bigint => {
  let value = 0n;
  for (let i = buffer.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(buffer[i]!);
  return value;
};

export const attacker = generateKeyPairSync('ec', { namedCurve: 'P-256' });
export const attackerJwk = attacker.publicKey.export({ format: 'jwk' }) as JWK;

export interface Material {
  alg: Alg;
  kid: string;
  privateKey: KeyObject;
  publicJwk: JWK;
  jwksText: string;
  issuer: string;
  audience: string;
  /** A token the server issued (client credentials of svc, scope read). */
  valid: string;
  /** Another one, for transplanted signatures. */
  other: string;
  /** Where a hostile jku/x5u points (a counting server). */
  canaryUrl: string;
  nowSeconds: number;
}

export function rawSign(key: KeyObject, alg: Alg, input: string, options: { dsaEncoding?: 'der' | 'ieee-p1363'; hash?: string; pss?: boolean } = {}): Buffer {
  const data = Buffer.from(input);
  if (alg === 'EdDSA') return signBytes(null, data, key);
  if (alg === 'ES256') return signBytes(options.hash ?? 'sha256', data, { key, dsaEncoding: options.dsaEncoding ?? 'ieee-p1363' });
  return signBytes(options.hash ?? 'sha256', data, options.pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } : key);
}

/** Forging tools bound to the material. */
export function forger(m: Material) {
  const claims = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: m.issuer,
    sub: 'client:svc',
    aud: m.audience,
    iat: m.nowSeconds,
    exp: m.nowSeconds + 300,
    jti: randomUUID(),
    client_id: 'svc',
    scope: 'read',
    ...overrides,
  });
  /** Payload JSON text with members replaced by raw JSON text (undefined = removed). */
  const rawClaims = (raw: Record<string, string | undefined>): string => {
    const members = Object.entries(claims())
      .filter(([name]) => !(name in raw))
      .map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);
    for (const [name, value] of Object.entries(raw)) if (value !== undefined) members.push(`${JSON.stringify(name)}:${value}`);
    return `{${members.join(',')}}`;
  };
  const header = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({ alg: m.alg, kid: m.kid, typ: 'at+jwt', ...overrides });
  const forge = (head: Record<string, unknown> | string, payload: Record<string, unknown> | string, options: Parameters<typeof rawSign>[3] = {}): string => {
    const input = `${b64u(typeof head === 'string' ? head : JSON.stringify(head))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
    return `${input}.${b64u(rawSign(m.privateKey, m.alg, input, options))}`;
  };
  const hmac = (hash: string, secret: Buffer | string, head: Record<string, unknown>, payload: Record<string, unknown>): string => {
    const input = `${json(head)}.${json(payload)}`;
    return `${input}.${b64u(createHmac(hash, secret).update(input).digest())}`;
  };
  const attackerSigned = (head: Record<string, unknown>, payload: Record<string, unknown>): string => {
    const input = `${json(head)}.${json(payload)}`;
    return `${input}.${b64u(signBytes('sha256', Buffer.from(input), { key: attacker.privateKey, dsaEncoding: 'ieee-p1363' }))}`;
  };
  return { claims, rawClaims, header, forge, hmac, attackerSigned };
}

/** Tokens that must be accepted: the issued one and tokens signed with the real key. */
export function controls(m: Material): Case[] {
  const f = forger(m);
  return [
    ['the issued token', m.valid],
    ['forged with the real key', f.forge(f.header(), f.claims())],
    ['raw-claims helper', f.forge(f.header(), f.rawClaims({}))],
    ['multi-valued aud naming the resource', f.forge(f.header(), f.claims({ aud: [m.audience, 'https://evil.example'] }))],
    ['exp 25 s ago (inside the 30 s leeway)', f.forge(f.header(), f.rawClaims({ exp: String(m.nowSeconds - 25), iat: String(m.nowSeconds - 300) }))],
    ['iat 8 s ahead', f.forge(f.header(), f.rawClaims({ iat: String(m.nowSeconds + 8) }))],
    ['nbf 8 s ahead', f.forge(f.header(), f.rawClaims({ nbf: String(m.nowSeconds + 8) }))],
    ['a user token with sid, gid, roles, auth_time', f.forge(f.header(), f.claims({ sub: 'user-1', client_id: 'mobile', sid: 's-1', gid: 'g-1', roles: ['admin'], auth_time: m.nowSeconds }))],
  ];
}

/** Every hostile case, grouped by requirement. */
export function hostileCorpus(m: Material): Record<string, Case[]> {
  const f = forger(m);
  const { alg } = m;
  const [head, payload, signature] = m.valid.split('.') as [string, string, string];
  const groups: Record<string, Case[]> = {};

  const none: Case[] = [];
  for (const value of ['none', 'None', 'NONE', 'nOnE', 'none ', ' none', 'none\u0000', '']) {
    const h = json({ alg: value, kid: m.kid, typ: 'at+jwt' });
    none.push([`alg ${JSON.stringify(value)}, empty signature`, `${h}.${payload}.`]);
    none.push([`alg ${JSON.stringify(value)}, original signature`, `${h}.${payload}.${signature}`]);
    none.push([`alg ${JSON.stringify(value)}, no trailing dot`, `${h}.${payload}`]);
    none.push([`alg ${JSON.stringify(value)}, fresh claims`, `${json({ alg: value, typ: 'at+jwt' })}.${json(f.claims())}.`]);
  }
  none.push(['no alg at all', `${json({ kid: m.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
  none.push(['alg null', `${json({ alg: null, kid: m.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
  none.push(['alg array', `${json({ alg: [alg], kid: m.kid, typ: 'at+jwt' })}.${payload}.${signature}`]);
  groups['SEC-JWT-01 alg none'] = none;

  const other: Case[] = [];
  const claims = f.claims();
  if (alg === 'ES256') {
    other.push(['ES384 with the P-256 key', f.forge(f.header({ alg: 'ES384' }), claims, { hash: 'sha384' })]);
    other.push(['ES512 with the P-256 key', f.forge(f.header({ alg: 'ES512' }), claims, { hash: 'sha512' })]);
    other.push(['ES256K header', f.forge(f.header({ alg: 'ES256K' }), claims)]);
  }
  if (alg === 'RS256') {
    other.push(['PS256 with the RSA key', f.forge(f.header({ alg: 'PS256' }), claims, { pss: true })]);
    other.push(['RS384 with the RSA key', f.forge(f.header({ alg: 'RS384' }), claims, { hash: 'sha384' })]);
    other.push(['RS512 with the RSA key', f.forge(f.header({ alg: 'RS512' }), claims, { hash: 'sha512' })]);
  }
  if (alg === 'EdDSA') other.push(['Ed25519 (fully specified) header', f.forge(f.header({ alg: 'Ed25519' }), claims)]);
  for (const name of ['ES256', 'EdDSA', 'RS256', 'PS256', 'HS256', 'ES384'].filter((value) => value !== alg)) {
    other.push([`header alg ${name} over a ${alg} signature`, f.forge(f.header({ alg: name }), claims)]);
  }
  other.push(['lower-case alg', f.forge(f.header({ alg: alg.toLowerCase() }), claims)]);
  groups['SEC-JWT-02 algorithm bound to the key'] = other;

  const publicKey = createPublicKey({ key: m.publicJwk as NodeJWK, format: 'jwk' });
  const spkiPem = String(publicKey.export({ type: 'spki', format: 'pem' }));
  const secrets: [string, Buffer | string][] = [
    ['SPKI PEM', spkiPem],
    ['SPKI PEM without the final newline', spkiPem.trimEnd()],
    ['SPKI PEM with leading whitespace', `\n  ${spkiPem}`],
    ['SPKI DER', publicKey.export({ type: 'spki', format: 'der' })],
    ['JWK JSON text', JSON.stringify(m.publicJwk)],
    ['JWKS JSON text as served', m.jwksText],
    ['the kid', m.kid],
    ['an empty key', Buffer.alloc(0)],
  ];
  if (m.publicJwk.kty === 'RSA') {
    secrets.push(['PKCS#1 PEM', String(publicKey.export({ type: 'pkcs1', format: 'pem' }))]);
    secrets.push(['raw modulus', fromB64u(m.publicJwk.n!)]);
  } else {
    secrets.push(['raw x', fromB64u(m.publicJwk.x!)]);
    if (m.publicJwk.y) secrets.push(['uncompressed point', Buffer.concat([Buffer.from([4]), fromB64u(m.publicJwk.x!), fromB64u(m.publicJwk.y)])]);
  }
  const confusion: Case[] = [];
  for (const [name, secret] of secrets) {
    for (const [hmacAlg, hash] of [['HS256', 'sha256'], ['HS384', 'sha384'], ['HS512', 'sha512']] as const) {
      confusion.push([`${hmacAlg} keyed with ${name}`, f.hmac(hash, secret, f.header({ alg: hmacAlg }), f.claims())]);
    }
    confusion.push([`HS256 keyed with ${name}, no kid`, f.hmac('sha256', secret, { alg: 'HS256', typ: 'at+jwt' }, f.claims())]);
  }
  groups['SEC-JWT-03 HS/RS key confusion'] = confusion;

  const attackerKid = 'attacker-key';
  const attackerPublic = { ...attackerJwk, kid: attackerKid, alg: 'ES256', use: 'sig' };
  const x5c = randomBytes(300).toString('base64');
  groups['SEC-JWT-04 attacker keys and key URLs'] = [
    ['jwk header with the attacker key, attacker kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jwk: attackerPublic }, f.claims())],
    ['jwk header with the attacker key, our kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: m.kid, jwk: attackerPublic }, f.claims())],
    ['jwk header, no kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', jwk: attackerPublic }, f.claims())],
    ['jku at the canary', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jku: `${m.canaryUrl}/jwks.json` }, f.claims())],
    ['jku at the canary with our kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: m.kid, jku: `${m.canaryUrl}/jwks.json` }, f.claims())],
    ['jku at the metadata address', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, jku: 'http://169.254.169.254/latest/meta-data/' }, f.claims())],
    ['x5u at the canary', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: attackerKid, x5u: `${m.canaryUrl}/cert.pem` }, f.claims())],
    ['x5c', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', x5c: [x5c] }, f.claims())],
    ['x5c, our kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: m.kid, x5c: [x5c] }, f.claims())],
    ['plain forgery with our kid', f.attackerSigned({ alg: 'ES256', typ: 'at+jwt', kid: m.kid }, f.claims())],
    ['our signature with a jku member', f.forge(f.header({ jku: `${m.canaryUrl}/jwks.json` }), f.claims())],
    ['our signature with a jwk member', f.forge(f.header({ jwk: m.publicJwk }), f.claims())],
    ['our signature with an x5u member', f.forge(f.header({ x5u: `${m.canaryUrl}/cert.pem` }), f.claims())],
    ['our signature with an x5c member', f.forge(f.header({ x5c: [x5c] }), f.claims())],
  ];

  const kids: unknown[] = [
    '../../../../dev/null', '/proc/self/environ', "' OR '1'='1", "x' UNION SELECT 'AAAA'--", 'A'.repeat(5000), 'abc\u0000', `${m.kid}\u0000`, `${m.kid} `, ` ${m.kid}`,
    m.kid.toUpperCase() === m.kid ? m.kid.toLowerCase() : m.kid.toUpperCase(), '', '__proto__', 'constructor', 'toString', 'hasOwnProperty', '*', 1, 0, null, true, [m.kid], { kid: m.kid },
  ];
  groups['SEC-JWT-05 kid injection'] = [
    ...kids.map((kid): Case => [`kid ${JSON.stringify(kid).slice(0, 40)}`, f.forge(f.header({ kid }), f.claims())]),
    ['no kid', f.forge({ alg, typ: 'at+jwt' }, f.claims())],
    ['kid ../../dev/null with HS256 and an empty key', f.hmac('sha256', Buffer.alloc(0), { alg: 'HS256', typ: 'at+jwt', kid: '../../../../dev/null' }, f.claims())],
  ];

  const integrity: Case[] = [];
  const flips = (segment: string): string[] => {
    const bytes = fromB64u(segment);
    return Array.from({ length: bytes.length }, (_, index) => {
      const copy = Buffer.from(bytes);
      copy[index]! ^= 1 << (index % 8);
      return b64u(copy);
    });
  };
  flips(head).forEach((mutated, index) => integrity.push([`header bit flip at byte ${index}`, `${mutated}.${payload}.${signature}`]));
  flips(payload).forEach((mutated, index) => integrity.push([`payload bit flip at byte ${index}`, `${head}.${mutated}.${signature}`]));
  flips(signature).forEach((mutated, index) => integrity.push([`signature bit flip at byte ${index}`, `${head}.${payload}.${mutated}`]));
  const signatureBytes = fromB64u(signature);
  integrity.push(['signature truncated by one byte', `${head}.${payload}.${b64u(signatureBytes.subarray(0, -1))}`]);
  integrity.push(['signature truncated by one character', `${head}.${payload}.${signature.slice(0, -1)}`]);
  integrity.push(['signature with an extra byte', `${head}.${payload}.${b64u(Buffer.concat([signatureBytes, Buffer.from([0])]))}`]);
  integrity.push(['empty signature', `${head}.${payload}.`]);
  integrity.push(['signature of another valid token', `${head}.${payload}.${m.other.split('.')[2]}`]);
  const decoded = JSON.parse(fromB64u(payload).toString()) as Record<string, unknown>;
  integrity.push(['payload re-serialised with whitespace', `${head}.${b64u(JSON.stringify(decoded, null, 1))}.${signature}`]);
  integrity.push(['payload members reordered', `${head}.${json(Object.fromEntries(Object.entries(decoded).reverse()))}.${signature}`]);
  integrity.push(['payload with a widened scope', `${head}.${json({ ...decoded, scope: 'read write' })}.${signature}`]);
  const decodedHeader = JSON.parse(fromB64u(head).toString()) as Record<string, unknown>;
  integrity.push(['header members reordered', `${json(Object.fromEntries(Object.entries(decodedHeader).reverse()))}.${payload}.${signature}`]);
  groups['SEC-JWT-06 signature integrity'] = integrity;

  const input = `${json(f.header())}.${json(f.claims())}`;
  const good = rawSign(m.privateKey, alg, input);
  const edge: Case[] = [];
  const withSignature = (name: string, bytes: Buffer): void => void edge.push([name, `${input}.${b64u(bytes)}`]);
  withSignature('all-zero signature of the right length', Buffer.alloc(good.length));
  withSignature('leading byte dropped', good.subarray(1));
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
    withSignature('r + n (33 bytes)', Buffer.concat([Buffer.from((BigInt(`0x${r.toString('hex')}`) + BigInt(`0x${P256_N.toString('hex')}`)).toString(16).padStart(66, '0'), 'hex'), s]));
    withSignature('DER-encoded signature', rawSign(m.privateKey, alg, input, { dsaEncoding: 'der' }));
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
    withSignature('signature = modulus', fromB64u(m.publicJwk.n!));
  }
  groups['SEC-JWT-07 signature edge cases'] = edge;

  // RFC 7515 §5.2, RFC 7519 §4, RFC 8725 §2.6: a member named twice is refused, whichever value
  // comes first — JSON.parse would keep the last, another parser the first.
  const members = f.rawClaims({}).slice(1, -1);
  const duplicates: Case[] = [];
  const hostileValues: [string, string][] = [
    ['exp', String(m.nowSeconds - 3600)],
    ['iss', '"https://evil.example"'],
    ['sub', '"admin"'],
    ['aud', '"https://evil.example"'],
    ['scope', '"admin"'],
    ['client_id', '"other"'],
  ];
  for (const [name, hostile] of hostileValues) {
    duplicates.push([`claims: ${name} twice, hostile value first`, f.forge(f.header(), `{"${name}":${hostile},${members}}`)]);
    duplicates.push([`claims: ${name} twice, hostile value last`, f.forge(f.header(), `{${members},"${name}":${hostile}}`)]);
  }
  duplicates.push(['claims: the same name spelled with an escape (\\u0065xp)', f.forge(f.header(), `{"\\u0065xp":${m.nowSeconds - 3600},${members}}`)]);
  duplicates.push(['claims: scope twice with the same value', f.forge(f.header(), `{${members},"scope":"read"}`)]);
  duplicates.push(['claims: duplicate inside a nested cnf', f.forge(f.header(), `{${members},"cnf":{"jkt":"a","jkt":"b"}}`)]);
  duplicates.push(['claims: duplicate inside a nested act', f.forge(f.header(), `{${members},"act":{"sub":"a","sub":"b"}}`)]);
  const headerRest = `"kid":${JSON.stringify(m.kid)},"typ":"at+jwt"`;
  duplicates.push(['header: alg twice, none last', f.forge(`{"alg":"${alg}","alg":"none",${headerRest}}`, f.claims())]);
  duplicates.push(['header: alg twice, none first', f.forge(`{"alg":"none","alg":"${alg}",${headerRest}}`, f.claims())]);
  duplicates.push(['header: kid twice', f.forge(`{"alg":"${alg}","kid":"other",${headerRest}}`, f.claims())]);
  duplicates.push(['header: typ twice, JWT first', f.forge(`{"alg":"${alg}","typ":"JWT",${headerRest}}`, f.claims())]);
  duplicates.push(['header: typ twice, the same value', f.forge(`{"alg":"${alg}",${headerRest},"typ":"at+jwt"}`, f.claims())]);
  groups['SEC-JWT-13 duplicate member names'] = duplicates;

  const now = m.nowSeconds;
  const times: Case[] = [];
  const variant = (name: string, raw: Record<string, string | undefined>): void => void times.push([name, f.forge(f.header(), f.rawClaims(raw))]);
  variant('exp missing', { exp: undefined });
  variant('exp 35 s ago (beyond the 30 s leeway)', { exp: String(now - 35), iat: String(now - 300) });
  variant('exp an hour ago', { exp: String(now - 3600), iat: String(now - 3900) });
  variant('exp as a string', { exp: `"${now + 300}"` });
  variant('exp with a fraction', { exp: `${now + 300}.5` });
  variant('exp -1', { exp: '-1' });
  variant('exp 0', { exp: '0' });
  variant('exp 1e309 (Infinity)', { exp: '1e309' });
  variant('exp 1e10 (lifetime far above the bound)', { exp: '1e10' });
  variant('exp null', { exp: 'null' });
  variant('exp array', { exp: `[${now + 300}]` });
  variant('exp true', { exp: 'true' });
  variant('exp above 2^53', { exp: '9007199254740993' });
  variant('exp in milliseconds', { exp: String((now + 300) * 1000) });
  variant('iat missing', { iat: undefined });
  variant('iat 35 s in the future', { iat: String(now + 35) });
  variant('iat as a string', { iat: `"${now}"` });
  variant('iat with a fraction', { iat: `${now}.5` });
  variant('iat in milliseconds', { iat: String(now * 1000) });
  variant('iat negative', { iat: '-1' });
  variant('nbf 35 s in the future', { nbf: String(now + 35) });
  variant('nbf as a string', { nbf: `"${now}"` });
  variant('nbf with a fraction', { nbf: `${now}.5` });
  variant('nbf null', { nbf: 'null' });
  variant('auth_time as a string', { auth_time: `"${now}"` });
  groups['SEC-JWT-08/09 time claims and leeway'] = times;

  const issuerAudience: Case[] = [];
  const claimVariant = (name: string, overrides: Record<string, unknown>, remove: string[] = []): void => {
    const body = f.claims(overrides);
    for (const member of remove) delete body[member];
    issuerAudience.push([name, f.forge(f.header(), body)]);
  };
  claimVariant('iss missing', {}, ['iss']);
  claimVariant('iss of another issuer', { iss: 'https://evil.example' });
  claimVariant('iss with a trailing slash', { iss: `${m.issuer}/` });
  claimVariant('iss with another scheme', { iss: m.issuer.replace(/^http:/, 'https:') });
  claimVariant('iss upper-cased', { iss: m.issuer.toUpperCase() });
  claimVariant('iss as an array', { iss: [m.issuer] });
  claimVariant('aud missing', {}, ['aud']);
  claimVariant('aud of another resource', { aud: 'https://evil.example' });
  claimVariant('aud with a trailing slash', { aud: `${m.audience}/` });
  claimVariant('aud upper-cased', { aud: m.audience.toUpperCase() });
  claimVariant('aud a number', { aud: 123 });
  claimVariant('aud null', { aud: null });
  claimVariant('aud an empty array', { aud: [] });
  claimVariant('aud an object', { aud: { 0: m.audience } });
  claimVariant('aud array with a non-string', { aud: [m.audience, 1] });
  claimVariant('sub missing', {}, ['sub']);
  claimVariant('sub a number', { sub: 123 });
  claimVariant('sub empty', { sub: '' });
  claimVariant('sub client:other for client svc', { sub: 'client:other' });
  claimVariant('client_id missing', {}, ['client_id']);
  claimVariant('client_id a number', { client_id: 1 });
  claimVariant('jti missing', {}, ['jti']);
  claimVariant('jti a number', { jti: 7 });
  claimVariant('scope an array', { scope: ['read'] });
  claimVariant('sub with a lone surrogate', { sub: 'user-\ud800' });
  groups['SEC-JWT-10 issuer, audience and claim types'] = issuerAudience;

  const typing: Case[] = [];
  for (const typ of [undefined, 'JWT', 'jwt', 'at+jwt ', 'AT+JWT', 'application/at+jwt', 'at+jwt\u0000', 'logout+jwt', 'dpop+jwt', 'id_token', '', 123, ['at+jwt'], null]) {
    const h: Record<string, unknown> = { alg, kid: m.kid };
    if (typ !== undefined) h.typ = typ;
    typing.push([`typ ${JSON.stringify(typ)}`, f.forge(h, f.claims())]);
  }
  typing.push(['an ID-token-shaped JWT (typ JWT)', f.forge({ alg, kid: m.kid, typ: 'JWT' }, { iss: m.issuer, sub: 'user-1', aud: m.audience, azp: 'svc', nonce: 'n', iat: now, exp: now + 300 })]);
  groups['SEC-JWT-11 explicit typing'] = typing;

  const head2 = json(f.header({ b64: false, crit: ['b64'] }));
  const rawPayload = JSON.stringify(f.claims());
  const unencoded = `${head2}.${rawPayload}`;
  groups['SEC-JWT-12 crit and b64'] = [
    ['crit with an unknown extension', f.forge(f.header({ crit: ['x-unknown'], 'x-unknown': 1 }), f.claims())],
    ['crit empty', f.forge(f.header({ crit: [] }), f.claims())],
    ['crit naming alg', f.forge(f.header({ crit: ['alg'] }), f.claims())],
    ['b64 false without crit', f.forge(f.header({ b64: false }), f.claims())],
    ['b64 true with crit', f.forge(f.header({ b64: true, crit: ['b64'] }), f.claims())],
    ['zip DEF', f.forge(f.header({ zip: 'DEF' }), f.claims())],
    ['enc member (JWE confusion)', f.forge(f.header({ enc: 'A256GCM' }), f.claims())],
    ['b64 false with crit, unencoded payload', `${unencoded}.${b64u(rawSign(m.privateKey, alg, unencoded))}`],
    ['b64 false with crit, encoded payload, signature over the raw payload', `${head2}.${b64u(rawPayload)}.${b64u(rawSign(m.privateKey, alg, unencoded))}`],
  ];

  const base = f.rawClaims({}).slice(0, -1);
  groups['SEC-JWT-14 mistyped claims'] = [
    ['roles as an object with __proto__', f.forge(f.header(), `${base},"roles":{"__proto__":["admin"]}}`)],
    ['roles as a string', f.forge(f.header(), `${base},"roles":"admin"}`)],
    ['roles with a non-string member', f.forge(f.header(), `${base},"roles":[{"__proto__":{"admin":true}}]}`)],
    ['sid as an object', f.forge(f.header(), `${base},"sid":{"__proto__":{"admin":true}}}`)],
    ['sid as a number', f.forge(f.header(), `${base},"sid":1}`)],
    ['gid as an array', f.forge(f.header(), `${base},"gid":["a","b"]}`)],
    ['kid only on the header prototype', f.forge(`{"alg":"${alg}","typ":"at+jwt","__proto__":{"kid":"${m.kid}"}}`, f.claims())],
    ['typ only on the header prototype', f.forge(`{"alg":"${alg}","kid":"${m.kid}","__proto__":{"typ":"at+jwt"}}`, f.claims())],
  ];

  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = signature.at(-1)!;
  const nonCanonical = signature.slice(0, -1) + alphabet[alphabet.indexOf(last) | 1];
  const canonical: Case[] = [
    ['padding appended', `${head}.${payload}.${signature}=`],
    ['standard alphabet (+ /)', `${head}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`],
    ['non-alphabet characters', `${head}.${payload}.${signature.slice(0, 20)}!${signature.slice(20)}`],
    ['a backslash inside', `${head}.${payload}.${signature.slice(0, 20)}\\${signature.slice(20)}`],
  ];
  if (nonCanonical !== signature) canonical.push(['non-zero unused bits in the last character', `${head}.${payload}.${nonCanonical}`]);
  groups['SEC-JWT-15 strict base64url'] = canonical;

  const structure: Case[] = [
    ['one dot', '.'], ['two dots', '..'], ['one segment', head], ['two segments', `${head}.${payload}`], ['four segments', `${m.valid}.x`],
    ['six segments', `${m.valid}.x.y.z`], ['trailing dot', `${m.valid}.`], ['empty header', `.${payload}.${signature}`], ['empty payload', `${head}..${signature}`],
    ['JWS JSON serialization (flattened), base64url-encoded', b64u(JSON.stringify({ protected: head, payload, signature }))],
  ];
  for (const text of ['[]', '"x"', 'null', '1', 'true', '{', '\uFEFF{}']) {
    structure.push([`header JSON ${JSON.stringify(text)}`, f.forge(text, f.claims())]);
    structure.push([`payload JSON ${JSON.stringify(text)}`, f.forge(f.header(), text)]);
  }
  const badUtf8 = Buffer.concat([Buffer.from(JSON.stringify(f.header()).slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])]);
  const badInput = `${b64u(badUtf8)}.${json(f.claims())}`;
  structure.push(['header with invalid UTF-8', `${badInput}.${b64u(rawSign(m.privateKey, alg, badInput))}`]);
  const badPayload = Buffer.concat([Buffer.from(f.rawClaims({}).slice(0, -1)), Buffer.from([0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])]);
  const badPayloadInput = `${json(f.header())}.${b64u(badPayload)}`;
  structure.push(['payload with overlong UTF-8', `${badPayloadInput}.${b64u(rawSign(m.privateKey, alg, badPayloadInput))}`]);
  structure.push(['header with a BOM', f.forge(`\uFEFF${JSON.stringify(f.header())}`, f.claims())]);
  structure.push(['nested JWT (cty JWT)', f.forge(f.header({ cty: 'JWT' }), m.valid)]);
  groups['SEC-JWT-16 structure'] = structure;

  const nested = `${f.rawClaims({}).slice(0, -1)},"deep":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
  groups['SEC-JWT-17 size'] = [
    ['64 KB kid', f.forge(f.header({ kid: 'k'.repeat(64 * 1024) }), f.claims())],
    ['aud with 100 000 entries', f.forge(f.header(), f.claims({ aud: Array.from({ length: 100_000 }, (_, i) => `https://r${i}.example`) }))],
    ['JSON nesting depth 10 000', f.forge(f.header(), nested)],
    ['10 000 header members', f.forge({ ...f.header(), ...Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`m${i}`, i])) }, f.claims())],
    ['1 MB token', `${head}.${b64u(randomBytes(750_000))}.${signature}`],
  ];
  return groups;
}
