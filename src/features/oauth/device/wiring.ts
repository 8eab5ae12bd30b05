import type { FastifyInstance } from 'fastify';
import type { Config } from '../../../config/schema.ts';
import type { Csrf } from '../../../http/csrf.ts';
import type { EphemeralStore } from '../../../storage/ephemeral/types.ts';
import { registerDevicePages } from '../../../ui/pages/device.ts';
import type { AuditLog } from '../../audit/audit-log.ts';
import type { ClientAuthenticator } from '../../clients/authenticate.ts';
import type { ClientStore } from '../../clients/store.ts';
import type { RateLimiter } from '../../rate-limit/limiter.ts';
import type { SessionAuth } from '../../sessions/http.ts';
import type { RevocationService } from '../../tokens/revocation.ts';
import type { ConsentStore } from '../consents/store.ts';
import type { IdTokenIssuer } from '../id-token.ts';
import type { GrantHandler } from '../token/types.ts';
import { registerDeviceAuthorizationEndpoint } from './authorization-route.ts';
import { createDeviceCodeGrant } from './grant.ts';
import { createDeviceState } from './state.ts';

export { DEVICE_CODE_GRANT } from './grant.ts';

/**
 * The device authorization grant (RFC 8628) in one place: state in the ephemeral store, the
 * device authorization endpoint, the `/device` pages, and the grant handler for `/oauth/token`.
 */
export function registerDeviceFlow(app: FastifyInstance, deps: {
  config: Pick<Config, 'deviceCodeTtlSeconds' | 'devicePollIntervalSeconds' | 'deviceUserCodeAttemptsPerIp'>;
  ephemeral: EphemeralStore;
  issuer: string;
  authenticator: ClientAuthenticator;
  clients: ClientStore;
  consents: ConsentStore;
  auth: SessionAuth;
  csrf: Csrf;
  audit: AuditLog;
  limiter: RateLimiter;
  revocations: RevocationService;
  idTokens: IdTokenIssuer;
  sessionLive: (sessionId: string) => Promise<boolean>;
  now: () => number;
}): { grant: GrantHandler } {
  const state = createDeviceState(deps.ephemeral, { ttlSeconds: deps.config.deviceCodeTtlSeconds, intervalSeconds: deps.config.devicePollIntervalSeconds, now: deps.now });
  registerDeviceAuthorizationEndpoint(app, { issuer: deps.issuer, authenticator: deps.authenticator, state });
  registerDevicePages(app, { state, clients: deps.clients, consents: deps.consents, auth: deps.auth, csrf: deps.csrf, audit: deps.audit, limiter: deps.limiter, attemptsPerIp: deps.config.deviceUserCodeAttemptsPerIp, now: deps.now });
  return { grant: createDeviceCodeGrant({ state, revocations: deps.revocations, idTokens: deps.idTokens, sessionLive: deps.sessionLive }) };
}
