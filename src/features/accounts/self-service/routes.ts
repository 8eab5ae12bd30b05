import type { FastifyInstance, FastifyReply } from 'fastify';
import { apiError } from '../../../errors/catalog.ts';
import { emailField, errorResponse, passwordField, tokenField } from '../../../http/schemas.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import { clientInfo } from '../routes.ts';
import { exportFileName, type SelfService } from './service.ts';

const accountTag = ['account'];
const status = {
  type: 'object',
  properties: { status: { type: 'string' }, message: { type: 'string' } },
  required: ['status', 'message'],
} as const;
const optionalPassword = { ...passwordField, description: 'The current password; not needed within a few minutes of signing in.' } as const;

/** Sends the export as a download that no cache keeps. */
export function sendExport(reply: FastifyReply, data: Record<string, unknown>, now: number): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('content-disposition', `attachment; filename="${exportFileName(now)}"`)
    .type('application/json; charset=utf-8')
    .send(JSON.stringify(data, null, 2));
}

/**
 * The self-service JSON API under `/api/account/` (first-party, cookie or bearer session; the
 * API guard enforces Origin and JSON bodies on writes). Sensitive steps need recent
 * authentication: a recent second factor for MFA users, and a sign-in within the last minutes
 * or `password` (403 `forbidden` / `mfa_step_up_required`, 401 `invalid_credentials`).
 */
export function registerSelfServiceRoutes(app: FastifyInstance, deps: { selfService: SelfService; auth: SessionAuth; now: () => number }): void {
  const { selfService, auth } = deps;
  const { emailChange } = selfService;

  app.get('/api/account/email', {
    schema: {
      tags: accountTag,
      summary: 'My email address and the new one waiting for confirmation, if any.',
      response: { 200: { type: 'object', properties: { email: { type: 'string' }, pending_email: { type: ['string', 'null'] } }, required: ['email', 'pending_email'] }, 401: errorResponse },
    },
  }, async (request) => {
    const record = await auth.require(request);
    return { email: record.user.email, pending_email: await emailChange.pendingEmail(record.user.id) };
  });

  app.post<{ Body: { new_email: string; password?: string } }>('/api/account/email', {
    schema: {
      tags: accountTag,
      summary: 'Ask to change my email address: a confirmation link goes to the new address; the old one stays until it is opened. Same answer whether or not the address is free. 409 while the previous address can still undo the last change.',
      body: { type: 'object', additionalProperties: false, required: ['new_email'], properties: { new_email: emailField, password: optionalPassword } },
      response: { 202: status, 400: errorResponse, 401: errorResponse, 403: errorResponse, 409: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await emailChange.request(record, { newEmail: request.body.new_email, password: request.body.password }, clientInfo(request));
    return reply.code(202).send({ status: 'pending_confirmation', message: 'Check the new inbox: we sent a link to confirm the address.' });
  });

  app.post<{ Body: { token: string } }>('/api/account/email/confirm', {
    schema: {
      tags: accountTag,
      summary: 'Confirm a new email address with the token from the link sent to it (no session needed). 409 when the address was taken meanwhile.',
      body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: tokenField } },
      response: { 200: status, 400: errorResponse, 409: errorResponse },
    },
  }, async (request) => {
    await emailChange.confirm(request.body.token, clientInfo(request));
    return { status: 'email_changed', message: 'Email address changed.' };
  });

  app.post<{ Body: { token: string } }>('/api/account/email/undo', {
    schema: {
      tags: accountTag,
      summary: 'Undo an email change with the token sent to the previous address: restores it, ends every session and token, removes the password (a reset link goes to the restored address) and second factors enrolled since the change.',
      body: { type: 'object', additionalProperties: false, required: ['token'], properties: { token: tokenField } },
      response: { 200: status, 400: errorResponse, 409: errorResponse },
    },
  }, async (request) => {
    await emailChange.undo(request.body.token, clientInfo(request));
    return { status: 'email_restored', message: 'Previous address restored; every session was signed out and the password removed. Set a new password with the link sent to the restored address.' };
  });

  app.post<{ Body: { password?: string } }>('/api/account/delete', {
    schema: {
      tags: accountTag,
      summary: 'Delete my account: erases the profile, sign-in methods, sessions and grants (as an admin delete); a notice goes to the address.',
      body: { type: 'object', additionalProperties: false, properties: { password: optionalPassword } },
      response: { 200: status, 400: errorResponse, 401: errorResponse, 403: errorResponse, 429: errorResponse },
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    await selfService.deletion.deleteOwnAccount(record, { password: request.body.password }, clientInfo(request));
    auth.clearCookie(reply);
    return { status: 'account_deleted', message: 'Your account was deleted.' };
  });

  app.get('/api/account/export', {
    schema: {
      tags: accountTag,
      summary: 'Download my data: a JSON file with my profile, roles, linked identities, sessions, applications, second factors (names and dates) and my audit events.',
      response: { 401: errorResponse },
    },
  }, async (request, reply) => {
    const record = await auth.require(request);
    const data = await selfService.exportData(record.user.id, record.session.id);
    if (!data) throw apiError('unauthenticated', 'Sign in first.');
    return sendExport(reply, data, deps.now());
  });
}

