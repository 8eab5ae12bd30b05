import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../../errors/catalog.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor } from '../../../ui/i18n/index.ts';
import { sendPage } from '../../../ui/layout.ts';
import type { AdminAccess, AdminCaller, AdminScope } from '../access.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import { secondStepUrl } from '../../../ui/pages/mfa.ts';

/** The sign-in page, coming back to `path` (a console page; POSTs come back to the dashboard). */
export function loginFor(request: FastifyRequest): string {
  return `/login?return_to=${encodeURIComponent(comingBack(request))}`;
}

function comingBack(request: FastifyRequest): string {
  return request.method === 'GET' && request.url.startsWith('/admin') ? request.url : '/admin';
}

/** The translated 403 page: signed in, but not an admin (or not for this area). */
export function sendForbidden(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tr = translatorFor(request);
  const title = tr.t('admin.forbidden.title');
  return sendPage(reply, {
    status: 403,
    title,
    body: html`<h1>${title}</h1>
<div class="alert" role="alert"><p>${tr.t('admin.forbidden.text')}</p></div>
<p class="links"><a href="/account">${tr.t('admin.forbidden.account')}</a></p>`,
  });
}

/**
 * The console's access pipeline, before any page or action (SEC-ASVS-01):
 * 1. no live session → the sign-in page, returning here;
 * 2. a bearer token → 403: machine tokens are for the API, never for pages;
 * 3. the admin API's own check (access.ts) for each scope the page needs — the user's current
 *    roles read from the database, `admin` or a catalog role granting the scope — else 403;
 *    a session that needs a fresher second factor (`mfa_step_up_required`) goes to the step-up
 *    page (/login/mfa, docs/mfa.md), which comes back here.
 * Returns the acting admin for the audit log, or undefined once the answer has been sent.
 */
export function createConsoleGuard(deps: { access: AdminAccess; auth: SessionAuth }) {
  return async function admit(request: FastifyRequest, reply: FastifyReply, scopes: readonly AdminScope[]): Promise<AdminCaller | undefined> {
    reply.header('cache-control', 'no-store');
    const record = await deps.auth.current(request);
    if (!record) {
      await reply.redirect(loginFor(request), 303);
      return undefined;
    }
    if (request.headers.authorization !== undefined) {
      await sendForbidden(request, reply);
      return undefined;
    }
    try {
      for (const scope of scopes) await deps.access.require(scope)(request, reply);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      if (error.status === 401) await reply.redirect(loginFor(request), 303);
      else if (error.error === 'mfa_step_up_required') await reply.redirect(secondStepUrl(comingBack(request)), 303);
      else await sendForbidden(request, reply);
      return undefined;
    }
    return deps.access.caller(request);
  };
}
