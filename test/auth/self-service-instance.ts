/**
 * The self-service routes for tests, until src/app.ts calls `registerSelfService`: a second
 * Gatehouse instance over the same database and ephemeral store (as when scaled out), built by
 * the same feature entry points createApp uses, with the self-service feature on top. Requests
 * that need self-service go to `selfService(t)`; everything else to the real app `t.app`.
 * Once app.ts wires the feature, `selfService(t)` is the real app itself.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { registerErrorHandling } from '../../src/http/errors.ts';
import { registerSecurityHeaders } from '../../src/http/security-headers.ts';
import { registerFormParser } from '../../src/http/api-guard.ts';
import { registerMetrics } from '../../src/http/metrics.ts';
import { registerAuthMetrics } from '../../src/http/auth-metrics.ts';
import { sendNotFoundPage } from '../../src/ui/error-page.ts';
import { registerI18n } from '../../src/ui/i18n/index.ts';
import { createShared } from '../../src/features/shared.ts';
import { registerKeysFeature } from '../../src/keys/wiring.ts';
import { registerClientsFeature } from '../../src/features/clients/wiring.ts';
import { registerTokensFeature } from '../../src/features/tokens/wiring.ts';
import { registerAccountsFeature } from '../../src/features/accounts/wiring.ts';
import { createAdminAccessFor } from '../../src/features/admin/feature.ts';
import { registerOAuthProvider } from '../../src/features/oauth/wiring.ts';
import { registerSelfService } from '../../src/features/accounts/self-service/wiring.ts';
import { capturingMailer } from '../support/app.ts';

const instances = new WeakMap<TestApp, FastifyInstance>();

export async function selfService(t: TestApp, options: { now?: () => number } = {}): Promise<FastifyInstance> {
  if (t.app.hasRoute({ method: 'POST', url: '/api/account/email' })) return t.app;
  const existing = instances.get(t);
  if (existing) return existing;
  const app = Fastify({ trustProxy: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } } });
  registerErrorHandling(app, { notFoundPage: sendNotFoundPage });
  registerSecurityHeaders(app, { production: false });
  registerFormParser(app);
  const metrics = registerAuthMetrics(app, registerMetrics(app, { onMainPort: false }));
  const shared = createShared(app, {
    config: t.config, database: t.storage.database, ephemeral: t.storage.ephemeral, masterKey: resolveMasterKey(t.config),
    now: options.now ?? Date.now, mailer: capturingMailer(t.mails),
  }, { metrics });
  registerI18n(app, { defaultLocale: 'en' });
  const keys = await registerKeysFeature(app, shared);
  const clients = await registerClientsFeature(app, shared, { beforeDelete: (clientId) => tokens.revocations.revokeClient(clientId) });
  const tokens = registerTokensFeature(app, shared, { keys, clients, sessionLive: (id) => accounts.sessions.touchIfLive(id) });
  const accounts = await registerAccountsFeature(app, shared, { tokens, onSessionsEnded: (ids) => oauth.backchannelLogout.sessionsEnded(ids) });
  const adminAccess = createAdminAccessFor(shared, { accounts, tokens, clients });
  const oauth = registerOAuthProvider(app, shared, { keys, clients, tokens, accounts, adminAccess });
  registerSelfService(app, shared, { accounts, tokens, clients, oauth });
  await app.ready();
  instances.set(t, app);
  const close = t.close;
  t.close = async () => {
    await app.close();
    await close();
  };
  return app;
}
