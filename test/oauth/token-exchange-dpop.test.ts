/**
 * Token exchange (RFC 8693) with DPoP-bound tokens (RFC 9449): a bound actor token — like a
 * bound subject token — is used only with a proof of its key; a request carries one proof, so a
 * subject and an actor bound to different keys cannot be exchanged together. A missing or
 * other-key proof is `invalid_grant`; a proof that fails its own checks is `invalid_dpop_proof`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { TestApp } from '../support/app.ts';
import { dpopKey, proof, type DPoPKey } from '../support/dpop.ts';
import { API, assertOAuthError, auditEvents, basic, claims, createOAuthApp, fixtureClients, nativeSignIn, postForm, tokens, type NativeSession } from '../support/oauth.ts';
import { manualClock } from '../support/oidc.ts';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const INVENTORY = 'https://inventory.example';
const BILLING = 'https://billing.example';

const secrets: Record<string, string> = {
  orders: 'orders-secret-0123456789abcdef0123456789abcdef',
  inventory: 'inventory-secret-0123456789abcdef0123456789ab',
};

const service = (clientId: string, audiences: string[]) => ({
  client_id: clientId,
  name: clientId,
  type: 'confidential',
  token_endpoint_auth_method: 'client_secret_basic',
  client_secret_hash: createHash('sha256').update(secrets[clientId]!).digest('base64url'),
  grant_types: [EXCHANGE, 'client_credentials'],
  scopes: ['orders:read'],
  audiences,
});

const policies = [
  { client_id: 'orders', subject_clients: ['mobile'], audiences: [INVENTORY], scopes: ['profile', 'email'] },
  { client_id: 'inventory', subject_clients: ['orders'], audiences: [BILLING], scopes: ['profile'] },
];

describe('token exchange with DPoP-bound actor and subject tokens', () => {
  const clock = manualClock();
  let t: TestApp;
  let user: NativeSession;
  const tokenProof = (key: DPoPKey) => proof(key, { htu: `${t.config.publicUrl}/oauth/token`, iat: Math.floor(clock.now() / 1000) });
  const as = (clientId: string) => ({ authorization: basic(clientId, secrets[clientId]!) });
  const exchangeAs = (clientId: string, params: Record<string, string>, dpop?: string) =>
    postForm(t, '/oauth/token', { grant_type: EXCHANGE, subject_token_type: ACCESS_TOKEN, ...params }, { ...as(clientId), ...(dpop ? { dpop } : {}) });
  /** The client's own token (client credentials), bound to `key`. */
  async function boundActorToken(clientId: string, key: DPoPKey): Promise<string> {
    const body = tokens(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { ...as(clientId), dpop: await tokenProof(key) }));
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt });
    return body.access_token;
  }

  before(async () => {
    t = await createOAuthApp({
      now: clock.now,
      clients: fixtureClients({ extra: [service('orders', [API]), service('inventory', [INVENTORY])] }),
      env: { GATEHOUSE_TOKEN_EXCHANGE_POLICIES: JSON.stringify(policies) },
    });
    user = await nativeSignIn(t, 'exchange-dpop@example.com');
  });
  after(() => t.close());

  it('a bound actor token needs a proof of its key: none or another key → invalid_grant; its key → a token bound to it', async () => {
    const key = await dpopKey();
    const actor = await boundActorToken('orders', key);
    const params = { subject_token: user.access_token, audience: INVENTORY, actor_token: actor, actor_token_type: ACCESS_TOKEN };

    const without = await exchangeAs('orders', params);
    assertOAuthError(without, 'invalid_grant', 400, 'bound actor token, no proof');
    assert.match(String(without.json().error_description), /actor token is DPoP-bound/);
    assertOAuthError(await exchangeAs('orders', params, await tokenProof(await dpopKey())), 'invalid_grant', 400, 'bound actor token, a proof of another key');
    assertOAuthError(await exchangeAs('orders', params, 'not-a-proof'), 'invalid_dpop_proof', 400, 'a proof that is not one');

    const body = tokens(await exchangeAs('orders', params, await tokenProof(key)));
    assert.equal(body.token_type, 'DPoP');
    const exchanged = claims(body.access_token);
    assert.deepEqual(exchanged.cnf, { jkt: key.jkt }, 'bound to the proven key');
    assert.deepEqual(exchanged.act, { sub: 'client:orders', client_id: 'orders' });
    assert.equal(exchanged.sub, user.sub);

    const refusals = (await auditEvents(t, 'token-exchange')).filter((event) => event.outcome === 'failure' && event.detail.reason === 'invalid_grant');
    assert.ok(refusals.length >= 2, 'refusals audited');
  });

  it('an unbound actor token still works without a proof (Bearer in, Bearer out)', async () => {
    const actor = tokens(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, as('orders'))).access_token;
    const body = tokens(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY, actor_token: actor, actor_token_type: ACCESS_TOKEN }));
    assert.equal(body.token_type, 'Bearer');
    assert.equal(claims(body.access_token).cnf, undefined);
  });

  it('subject and actor bound to different keys cannot be exchanged with any one proof; bound to the same key they can', async () => {
    const subjectKey = await dpopKey();
    const actorKey = await dpopKey();
    // orders' exchanged token is bound to subjectKey; inventory (its audience) exchanges it on.
    const subject = tokens(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY }, await tokenProof(subjectKey))).access_token;
    const actor = await boundActorToken('inventory', actorKey);
    const params = { subject_token: subject, resource: BILLING, actor_token: actor, actor_token_type: ACCESS_TOKEN };
    assertOAuthError(await exchangeAs('inventory', params), 'invalid_grant', 400, 'no proof');
    assertOAuthError(await exchangeAs('inventory', params, await tokenProof(subjectKey)), 'invalid_grant', 400, 'proof of the subject key only');
    assertOAuthError(await exchangeAs('inventory', params, await tokenProof(actorKey)), 'invalid_grant', 400, 'proof of the actor key only');

    const sameKeyActor = await boundActorToken('inventory', subjectKey);
    const body = tokens(await exchangeAs('inventory', { ...params, actor_token: sameKeyActor }, await tokenProof(subjectKey)));
    assert.equal(body.token_type, 'DPoP');
    const exchanged = claims(body.access_token);
    assert.deepEqual(exchanged.cnf, { jkt: subjectKey.jkt });
    assert.deepEqual(exchanged.act, { sub: 'client:inventory', client_id: 'inventory', act: { sub: 'client:orders', client_id: 'orders' } });
  });
});
