/**
 * A software WebAuthn authenticator for tests, on node:crypto only: ES256 (P-256) key pairs,
 * genuine `none` attestation objects (CBOR, attested credential data with a COSE_Key), and
 * assertions signed over authenticatorData ‖ SHA-256(clientDataJSON) as WebAuthn §6.3.3 says,
 * with the signature counter kept per credential. It plays the browser's part as well (the
 * clientDataJSON with the page's origin). Nothing in it knows Gatehouse: the server verifies its
 * output with @simplewebauthn/server exactly as it verifies a real authenticator's.
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

type CborValue = number | string | Buffer | CborValue[] | Map<CborValue, CborValue>;

function cborHead(major: number, length: number): Buffer {
  if (length < 24) return Buffer.from([(major << 5) | length]);
  if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
  if (length < 0x10000) {
    const head = Buffer.alloc(3);
    head[0] = (major << 5) | 25;
    head.writeUInt16BE(length, 1);
    return head;
  }
  const head = Buffer.alloc(5);
  head[0] = (major << 5) | 26;
  head.writeUInt32BE(length, 1);
  return head;
}

/** RFC 8949 encoding of the few types WebAuthn needs (unsigned/negative ints, bytes, text, arrays, maps). */
export function cbor(value: CborValue): Buffer {
  if (typeof value === 'number') return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([cborHead(3, bytes.length), bytes]);
  }
  if (Buffer.isBuffer(value)) return Buffer.concat([cborHead(2, value.length), value]);
  if (Array.isArray(value)) return Buffer.concat([cborHead(4, value.length), ...value.map(cbor)]);
  return Buffer.concat([cborHead(5, value.size), ...[...value].flatMap(([key, item]) => [cbor(key), cbor(item)])]);
}

const b64u = (bytes: Buffer): string => bytes.toString('base64url');
const sha256 = (data: Buffer | string): Buffer => createHash('sha256').update(data).digest();

// WebAuthn §6.1 authenticator data flags.
const UP = 0x01;
const UV = 0x04;
const AT = 0x40;

export interface SoftCredential {
  id: Buffer;
  rpId: string;
  userHandle: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  signCount: number;
}

/** The parts of PublicKeyCredentialCreationOptionsJSON / RequestOptionsJSON the authenticator reads. */
export interface CreationOptions { challenge: string; rp: { id?: string; name: string }; user: { id: string; name: string } }
export interface RequestOptions { challenge: string; rpId?: string; allowCredentials?: { id: string }[] }

export interface SoftAuthenticator {
  readonly credentials: SoftCredential[];
  register(options: CreationOptions): Record<string, unknown>;
  assert(options: RequestOptions): Record<string, unknown>;
  /** Another authenticator holding copies of these keys (a cloned authenticator), with the given counters. */
  clone(signCount: number): SoftAuthenticator;
}

/** COSE_Key (RFC 9053 §7.1.1) of an EC2 P-256 public key for ES256: kty 2, alg -7, crv 1, x, y. */
function coseKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return cbor(new Map<CborValue, CborValue>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
}

function counterBytes(count: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(count >>> 0, 0);
  return bytes;
}

/**
 * `origin`: what the "browser" puts in clientDataJSON; `userVerified`: whether the authenticator
 * verifies the user (UV flag); `rpId` defaults to the origin's hostname (the browser's check).
 */
export function createSoftAuthenticator(options: { origin: string; userVerified?: boolean; credentials?: SoftCredential[] }): SoftAuthenticator {
  const credentials: SoftCredential[] = options.credentials ?? [];
  const flags = UP | (options.userVerified === false ? 0 : UV);
  const clientData = (type: string, challenge: string) => Buffer.from(JSON.stringify({ type, challenge, origin: options.origin, crossOrigin: false }));
  const browserRpId = new URL(options.origin).hostname;

  return {
    credentials,

    register(creation) {
      const rpId = creation.rp.id ?? browserRpId;
      // The browser refuses an RP ID that is not the origin's registrable domain (WebAuthn §5.1.3 step 8).
      if (rpId !== browserRpId) throw new Error(`SecurityError: rp.id ${rpId} for ${options.origin}`);
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const id = randomBytes(32);
      const credential: SoftCredential = { id, rpId, userHandle: Buffer.from(creation.user.id, 'base64url'), privateKey, publicKey, signCount: 0 };
      credentials.push(credential);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length, 0);
      const attested = Buffer.concat([Buffer.alloc(16) /* AAGUID: none */, idLength, id, coseKey(publicKey)]);
      const authData = Buffer.concat([sha256(rpId), Buffer.from([flags | AT]), counterBytes(0), attested]);
      const attestationObject = cbor(new Map<CborValue, CborValue>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]]));
      return {
        id: b64u(id),
        rawId: b64u(id),
        type: 'public-key',
        response: { clientDataJSON: b64u(clientData('webauthn.create', creation.challenge)), attestationObject: b64u(attestationObject), transports: ['internal'] },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },

    assert(request) {
      const rpId = request.rpId ?? browserRpId;
      const allowed = (request.allowCredentials ?? []).map((item) => item.id);
      const credential = credentials.find((item) => item.rpId === rpId && (allowed.length === 0 || allowed.includes(b64u(item.id))));
      if (!credential) throw new Error('NotAllowedError: no credential for this request');
      credential.signCount += 1;
      const authenticatorData = Buffer.concat([sha256(rpId), Buffer.from([flags]), counterBytes(credential.signCount)]);
      const clientDataJSON = clientData('webauthn.get', request.challenge);
      // WebAuthn §6.3.3 step 11: the signature covers authenticatorData ‖ hash(clientDataJSON); ES256 in DER (§6.5.5).
      const signature = sign('sha256', Buffer.concat([authenticatorData, sha256(clientDataJSON)]), credential.privateKey);
      return {
        id: b64u(credential.id),
        rawId: b64u(credential.id),
        type: 'public-key',
        response: { clientDataJSON: b64u(clientDataJSON), authenticatorData: b64u(authenticatorData), signature: b64u(signature), userHandle: b64u(credential.userHandle) },
        clientExtensionResults: {},
        authenticatorAttachment: 'platform',
      };
    },

    clone(signCount) {
      return createSoftAuthenticator({ ...options, credentials: credentials.map((item) => ({ ...item, signCount })) });
    },
  };
}
