import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { emptyBody, errorResponse } from '../../http/schemas.ts';
import { clientInfo } from '../accounts/routes.ts';
import { setDeviceCookie } from '../password-login/http.ts';
import type { SessionAuth } from '../sessions/http.ts';
import { publicSession, publicUser } from '../sessions/service.ts';
import type { SessionRecord } from '../sessions/store.ts';
import type { FirstPartyTokens } from '../tokens/first-party.ts';
import { clearPendingCookie, pendingCookieValue } from './http.ts';
import type { CodeFactorInput, FactorView, MfaService, TotpEnrolment } from './service.ts';
import type { CompletedSignIn, MfaSignIn } from './sign-in.ts';

const TAGS = ['mfa'];
const code = { type: 'string', minLength: 1, maxLength: 64 } as const;
const pendingFields = { mfa_token: { type: 'string', minLength: 1, maxLength: 128 }, client_id: { type: 'string', minLength: 1, maxLength: 128 } } as const;
const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((status) => [status, errorResponse]));
const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');

export function factorJSON(factor: FactorView): Record<string, unknown> {
  return { id: factor.id, kind: factor.kind, name: factor.name, created_at: new Date(factor.createdAt).toISOString(), last_used_at: factor.lastUsedAt === null ? null : new Date(factor.lastUsedAt).toISOString() };
}

function enrolmentJSON(enrolment: TotpEnrolment): Record<string, unknown> {
  return { enrolment_id: enrolment.enrolmentId, secret: enrolment.secret, otpauth_uri: enrolment.otpauthUri, qr_svg: enrolment.qrSvg };
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

  /** Whose pending sign-in: a first-party app's (token + client_id) or this browser's (cookie). */
  function channelOf(request: FastifyRequest<{ Body: { mfa_token?: string; client_id?: string } }>): { token: string | undefined; channel: string } {
    const body = request.body ?? {};
    if (body.mfa_token !== undefined || body.client_id !== undefined) {
      if (body.mfa_token === undefined || body.client_id === undefined) throw apiError('invalid_request', 'Send mfa_token together with client_id.');
      return { token: body.mfa_token, channel: `client:${body.client_id}` };
    }
    return { token: pendingCookieValue(request), channel: 'cookie' };
  }

  async function answer(request: FastifyRequest<{ Body: { client_id?: string } }>, reply: FastifyReply, result: CompletedSignIn): Promise<Record<string, unknown>> {
    noStore(reply);
    const extra = result.recoveryCodes ? { recovery_codes: result.recoveryCodes } : {};
    if (request.body?.client_id !== undefined) {
      if (!deps.firstPartyTokens) throw apiError('unauthorized_client', 'Token sign-in is not available.');
      const client = await deps.firstPartyTokens.client(request.body.client_id);
      return { ...(await deps.firstPartyTokens.issue(client, result)), device_token: result.device, ...extra };
    }
    // SEC-SESS-01/02: the session exists only now, under a new id; the pending cookie goes.
    clearPendingCookie(reply);
    auth.setCookie(reply, result.token);
    setDeviceCookie(reply, result.device);
    return { user: publicUser(result.user), session: publicSession(result.session, result.session.id), ...extra };
  }

  const secondFactorBody = {
    type: 'object',
    additionalProperties: false,
    required: ['method', 'code'],
    properties: { method: { type: 'string', enum: ['totp', 'recovery_code'] }, code, ...pendingFields },
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
    schema: { tags: TAGS, summary: 'Start adding an authenticator app: a secret, its otpauth:// URI and QR code (SVG). Confirm with a first code.', body: emptyBody, response: errors(401, 403, 409) },
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

  app.post<{ Body: CodeFactorInput & { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/verify', {
    schema: { tags: TAGS, summary: 'Second step of a sign-in that answered mfa_required: a TOTP or recovery code. Browsers: the pending cookie; apps: mfa_token + client_id. Answers like sign-in.', body: secondFactorBody, response: errors(400, 401, 429) },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const result = await signIn.complete(token, channel, { method: request.body.method, code: request.body.code }, clientInfo(request));
    return answer(request, reply, result);
  });

  app.post<{ Body: { mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/totp', {
    schema: { tags: TAGS, summary: 'When sign-in answered mfa_required with enrolment_required: start adding an authenticator app.', body: { type: 'object', additionalProperties: false, properties: pendingFields }, response: errors(400, 401, 409) },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    noStore(reply);
    return enrolmentJSON(await signIn.startEnrolment(token, channel));
  });

  app.post<{ Body: { enrolment_id: string; code: string; name?: string; mfa_token?: string; client_id?: string } }>('/api/auth/mfa/enrol/totp/confirm', {
    schema: {
      tags: TAGS,
      summary: 'Confirm the new authenticator app with its first code: completes the sign-in and returns the recovery codes once.',
      body: { type: 'object', additionalProperties: false, required: ['enrolment_id', 'code'], properties: { enrolment_id: { type: 'string', maxLength: 64 }, code, name: { type: 'string', maxLength: 64 }, ...pendingFields } },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const { token, channel } = channelOf(request);
    const result = await signIn.completeEnrolment(token, channel, { enrolmentId: request.body.enrolment_id, code: request.body.code, name: request.body.name }, clientInfo(request));
    return answer(request, reply, result);
  });

  app.post<{ Body: CodeFactorInput }>('/api/auth/mfa/step-up', {
    schema: {
      tags: TAGS,
      summary: 'Prove a second factor in a signed-in session: a new session (new cookie) whose amr includes mfa.',
      body: { type: 'object', additionalProperties: false, required: ['method', 'code'], properties: { method: secondFactorBody.properties.method, code } },
      response: errors(400, 401, 429),
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const { token, record: next } = await signIn.stepUp(record, { method: request.body.method, code: request.body.code }, clientInfo(request));
    auth.setCookie(reply, token);
    noStore(reply);
    return { user: publicUser(next.user), session: publicSession(next.session, next.session.id) };
  });
}
