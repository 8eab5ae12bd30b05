import type { FastifyReply, FastifyRequest } from 'fastify';
import { apiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';
import { setDeviceCookie } from '../password-login/http.ts';
import type { SessionAuth } from '../sessions/http.ts';
import { publicSession, publicUser } from '../sessions/service.ts';
import type { Client } from '../clients/model.ts';
import type { DPoPBinding } from '../oauth/dpop/service.ts';
import type { FirstPartyTokens } from '../tokens/first-party.ts';
import { clearPendingCookie, pendingCookieValue } from './http.ts';
import type { FactorView } from './service.ts';
import type { CompletedSignIn } from './sign-in.ts';

/** Shared by the MFA JSON routes (routes.ts, passkey-routes.ts). */
export const TAGS = ['mfa'];
export const code = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const pendingFields = { mfa_token: { type: 'string', minLength: 1, maxLength: 128 }, client_id: { type: 'string', minLength: 1, maxLength: 128 } } as const;
/** A WebAuthn answer as the browser API (or @simplewebauthn/browser) gives it; read by parseCredential. */
export const credentialField = { type: 'object', description: 'The PublicKeyCredential as JSON (RegistrationResponseJSON / AuthenticationResponseJSON).' } as const;
export const errors = (...statuses: number[]): Record<number, typeof errorResponse> => Object.fromEntries(statuses.map((status) => [status, errorResponse]));
export const noStore = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'no-store');

export function factorJSON(factor: FactorView): Record<string, unknown> {
  return { id: factor.id, kind: factor.kind, name: factor.name, created_at: new Date(factor.createdAt).toISOString(), last_used_at: factor.lastUsedAt === null ? null : new Date(factor.lastUsedAt).toISOString() };
}

type PendingBody = { mfa_token?: string | undefined; client_id?: string | undefined };

/** Whose pending sign-in: a first-party app's (token + client_id) or this browser's (cookie). */
export function channelOf(request: FastifyRequest<{ Body: PendingBody }>): { token: string | undefined; channel: string } {
  const body = request.body ?? {};
  if (body.mfa_token !== undefined || body.client_id !== undefined) {
    if (body.mfa_token === undefined || body.client_id === undefined) throw apiError('invalid_request', 'Send mfa_token together with client_id.');
    return { token: body.mfa_token, channel: `client:${body.client_id}` };
  }
  return { token: pendingCookieValue(request), channel: 'cookie' };
}

type AnswerDeps = { auth: SessionAuth; firstPartyTokens?: FirstPartyTokens | undefined };

/** A first-party app finishing a sign-in: its client, and the key its tokens will be bound to (RFC 9449). */
export interface AppSignIn {
  client: Client;
  dpop: DPoPBinding | undefined;
}

/**
 * With `client_id`: the first-party client and the request's DPoP proof for this route (`htu` is
 * its URL under the issuer), both checked before the factor is looked at, as at
 * `POST /api/auth/sign-in` — a bad client or proof costs no attempt and uses up no pending state
 * or challenge. Without `client_id` (a browser): undefined, and a `DPoP` header is ignored.
 */
export async function appSignIn(deps: AnswerDeps, request: FastifyRequest<{ Body: { client_id?: string | undefined } }>, reply: FastifyReply): Promise<AppSignIn | undefined> {
  const clientId = request.body?.client_id;
  if (clientId === undefined) return undefined;
  if (!deps.firstPartyTokens) throw apiError('unauthorized_client', 'Token sign-in is not available.');
  const client = await deps.firstPartyTokens.client(clientId);
  return { client, dpop: await deps.firstPartyTokens.proof(request, reply, client) };
}

/**
 * A completed sign-in as the JSON API answers it: for a first-party app (`appSignIn`), tokens —
 * bound to its DPoP key when it sent a proof (`token_type: DPoP`, `cnf.jkt`, refresh only with
 * that key) — else the session cookie.
 */
export async function signInAnswer(deps: AnswerDeps, app: AppSignIn | undefined, reply: FastifyReply, result: CompletedSignIn): Promise<Record<string, unknown>> {
  noStore(reply);
  const extra = result.recoveryCodes ? { recovery_codes: result.recoveryCodes } : {};
  if (app) {
    if (!deps.firstPartyTokens) throw apiError('unauthorized_client', 'Token sign-in is not available.');
    return { ...(await deps.firstPartyTokens.issue(app.client, result, app.dpop)), device_token: result.device, ...extra };
  }
  // SEC-SESS-01/02: the session exists only now, under a new id; the pending cookie goes.
  clearPendingCookie(reply);
  deps.auth.setCookie(reply, result.token);
  setDeviceCookie(reply, result.device);
  return { user: publicUser(result.user), session: publicSession(result.session, result.session.id), ...extra };
}
