import { apiError, ApiError } from '../../../../errors/catalog.ts';
import type { AuditLog } from '../../../audit/audit-log.ts';
import type { Client } from '../../../clients/model.ts';
import type { RevocationService } from '../../../tokens/revocation.ts';
import { resolveScope } from '../../../tokens/access-token.ts';
import type { AccessTokenVerifier, JWTVerifierLike } from '../../../tokens/verify.ts';
import { param, requiredParam, resources, type FormBody } from '../../params.ts';
import type { GrantContext, GrantDeps, GrantHandler } from '../types.ts';
import type { TokenExchangePolicy } from './token-exchange-policy.ts';

export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
export const ID_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:id_token';
/** An `act` chain deeper than this is refused (each exchange adds one level). */
const MAX_ACTOR_DEPTH = 5;

/** The subject of an exchange, whichever token type it came from. */
interface Subject {
  sub: string;
  /** The client the subject token was issued to. */
  clientId: string;
  scope: string[];
  exp: number;
  sid?: string;
  gid?: string;
  roles?: string[];
  act?: Record<string, unknown>;
  /** RFC 9449 §6: the DPoP key the subject token is bound to (`cnf.jkt`). */
  jkt?: string;
}

function depth(act: Record<string, unknown> | undefined): number {
  let levels = 0;
  for (let current: unknown = act; typeof current === 'object' && current !== null; current = Object.hasOwn(current, 'act') ? (current as Record<string, unknown>).act : undefined) levels++;
  return levels;
}

const invalidGrant = (detail: string) => apiError('invalid_grant', 'The subject or actor token is invalid, expired or revoked.', { detail });

/**
 * RFC 8693 token exchange: a service trades a user's access token (or, where its policy allows,
 * an ID token) for an access token to another audience, acting for that user. Checked in order:
 * the caller's policy → requested type → subject token (active, of a client the policy names, sent
 * to the caller, its DPoP key proven when bound) → actor → audience → scope (never more than the subject's). The token carries
 * `act` (the actor chain, §4.1), the subject's `sid`/`gid` (revoking the original revokes it) and
 * never outlives the subject token. Every exchange, allowed or refused, is audited.
 */
export function createTokenExchangeGrant(deps: {
  policies: ReadonlyMap<string, TokenExchangePolicy>;
  verifier: AccessTokenVerifier;
  jwt: JWTVerifierLike;
  revocations: RevocationService;
  audit: AuditLog;
  now: () => number;
}): GrantHandler {
  async function readSubject(body: FormBody, client: Client, policy: TokenExchangePolicy): Promise<Subject> {
    const token = requiredParam(body, 'subject_token');
    const type = requiredParam(body, 'subject_token_type');
    if (type === ACCESS_TOKEN_TYPE) {
      const claims = await deps.verifier.active(token);
      if (!claims) throw invalidGrant('subject token not active');
      // Only a token sent to the caller: issued to it, or for one of its audiences (a resource server).
      const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (claims.client_id !== client.clientId && !audiences.some((value) => client.audiences.includes(value))) throw apiError('unauthorized_client', 'This client may not exchange this token.', { detail: 'subject token not sent to the caller' });
      return { sub: claims.sub, clientId: claims.client_id, scope: claims.scope.split(' ').filter(Boolean), exp: claims.exp, sid: claims.sid, gid: claims.gid, roles: claims.roles, act: claims.act, ...(claims.cnf ? { jkt: claims.cnf.jkt } : {}) };
    }
    if (type === ID_TOKEN_TYPE && policy.idTokens) {
      let claims: Record<string, unknown>;
      try {
        claims = await deps.jwt.verify(token, { typ: 'JWT', requiredClaims: ['sub', 'aud', 'exp', 'iat'] });
      } catch {
        throw invalidGrant('subject ID token invalid or expired');
      }
      const { sub, aud, exp, iat, sid } = claims;
      const clientId = typeof aud === 'string' ? aud : undefined;
      if (typeof sub !== 'string' || typeof exp !== 'number' || typeof iat !== 'number' || clientId === undefined) throw invalidGrant('subject ID token claims');
      if (sub.startsWith('client:')) throw invalidGrant('subject ID token of a client');
      if (typeof sid === 'string' && (await deps.revocations.isRevoked({ sessionId: sid, clientId, issuedAt: iat * 1000 }))) throw invalidGrant('subject ID token session ended');
      // An ID token carries no scope: the policy's scopes are the limit.
      return { sub, clientId, scope: [...policy.scopes], exp, ...(typeof sid === 'string' ? { sid } : {}) };
    }
    throw apiError('unsupported_token_type', 'This subject_token_type is not supported.', { detail: type.slice(0, 100) });
  }

  async function readActor(body: FormBody, client: Client, subject: Subject, context: GrantContext): Promise<Record<string, unknown>> {
    const token = param(body, 'actor_token');
    const type = param(body, 'actor_token_type');
    if ((token === undefined) !== (type === undefined)) throw apiError('invalid_request', 'actor_token and actor_token_type go together.');
    let actor: Record<string, unknown> = { sub: `client:${client.clientId}`, client_id: client.clientId };
    if (token !== undefined) {
      if (type !== ACCESS_TOKEN_TYPE) throw apiError('unsupported_token_type', 'This actor_token_type is not supported.');
      const claims = await deps.verifier.active(token);
      if (!claims) throw invalidGrant('actor token not active');
      // The actor proves itself: a token issued to the caller.
      if (claims.client_id !== client.clientId) throw apiError('unauthorized_client', 'The actor token belongs to another client.');
      // RFC 9449 §1, §6: a DPoP-bound actor token is used only with a proof of its key (the caller
      // holds it), as the subject token above; one proof, so both bound means one shared key.
      const jkt = claims.cnf?.jkt;
      if (jkt !== undefined && jkt !== context.dpop?.jkt) {
        throw apiError('invalid_grant', 'The actor token is DPoP-bound: send a DPoP proof of its key.', { detail: context.dpop ? 'DPoP key differs from the actor token\'s cnf.jkt' : 'DPoP-bound actor token without a proof' });
      }
      actor = { sub: claims.sub, client_id: claims.client_id };
    }
    // §4.1: the current actor outermost, earlier actors nested.
    if (subject.act) actor.act = subject.act;
    if (depth(actor) > MAX_ACTOR_DEPTH) throw apiError('invalid_request', 'The delegation chain is too long.');
    return actor;
  }

  async function exchange(body: FormBody, client: Client, grantDeps: GrantDeps, context: GrantContext, policy: TokenExchangePolicy | undefined, noted: Record<string, string>) {
    if (!policy) throw apiError('unauthorized_client', 'This client may not exchange tokens.', { detail: 'no exchange policy' });
    const requested = param(body, 'requested_token_type');
    if (requested !== undefined && requested !== ACCESS_TOKEN_TYPE) throw apiError('invalid_request', 'Only access tokens can be requested.');
    const subject = await readSubject(body, client, policy);
    noted.subject_client_id = subject.clientId;
    // RFC 9449 §1, §6: a DPoP-bound token is usable only with a proof of its key — exchanging it is a
    // use too, or a stolen bound token would buy an unbound one. With the proof, the route binds the
    // new token to the same key (boundGrantDeps).
    if (subject.jkt !== undefined && subject.jkt !== context.dpop?.jkt) {
      throw apiError('invalid_grant', 'The subject token is DPoP-bound: send a DPoP proof of its key.', { detail: context.dpop ? 'DPoP key differs from the subject token\'s cnf.jkt' : 'DPoP-bound subject token without a proof' });
    }
    if (subject.sub.startsWith('client:')) throw apiError('invalid_grant', 'Only tokens of users can be exchanged.', { detail: 'client-credentials subject' });
    if (policy.subjectClients && !policy.subjectClients.has(subject.clientId)) throw apiError('unauthorized_client', 'This client may not exchange tokens of that client.', { detail: `subject client ${subject.clientId}` });
    const user = await grantDeps.users.findById(subject.sub);
    if (!user || user.disabledAt !== null) throw invalidGrant('subject user gone or disabled');
    const actor = await readActor(body, client, subject, context);
    noted.actor = String(actor.sub);
    const wanted = resources(body);
    const audience = wanted.length > 0 ? wanted : [...policy.audiences];
    noted.audience = audience.join(' ');
    if (!audience.every((value) => policy.audiences.includes(value))) throw apiError('invalid_target', 'The requested audience is not allowed for this exchange.');
    const allowed = subject.scope.filter((value) => policy.scopes.includes(value));
    const scope = resolveScope(allowed, param(body, 'scope'));
    if (!scope) throw apiError('invalid_scope', 'The requested scope exceeds the subject token or the exchange policy.');
    const remaining = subject.exp - Math.floor(deps.now() / 1000);
    if (remaining <= 0) throw invalidGrant('subject token expired');
    const issued = await grantDeps.accessTokens.issue({
      client,
      subject: subject.sub,
      scope,
      audience,
      sessionId: subject.sid ?? null,
      grantId: subject.gid ?? null,
      roles: user.roles,
      actor,
      maxTtlSeconds: remaining,
    });
    return { subject, issued, scope };
  }

  return async (body, client, grantDeps, context = {}) => {
    const noted: Record<string, string> = {};
    try {
      const { subject, issued, scope } = await exchange(body, client, grantDeps, context, deps.policies.get(client.clientId), noted);
      await deps.audit.record({ type: 'token-exchange', outcome: 'success', userId: subject.sub, clientId: client.clientId, detail: { ...noted, jti: issued.jti } });
      return { access_token: issued.accessToken, issued_token_type: ACCESS_TOKEN_TYPE, token_type: 'Bearer', expires_in: issued.expiresIn, scope: scope.join(' ') };
    } catch (error) {
      const reason = error instanceof ApiError ? error.error : 'server_error';
      await deps.audit.record({ type: 'token-exchange', outcome: 'failure', clientId: client.clientId, detail: { ...noted, reason } });
      throw error;
    }
  };
}
