import type { FastifyInstance } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { emptyBody } from '../../http/schemas.ts';
import { clientInfo } from '../accounts/routes.ts';
import type { SessionAuth } from '../sessions/http.ts';
import { publicSession, publicUser } from '../sessions/service.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { FirstPartyTokens } from '../tokens/first-party.ts';
import { appSignIn, channelOf, code, credentialField, errors, factorJSON, noStore, pendingFields, signInAnswer, TAGS } from './api-answer.ts';
import { registerPasskeyRoutes, sessionBinding } from './passkey-routes.ts';
import { pendingBinding } from './passkeys.ts';
import type { MfaService, SecondFactorInput, TotpEnrolment } from './service.ts';
import type { MfaSignIn } from './sign-in.ts';

function enrolmentJSON(enrolment: TotpEnrolment): Record<string, unknown> {
  return { enrolment_id: enrolment.enrolmentId, secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri, qr_svg: enrolment.qrSvg };
}

type SecondFactorBody = { method: 'totp' | 'recovery_code' | 'passkey'; code?: string; credential?: Record<string, unknown> };

/** A second factor from a JSON body: a code, or a passkey's assertion answering a challenge bound to `binding`. */
function secondFactorOf(body: SecondFactorBody, binding: string | undefined): SecondFactorInput {
  if (body.method === 'passkey') {
    if (body.credential === undefined) throw apiError('invalid_request', 'Send the passkey\'s answer as credential.');
    return { method: 'passkey', credential: JSON.stringify(body.credential), binding };
  }
  if (body.code === undefined) throw apiError('invalid_request', 'Send the code.');
  return { method: body.method, code: body.code };
}

/**
 * The MFA JSON API under `/api/auth/mfa/` (docs/mfa.md): factors of the signed-in user, the
 * second step of a sign-in (cookie for browsers; `mfa_token` + `client_id` for first-party
 * apps), the enrolment that policy may demand before it, and step-up.
 */
export function registerMfaRoutes(app: FastifyInstance, deps: { mfa: MfaService; signIn: MfaSignIn; auth: SessionAuth; firstPartyTokens?: FirstPartyTokens; now: () => number }): void {
  const { mfa, signIn, auth } = deps;

  /** Sensitive changes need a second factor proved in the last 15 minutes (when the user has one). */
  async function requireRecent(record: SessionRecord): Promise<void> {
    await mfa.requireRecentSecondFactor(record);
  }

  const secondFactorBody = {
    type: 'object',
    additionalProperties: false,
    required: ['method'],
    properties: { method: { type: 'string', enum: ['totp', 'recovery_code', 'passkey'] }, code, credential: credentialField, ...pendingFields },
  } as const;

  app.get('/api/auth/mfa', {
    schema: { tags: TAGS, summary: 'My second factors (name, added, last used) and how many recovery codes are left.', response: errors(401) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const { factors, recoveryCodesRemaining } = await mfa.factors(record.user.id);
    noStore(reply);
    return { factors: factors.map(factorJSON), recovery_codes_remaining: recoveryCodesRemaining };
  });

  app.post('/api/auth/mfa/totp', {
    schema: { tags: TAGS, summary: 'Start adding an authenticator app: a secret, its otpauth:// URI and QR code (SVG). Confirm with a first code; until then (or 10 minutes) every call returns the same set-up.', body: emptyBody, response: errors(401, 403, 409) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    if (await mfa.hasFactors(record.user.id)) await requireRecent(record);
    noStore(reply);
    return enrolmentJSON(await mfa.startTotp(record.user.id, record.user.email));
  });

  app.post<{ Body: { enrolment_id: string; code: string; name?: string } }>('/api/auth/mfa/totp/confirm', {
    schema: {
      tags: TAGS,
      summary: 'Confirm an authenticator app with its first code. The first factor also returns 10 recovery codes, shown once.',
      body: { type: 'object', additionalProperties: false, required: ['enrolment_id', 'code'], properties: { enrolment_id: { type: 'string', maxLength: 64 }, code, name: { type: 'string', maxLength: 64 } } },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const { factor, recoveryCodes } = await mfa.confirmTotp(record.user.id, record.user.email, { enrolmentId: request.body.enrolment_id, code: request.body.code, name: request.body.name }, clientInfo(request));
    noStore(reply);
    return { factor: factorJSON(factor), ...(recoveryCodes ? { recovery_codes: recoveryCodes } : {}) };
  });

  app.post('/api/auth/mfa/recovery-codes', {
    schema: { tags: TAGS, summary: 'Ten new recovery codes (shown once); the old ones stop working. Needs a recent second factor.', body: emptyBody, response: errors(400, 401, 403) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await requireRecent(record);
    noStore(reply);
    return { recovery_codes: await mfa.regenerateRecoveryCodes(record.user.id, record.user.email, clientInfo(request)) };
  });

  app.patch<{ Params: { id: string }; Body: { name: string } }>('/api/auth/mfa/factors/:id', {
    schema: { tags: TAGS, summary: 'Rename one of my second factors.', body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 64 } } }, response: errors(401, 404) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    if (!(await mfa.rename(record.user.id, request.params.id, request.body.name))) throw apiError('not_found', 'There is no such factor.');
    return reply.code(204).send();
  });

  app.delete<{ Params: { id: string } }>('/api/auth/mfa/factors/:id', {
    schema: { tags: TAGS, summary: 'Remove one of my second factors. Needs a recent second factor.', response: errors(401, 403, 404) },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await requireRecent(record);
    if (!(await mfa.remove(record.user.id, record.user.email, request.params.id, clientInfo(request)))) throw apiError('not_found', 'There is no such factor.');
    return reply.code(204).send();
  });

  app.post<{ Body: SecondFactorBody & { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/verify', {
    schema: { tags: TAGS, summary: 'Second step of a sign-in that answered mfa_required: a TOTP or recovery code, or a passkey\'s assertion (credential) answering POST /api/auth/mfa/passkey/options. Browsers: the pending cookie; apps: mfa_token + client_id (and a DPoP proof for this URL to bind the tokens). Answers like sign-in.', body: secondFactorBody, response: errors(400, 401, 429) },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const factor = secondFactorOf(request.body, pendingBinding(token));
    // A first-party app's client and DPoP proof (htu: this route) are checked before the factor.
    const app = await appSignIn(deps, request, reply);
    const result = await signIn.complete(token, channel, factor, clientInfo(request));
    return signInAnswer(deps, app, reply, result);
  });

  app.post<{ Body: { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/totp', {
    schema: { tags: TAGS, summary: 'When sign-in answered mfa_required with enrolment_required: start adding an authenticator app. Until confirmed (or 10 minutes), every call returns the same set-up, so a scanned QR code stays valid.', body: { type: 'object', additionalProperties: false, properties: pendingFields }, response: errors(400, 401, 409) },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    noStore(reply);
    return enrolmentJSON(await signIn.startEnrolment(token, channel));
  });

  app.post<{ Body: { enrolment_id: string; code: string; name?: string; mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/totp/confirm', {
    schema: {
      tags: TAGS,
      summary: 'Confirm the new authenticator app with its first code: completes the sign-in and returns the recovery codes once. A first-party app (client_id) gets tokens, bound to its key with a DPoP proof for this URL.',
      body: { type: 'object', additionalProperties: false, required: ['enrolment_id', 'code'], properties: { enrolment_id: { type: 'string', maxLength: 64 }, code, name: { type: 'string', maxLength: 64 }, ...pendingFields } },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const app = await appSignIn(deps, request, reply);
    const result = await signIn.completeEnrolment(token, channel, { enrolmentId: request.body.enrolment_id, code: request.body.code, name: request.body.name }, clientInfo(request));
    return signInAnswer(deps, app, reply, result);
  });

  app.post<{ Body: SecondFactorBody }>('/api/auth/mfa/step-up', {
    schema: {
      tags: TAGS,
      summary: 'Prove a second factor in a signed-in session (a code, or a passkey answering POST /api/auth/mfa/step-up/passkey/options): a new session (new cookie) whose amr includes mfa.',
      body: { type: 'object', additionalProperties: false, required: ['method'], properties: { method: secondFactorBody.properties.method, code, credential: credentialField } },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const { token, record: next } = await signIn.stepUp(record, secondFactorOf(request.body, sessionBinding(record)), clientInfo(request));
    auth.setCookie(reply, token);
    noStore(reply);
    return { user: publicUser(next.user), session: publicSession(next.session, next.session.id) };
  });

  registerPasskeyRoutes(app, deps);
}
