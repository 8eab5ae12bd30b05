import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { MFA_REQUIRED_RESPONSE, MfaRequiredError } from '../mfa/errors.ts';
import { setPendingCookie } from '../mfa/http.ts';
import { apiError } from '../../errors/catalog.ts';
import { authTag, emailField, emptyBody, errorResponse, passwordField, sessionSchema, tokenField, userSchema } from '../../http/schemas.ts';
import type { SessionAuth } from '../sessions/http.ts';
import { publicSession, publicUser } from '../sessions/service.ts';
import type { PasswordLogin } from '../password-login/service.ts';
import { presentedDevice, setDeviceCookie } from '../password-login/http.ts';
import type { ClientInfo } from './context.ts';
import type { AccountsService } from './service.ts';
import type { FirstPartyTokens } from '../tokens/first-party.ts';

/**
 * docs/mfa.md: the password was right but a second factor is due — 401 `mfa_required` saying how
 * to finish; browsers get the pending cookie, apps an `mfa_token` to send with their client_id.
 */
function mfaAnswer(reply: FastifyReply, forApp: boolean) {
  return (error: unknown): { mfaRequired: Record<string, unknown> } => {
    if (!(error instanceof MfaRequiredError)) throw error;
    if (!forApp) setPendingCookie(reply, error.pendingToken);
    reply.code(401).header('cache-control', 'no-store');
    return { mfaRequired: error.body({ includeToken: forApp }) };
  };
}

export function clientInfo(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null };
}

const pendingMessage = {
  type: 'object',
  properties: { status: { type: 'string' }, message: { type: 'string' } },
  required: ['status', 'message'],
} as const;

const SIGN_UP_MESSAGE = 'Check your inbox: we sent a link to confirm the address.';
const FORGOT_MESSAGE = 'If an account exists for that address, we sent a link to reset the password.';

/** The JSON API for first-party apps under `/api/auth/` (accounts and password sign-in). */
export function registerAccountRoutes(app: FastifyInstance, deps: { accounts: AccountsService; login: PasswordLogin; auth: SessionAuth; firstPartyTokens?: FirstPartyTokens; onSessionReplaced?: (oldSessionId: string, newSessionId: string) => Promise<void> }): void {
  const { accounts, login, auth } = deps;

  app.post<{ Body: { email: string; password: string; name?: string } }>('/api/auth/sign-up', {
    schema: {
      tags: authTag,
      summary: 'Create an account (unverified) and send a verification link. Same answer for registered addresses.',
      body: { type: 'object', additionalProperties: false, required: ['email', 'password'], properties: { email: emailField, password: passwordField, name: { type: 'string', maxLength: 200 } } },
      response: { 202: pendingMessage, 400: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    await accounts.signUp(request.body, clientInfo(request));
    return reply.code(202).send({ status: 'pending_verification', message: SIGN_UP_MESSAGE });
  });

  app.post<{ Body: { email: string; password: string; client_id?: string; device_token?: string } }>('/api/auth/sign-in', {
    schema: {
      tags: authTag,
      summary: 'Sign in with email and password: a new session and its cookie — or, with the client_id of a first-party native app, access and refresh tokens bound to a new session. Browsers get a device cookie, apps a device_token to send back next time: a trusted device keeps its own attempt budget while the account is locked for others (SEC-PWD-14).',
      body: {
        type: 'object',
        additionalProperties: false,
        required: ['email', 'password'],
        properties: { email: emailField, password: passwordField, client_id: { type: 'string', minLength: 1, maxLength: 128 }, device_token: { type: 'string', maxLength: 512 } },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            user: userSchema,
            session: sessionSchema,
            access_token: { type: 'string' },
            refresh_token: { type: 'string' },
            token_type: { type: 'string' },
            expires_in: { type: 'integer' },
            scope: { type: 'string' },
            device_token: { type: 'string' },
          },
        },
        401: MFA_REQUIRED_RESPONSE,
        429: errorResponse,
      },
    },
  }, async (request, reply) => {
    if (request.body.client_id !== undefined) {
      if (!deps.firstPartyTokens) throw apiError('unauthorized_client', 'Token sign-in is not available.');
      const client = await deps.firstPartyTokens.client(request.body.client_id);
      // RFC 9449: a DPoP proof binds the tokens to its key; a bad proof is refused before the password is looked at.
      const dpop = await deps.firstPartyTokens.proof(request, reply, client);
      // The device session lives as long as the grant; each refresh marks it seen. The app keeps
      // its device binding as `device_token` (same format and rules as the device cookie).
      const credentials = { email: request.body.email, password: request.body.password };
      const result = await login.signIn(credentials, clientInfo(request), { sessionLifetimeMs: deps.firstPartyTokens.sessionLifetimeMs(client), device: request.body.device_token, secondStepChannel: `client:${client.clientId}` }).catch(mfaAnswer(reply, true));
      if ('mfaRequired' in result) return result.mfaRequired;
      reply.header('cache-control', 'no-store');
      return { ...(await deps.firstPartyTokens.issue(client, result, dpop)), device_token: result.device };
    }
    const result = await login.signIn(request.body, clientInfo(request), { device: presentedDevice(request) }).catch(mfaAnswer(reply, false));
    if ('mfaRequired' in result) return result.mfaRequired;
    // A new session id at every sign-in; the session of the cookie that came in ends (SEC-SESS-01).
    await auth.handOver(request, reply, result, deps.onSessionReplaced);
    setDeviceCookie(reply, result.device);
    return { user: publicUser(result.user), session: publicSession(result.session, result.session.id) };
  });

  app.post<{ Body: { token: string } }>('/api/auth/verify-email', {
    schema: {
      tags: authTag,
      summary: 'Confirm an email address with the token from the verification link.',
      body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: tokenField } },
      response: { 200: pendingMessage, 400: errorResponse },
    },
  }, async (request) => {
    await accounts.verifyEmail(request.body.token, clientInfo(request));
    return { status: 'verified', message: 'Email address confirmed.' };
  });

  app.post('/api/auth/verify-email/resend', {
    schema: { tags: authTag, summary: 'Send a new verification link to the signed-in user.', body: emptyBody, response: { 202: pendingMessage, 401: errorResponse, 429: errorResponse } },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await accounts.resendVerification(record, clientInfo(request));
    return reply.code(202).send({ status: 'pending_verification', message: SIGN_UP_MESSAGE });
  });

  app.post<{ Body: { email: string } }>('/api/auth/forgot-password', {
    schema: {
      tags: authTag,
      summary: 'Send a password reset link. Same answer whether or not the account exists.',
      body: { type: 'object', additionalProperties: false, required: ['email'], properties: { email: emailField } },
      response: { 202: pendingMessage, 400: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    await accounts.forgotPassword(request.body.email, clientInfo(request));
    return reply.code(202).send({ status: 'sent_if_exists', message: FORGOT_MESSAGE });
  });

  app.post<{ Body: { token: string; password: string } }>('/api/auth/reset-password', {
    schema: {
      tags: authTag,
      summary: 'Set a new password with the token from the reset link; ends every session of the account.',
      body: { type: 'object', additionalProperties: false, required: ['token', 'password'], properties: { token: tokenField, password: passwordField } },
      response: { 200: pendingMessage, 400: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    const account = await accounts.resetPassword(request.body.token, request.body.password, clientInfo(request));
    // SEC-PWD-14: the reset proved the mailbox; this browser becomes a trusted device for the account.
    setDeviceCookie(reply, login.trustDevice(presentedDevice(request), account));
    return { status: 'password_reset', message: 'Password changed. Sign in with the new password.' };
  });

  app.post<{ Body: { current_password: string; new_password: string } }>('/api/auth/change-password', {
    schema: {
      tags: authTag,
      summary: 'Change the password (current password required; a recent second factor when I have one); ends my other sessions and renews this one.',
      body: { type: 'object', additionalProperties: false, required: ['current_password', 'new_password'], properties: { current_password: passwordField, new_password: passwordField } },
      response: { 200: pendingMessage, 400: errorResponse, 401: errorResponse, 403: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const { token } = await accounts.changePassword(record, { currentPassword: request.body.current_password, newPassword: request.body.new_password }, clientInfo(request));
    auth.setCookie(reply, token);
    return { status: 'password_changed', message: 'Password changed. Your other sessions were signed out.' };
  });

  app.patch<{ Body: { name?: string | null } }>('/api/auth/me', {
    schema: {
      tags: authTag,
      summary: 'Update my profile. Only `name`; anything else (roles, email_verified …) is refused.',
      body: { type: 'object', additionalProperties: false, properties: { name: { type: ['string', 'null'], maxLength: 200 } } },
      response: { 200: { type: 'object', properties: { user: userSchema }, required: ['user'] }, 400: errorResponse, 401: errorResponse },
    },
  }, async (request) => {
    const record = await auth.require(request);
    await accounts.updateProfile(record, request.body);
    auth.forget(request);
    const updated = (await auth.current(request)) ?? record;
    return { user: publicUser(updated.user) };
  });
}
