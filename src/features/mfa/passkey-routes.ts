import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { randomToken } from '../../crypto/random.ts';
import { emptyBody } from '../../http/schemas.ts';
import { clientInfo } from '../accounts/routes.ts';
import { presentedDevice } from '../password-login/http.ts';
import type { SessionAuth } from '../sessions/http.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { FirstPartyTokens } from '../tokens/first-party.ts';
import { appSignIn, channelOf, credentialField, errors, factorJSON, noStore, pendingFields, signInAnswer, TAGS } from './api-answer.ts';
import { ceremonyCookieBinding, ceremonyCookieValue } from './http.ts';
import { CEREMONY_TTL_MS, derivedBinding, pendingBinding } from './passkeys.ts';
import type { MfaService } from './service.ts';
import type { MfaSignIn } from './sign-in.ts';

const EXPIRES_IN = CEREMONY_TTL_MS / 1000;
const optionsAnswer = (options: unknown, extra: Record<string, unknown> = {}) => ({ options, expires_in: EXPIRES_IN, ...extra });

/** The binding of a ceremony started in a signed-in session (registration, step-up): only that session may answer it. */
export const sessionBinding = (record: SessionRecord): string => derivedBinding('session', record.session.id);

/**
 * Passkeys over the JSON API (docs/mfa.md, "Passkeys on the JSON API"): the WebAuthn options of
 * each ceremony — registration, the second step of a sign-in, step-up and passwordless sign-in —
 * with a fresh single-use challenge bound to its holder. The answers go through the same service
 * functions as the pages (MfaService.addPasskey, MfaSignIn.complete / stepUp / passwordless).
 */
export function registerPasskeyRoutes(app: FastifyInstance, deps: { mfa: MfaService; signIn: MfaSignIn; auth: SessionAuth; firstPartyTokens?: FirstPartyTokens | undefined }): void {
  const { mfa, signIn, auth } = deps;
  const passkeys = mfa.passkeys;

  async function requirePasskey(userId: string): Promise<void> {
    if (!(await mfa.factors(userId)).factors.some((factor) => factor.kind === 'passkey')) throw apiError('invalid_request', 'This account has no passkey.');
  }

  app.post('/api/auth/mfa/passkeys/options', {
    schema: { tags: TAGS, summary: 'Start adding a passkey: PublicKeyCredentialCreationOptions (attestation none, discoverable preferred) bound to this session. Needs a recent second factor when the user has one.', body: emptyBody, response: errors(401, 403) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    // Adding a further factor needs a recent second factor, as on /account/mfa.
    await mfa.requireRecentSecondFactor(record);
    noStore(reply);
    return optionsAnswer(await passkeys.registrationOptions({ id: record.user.id, email: record.user.email, name: record.user.name }, sessionBinding(record)));
  });

  app.post<{ Body: { credential: Record<string, unknown>; name?: string } }>('/api/auth/mfa/passkeys', {
    schema: {
      tags: TAGS,
      summary: 'Finish adding a passkey with the authenticator\'s answer (RegistrationResponseJSON). The first factor also returns 10 recovery codes, shown once.',
      body: { type: 'object', additionalProperties: false, required: ['credential'], properties: { credential: credentialField, name: { type: 'string', maxLength: 64 } } },
      response: errors(400, 401, 403, 409, 429),
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await mfa.requireRecentSecondFactor(record);
    const { factor, recoveryCodes } = await mfa.addPasskey(record.user, { credential: JSON.stringify(request.body.credential), binding: sessionBinding(record), name: request.body.name }, clientInfo(request));
    noStore(reply);
    return { factor: factorJSON(factor), ...(recoveryCodes ? { recovery_codes: recoveryCodes } : {}) };
  });

  app.post<{ Body: { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/passkey/options', {
    schema: {
      tags: TAGS,
      summary: 'Second step with a passkey, when sign-in answered mfa_required with "passkey" among mfa_methods: PublicKeyCredentialRequestOptions for the user\'s passkeys, bound to the pending sign-in. Answer with POST /api/auth/mfa/verify, method passkey.',
      body: { type: 'object', additionalProperties: false, properties: pendingFields },
      response: errors(400, 401),
    },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const pending = await signIn.describe(token, channel);
    if (!pending) throw apiError('unauthenticated', 'This sign-in has expired. Sign in again.');
    if (pending.enrol || !pending.methods.includes('passkey')) throw apiError('invalid_request', 'This sign-in cannot be completed with a passkey.');
    noStore(reply);
    return optionsAnswer(await passkeys.authenticationOptions('second-factor', pendingBinding(token)!, pending.userId));
  });

  app.post<{ Body: { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/passkey/options', {
    schema: {
      tags: TAGS,
      summary: 'When sign-in answered mfa_required with enrolment_required: start adding a passkey instead of an authenticator app. PublicKeyCredentialCreationOptions bound to the pending sign-in (cookie, or mfa_token + client_id). Answer with POST /api/auth/mfa/enrol/passkey.',
      body: { type: 'object', additionalProperties: false, properties: pendingFields },
      response: errors(400, 401),
    },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    noStore(reply);
    return optionsAnswer(await signIn.startPasskeyEnrolment(token, channel));
  });

  app.post<{ Body: { credential: Record<string, unknown>; name?: string; mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/passkey', {
    schema: {
      tags: TAGS,
      summary: 'Finish a required enrolment with the new passkey (RegistrationResponseJSON): completes the sign-in like POST /api/auth/sign-in (cookie, or tokens for a first-party app, bound to its key with a DPoP proof for this URL) and returns the recovery codes once.',
      body: { type: 'object', additionalProperties: false, required: ['credential'], properties: { credential: credentialField, name: { type: 'string', maxLength: 64 }, ...pendingFields } },
      response: errors(400, 401, 409, 429),
    },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const app = await appSignIn(deps, request, reply);
    const result = await signIn.completePasskeyEnrolment(token, channel, { credential: JSON.stringify(request.body.credential), name: request.body.name }, clientInfo(request));
    return signInAnswer(deps, app, reply, result);
  });

  app.post('/api/auth/mfa/step-up/passkey/options', {
    schema: { tags: TAGS, summary: 'Step-up with a passkey: PublicKeyCredentialRequestOptions bound to this session. Answer with POST /api/auth/mfa/step-up, method passkey.', body: emptyBody, response: errors(400, 401) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await requirePasskey(record.user.id);
    noStore(reply);
    return optionsAnswer(await passkeys.authenticationOptions('second-factor', sessionBinding(record), record.user.id));
  });

  app.post<{ Body: { client_id?: string } }>('/api/auth/sign-in/passkey/options', {
    schema: {
      tags: TAGS,
      summary: 'Passwordless sign-in: PublicKeyCredentialRequestOptions for any discoverable passkey. Browsers: bound to this browser (cookie); first-party apps (client_id): to the returned ceremony_token.',
      body: { type: 'object', additionalProperties: false, properties: { client_id: pendingFields.client_id } },
      response: errors(400),
    },
  }, async (request, reply) => {
    noStore(reply);
    const clientId = request.body?.client_id;
    if (clientId === undefined) return optionsAnswer(await passkeys.authenticationOptions('passwordless', ceremonyCookieBinding(request, reply), null));
    if (!deps.firstPartyTokens) throw apiError('unauthorized_client', 'Token sign-in is not available.');
    const client = await deps.firstPartyTokens.client(clientId);
    const ceremonyToken = randomToken(32);
    return optionsAnswer(await passkeys.authenticationOptions('passwordless', derivedBinding(`client:${client.clientId}`, ceremonyToken), null), { ceremony_token: ceremonyToken });
  });

  app.post<{ Body: { credential: Record<string, unknown>; client_id?: string; ceremony_token?: string; device_token?: string } }>('/api/auth/sign-in/passkey', {
    schema: {
      tags: TAGS,
      summary: 'Passwordless sign-in with the authenticator\'s answer (AuthenticationResponseJSON, user verification required): a session cookie, or with client_id + ceremony_token tokens like POST /api/auth/sign-in (bound to the app\'s key with a DPoP proof for this URL). amr: hwk|swk, user, mfa.',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['credential'],
        properties: { credential: credentialField, client_id: pendingFields.client_id, ceremony_token: { type: 'string', minLength: 1, maxLength: 128 }, device_token: { type: 'string', maxLength: 512 } },
      },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const body = request.body;
    const credential = JSON.stringify(body.credential);
    if (body.client_id === undefined) {
      const result = await signIn.passwordless({ credential, binding: ceremonyCookieValue(request), presentedDevice: presentedDevice(request) }, clientInfo(request));
      return signInAnswer(deps, undefined, reply, result);
    }
    if (body.ceremony_token === undefined) throw apiError('invalid_request', 'Send ceremony_token together with client_id.');
    // The client and its DPoP proof (htu: this route) are checked before the passkey is looked at, as at POST /api/auth/sign-in.
    const app = (await appSignIn(deps, request, reply))!;
    const result = await signIn.passwordless({
      credential,
      binding: derivedBinding(`client:${app.client.clientId}`, body.ceremony_token),
      presentedDevice: body.device_token,
      sessionLifetimeMs: deps.firstPartyTokens!.sessionLifetimeMs(app.client),
    }, clientInfo(request));
    return signInAnswer(deps, app, reply, result);
  });
}
