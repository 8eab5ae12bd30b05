import type { FastifyInstance } from 'fastify';
import { clientInfo } from '../../features/accounts/routes.ts';
import type { PagesDeps } from '../deps.ts';
import { checkedForm } from '../forms.ts';
import { pagePost } from '../routes.ts';

/**
 * `POST /logout` only, with the CSRF token (SEC-ASVS-07: a cross-site GET or form cannot sign
 * anyone out); a GET is answered 405 by the global not-found handler. The session ends
 * server-side, so a copied cookie stops working too (SEC-SESS-08).
 */
export function registerLogout(app: FastifyInstance, deps: PagesDeps): void {
  const { csrf, auth, sessions, audit } = deps;

  app.post('/logout', pagePost(csrf), async (request, reply) => {
    checkedForm(request, csrf);
    const record = await auth.current(request);
    if (record) {
      await sessions.revoke(record.session.id, record.user.id);
      const client = clientInfo(request);
      await audit.record({ type: 'sign-out', outcome: 'success', userId: record.user.id, ip: client.ip, userAgent: client.userAgent });
    }
    auth.forget(request);
    auth.clearCookie(reply);
    csrf.renew(reply); // a new CSRF binding once signed out
    return reply.redirect('/login?notice=signed-out', 303);
  });
}
