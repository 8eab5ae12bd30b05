/**
 * RFC 8693 token exchange: a service trades the user's access token it received for a token to
 * another audience, acting for the user (`act`), within its policy — in-process, frozen clock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { TestApp } from '../support/app.ts';
import { dpopKey, proof } from '../support/dpop.ts';
import { API, assertActive, assertInactive, assertOAuthError, auditEvents, basic, claims, createOAuthApp, fixtureClients, nativeSignIn, postForm, tokens, type NativeSession } from '../support/oauth.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { createOidcApp, manualClock, obtainTokens, oidcClients } from '../support/oidc.ts';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const INVENTORY = 'https://inventory.example';
const BILLING = 'https://billing.example';

const secrets: Record<string, string> = {
  orders: 'orders-secret-0123456789abcdef0123456789abcdef',
  inventory: 'inventory-secret-0123456789abcdef0123456789ab',
  nopolicy: 'nopolicy-secret-0123456789abcdef0123456789ab',
  nogrant: 'nogrant-secret-0123456789abcdef0123456789abcd',
};
const service = (clientId: string, audiences: string[], grants = [EXCHANGE, 'client_credentials']) => ({
  client_id: clientId,
  name: clientId,
  type: 'confidential',
  token_endpoint_auth_method: 'client_secret_basic',
  client_secret_hash: createHash('sha256').update(secrets[clientId]!).digest('base64url'),
  grant_types: grants,
  scopes: ['orders:read'],
  audiences,
});
const policies = [
  // orders (serving https://api.example) may trade the mobile app's tokens for inventory tokens.
  { client_id: 'orders', subject_clients: ['mobile'], audiences: [INVENTORY], scopes: ['profile', 'email', 'inventory:read'] },
  // inventory may pass a token orders exchanged on to billing (a delegation chain).
  { client_id: 'inventory', subject_clients: ['orders'], audiences: [BILLING], scopes: ['profile'] },
];

describe('token exchange (RFC 8693)', () => {
  const clock = manualClock();
  let t: TestApp;
  let user: NativeSession;

  const exchangeAs = (clientId: string, params: Record<string, string>, headers: Record<string, string> = {}) =>
    postForm(t, '/oauth/token', { grant_type: EXCHANGE, subject_token_type: ACCESS_TOKEN, ...params }, { authorization: basic(clientId, secrets[clientId]!), ...headers });

  before(async () => {
    t = await createOAuthApp({
      now: clock.now,
      clients: fixtureClients({ extra: [service('orders', [API]), service('inventory', [INVENTORY]), service('nopolicy', [API]), service('nogrant', [API], ['client_credentials'])] }),
      env: { GATEHOUSE_TOKEN_EXCHANGE_POLICIES: JSON.stringify(policies) },
    });
    user = await nativeSignIn(t, 'exchange@example.com');
  });
  after(() => t.close());

  it('a service gets a token for the target audience, acting for the user (act), never more than the subject had', async () => {
    const response = await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY });
    const body = tokens(response);
    assert.equal((body as { issued_token_type?: string }).issued_token_type, ACCESS_TOKEN);
    assert.equal(body.token_type, 'Bearer');
    const exchanged = claims(body.access_token);
    const subject = claims(user.access_token);
    assert.equal(exchanged.sub, user.sub);
    assert.equal(exchanged.aud, INVENTORY);
    assert.equal(exchanged.client_id, 'orders');
    assert.deepEqual(exchanged.act, { sub: 'client:orders', client_id: 'orders' });
    // Subject scope (openid profile email) ∩ policy (profile email inventory:read).
    assert.deepEqual(String(exchanged.scope).split(' ').sort(), ['email', 'profile']);
    assert.ok(Number(exchanged.exp) <= Number(subject.exp), 'never outlives the subject token');
    assert.equal(exchanged.sid, user.sid);
    assert.equal(exchanged.gid, user.gid);
    const [event] = await auditEvents(t, 'token-exchange');
    assert.equal(event?.outcome, 'success');
    assert.equal(event?.clientId, 'orders');
    assert.equal(event?.userId, user.sub);
    assert.equal(event?.actorId, 'client:orders', 'the confidential client that authenticated is the actor (docs/audit.md)');
  });

  it('an actor token names the actor; a second exchange nests the chain', async () => {
    const actor = tokens(await postForm(t, '/oauth/token', { grant_type: 'client_credentials' }, { authorization: basic('orders', secrets.orders!) })).access_token;
    const first = tokens(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY, actor_token: actor, actor_token_type: ACCESS_TOKEN, scope: 'profile' }));
    assert.deepEqual(claims(first.access_token).act, { sub: 'client:orders', client_id: 'orders' });
    const second = tokens(await exchangeAs('inventory', { subject_token: first.access_token, resource: BILLING }));
    const chained = claims(second.access_token);
    assert.equal(chained.sub, user.sub);
    assert.equal(chained.aud, BILLING);
    assert.deepEqual(chained.act, { sub: 'client:inventory', client_id: 'inventory', act: { sub: 'client:orders', client_id: 'orders' } });
    // Introspection shows the chain to the audience's resource server.
    const introspected = assertActive(await postForm(t, '/oauth/introspect', { token: second.access_token }, { authorization: basic('inventory', secrets.inventory!) }));
    assert.deepEqual(introspected.act, chained.act);
  });

  it('what the policy does not allow is refused: invalid_target, unauthorized_client, invalid_scope — and audited', async () => {
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, audience: BILLING }), 'invalid_target', 400, 'audience outside the policy');
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, audience: `${INVENTORY} ${BILLING}` }), 'invalid_target', 400, 'one audience outside the policy');
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY, scope: 'inventory:read' }), 'invalid_scope', 400, 'a scope the subject never had');
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY, scope: 'openid' }), 'invalid_scope', 400, 'a scope outside the policy');
    assertOAuthError(await exchangeAs('nopolicy', { subject_token: user.access_token, audience: INVENTORY }), 'unauthorized_client', 400, 'no policy');
    assertOAuthError(await exchangeAs('nogrant', { subject_token: user.access_token, audience: INVENTORY }), 'unauthorized_client', 400, 'grant type not registered');
    // inventory may exchange only tokens issued to orders, and only tokens sent to it.
    assertOAuthError(await exchangeAs('inventory', { subject_token: user.access_token, audience: BILLING }), 'unauthorized_client', 400, 'a token not sent to the caller');
    const other = await nativeSignIn(t, 'exchange-mobile2@example.com', { clientId: 'mobile2' });
    assertOAuthError(await exchangeAs('orders', { subject_token: other.access_token, audience: INVENTORY }), 'unauthorized_client', 400, 'a subject client outside the policy');
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY, requested_token_type: 'urn:ietf:params:oauth:token-type:refresh_token' }), 'invalid_request', 400, 'a refresh token requested');
    assertOAuthError(await exchangeAs('orders', { subject_token: user.access_token, subject_token_type: 'urn:ietf:params:oauth:token-type:jwt', audience: INVENTORY }), 'unsupported_token_type', 400, 'an unsupported subject type');
    const failures = (await auditEvents(t, 'token-exchange')).filter((event) => event.outcome === 'failure');
    assert.ok(failures.length >= 9, `every refusal audited (${failures.length})`);
    assert.ok(failures.some((event) => event.detail.reason === 'invalid_target'));
  });

  it('a DPoP proof binds the exchanged token', async () => {
    const key = await dpopKey();
    const dpop = await proof(key, { htu: `${t.config.publicUrl}/oauth/token`, iat: Math.floor(clock.now() / 1000) });
    const body = tokens(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY }, { dpop }));
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt });
  });

  it('a DPoP-bound subject token is exchanged only with a proof of its key, and stays bound to it', async () => {
    const key = await dpopKey();
    const tokenProof = (with_: typeof key) => proof(with_, { htu: `${t.config.publicUrl}/oauth/token`, iat: Math.floor(clock.now() / 1000) });
    // orders' exchanged token is bound to its key; inventory (its audience) may exchange it on.
    const bound = tokens(await exchangeAs('orders', { subject_token: user.access_token, audience: INVENTORY }, { dpop: await tokenProof(key) })).access_token;
    assert.deepEqual(claims(bound).cnf, { jkt: key.jkt });
    const without = await exchangeAs('inventory', { subject_token: bound, resource: BILLING });
    assertOAuthError(without, 'invalid_grant', 400, 'a bound subject token without a proof');
    assert.match(String(without.json().error_description), /DPoP/);
    assertOAuthError(await exchangeAs('inventory', { subject_token: bound, resource: BILLING }, { dpop: await tokenProof(await dpopKey()) }), 'invalid_grant', 400, 'a proof of another key');
    const body = tokens(await exchangeAs('inventory', { subject_token: bound, resource: BILLING }, { dpop: await tokenProof(key) }));
    assert.equal(body.token_type, 'DPoP');
    assert.deepEqual(claims(body.access_token).cnf, { jkt: key.jkt }, 'the exchanged token stays bound to the same key');
    const refusals = (await auditEvents(t, 'token-exchange')).filter((event) => event.outcome === 'failure' && event.detail.subject_client_id === 'orders' && event.detail.reason === 'invalid_grant');
    assert.ok(refusals.length >= 2, 'refusals audited');
  });

  it('revoked or expired subject tokens are refused; revoking the subject’s grant reaches the exchanged token', async () => {
    const other = await nativeSignIn(t, 'exchange-revoked@example.com');
    const exchanged = tokens(await exchangeAs('orders', { subject_token: other.access_token, audience: INVENTORY })).access_token;
    assertActive(await postForm(t, '/oauth/introspect', { token: exchanged }, { authorization: basic('inventory', secrets.inventory!) }), 'exchanged token before revocation');
    const revoked = await postForm(t, '/oauth/revoke', { token: other.refresh_token, client_id: 'mobile' });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assertOAuthError(await exchangeAs('orders', { subject_token: other.access_token, audience: INVENTORY }), 'invalid_grant', 400, 'revoked subject');
    // The exchanged token carries the subject's grant: it is revoked with it.
    assertInactive(await postForm(t, '/oauth/introspect', { token: exchanged }, { authorization: basic('inventory', secrets.inventory!) }), 'exchanged token after revocation');
    const live = await nativeSignIn(t, 'exchange-expired@example.com');
    clock.advance((Number(claims(live.access_token).exp) - Math.floor(clock.now() / 1000) + 31) * 1000);
    assertOAuthError(await exchangeAs('orders', { subject_token: live.access_token, audience: INVENTORY }), 'invalid_grant', 400, 'expired subject');
  });
});

describe('token exchange of ID tokens (policy id_tokens: true)', () => {
  let t: TestApp;
  before(async () => {
    t = await createOidcApp({
      clients: oidcClients([service('orders', [API])]),
      env: { GATEHOUSE_TOKEN_EXCHANGE_POLICIES: JSON.stringify([{ client_id: 'orders', subject_clients: ['webapp'], audiences: [INVENTORY], scopes: ['profile'], id_tokens: true }]) },
    });
  });
  after(() => t.close());

  it('an ID token of a subject client is accepted; an access token presented as an ID token is not', async () => {
    const cookie = await registerAndSignIn(t, 'exchange-id-token@example.com');
    const issued = await obtainTokens(t, cookie, { clientId: 'webapp', scope: 'openid profile' });
    const exchange = (subject: string) => postForm(t, '/oauth/token', { grant_type: EXCHANGE, subject_token: subject, subject_token_type: 'urn:ietf:params:oauth:token-type:id_token', audience: INVENTORY }, { authorization: basic('orders', secrets.orders!) });
    const body = tokens(await exchange(issued.id_token!));
    const exchanged = claims(body.access_token);
    assert.equal(exchanged.sub, claims(issued.id_token!).sub);
    assert.equal(exchanged.scope, 'profile');
    assert.deepEqual(exchanged.act, { sub: 'client:orders', client_id: 'orders' });
    // SEC-JWT-11: an access token is not an ID token.
    assertOAuthError(await exchange(issued.access_token), 'invalid_grant');
  });
});
