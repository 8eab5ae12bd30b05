/**
 * Social login end to end, in-process Gatehouse against real upstream servers on loopback:
 * panva's `oidc-provider` configured as "Google", a scripted OpenID Connect provider that can
 * mint every kind of bad ID token, and a GitHub-style OAuth 2.0 server. The acceptance list is
 * SEC-OAUTH-31…34 (docs/social-login.md has the rules). Browser-level runs of the main paths
 * are in test/browser/social-login.test.ts.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createBrowser } from '../../src/ui/test-browser.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn, PASSWORD } from '../support/auth.ts';
import { createOidcApp, hidden, pkce, REDIRECT } from '../support/oidc.ts';
import { assertRefused, callbackFor, currentUser, socialAttempt, socialFailures, UPSTREAM_CLIENT_ID } from '../support/social.ts';
import { startGoogleLike, type GoogleLike } from '../support/upstream/google.ts';
import { startScriptedIdp, type ScriptedIdp, type Tamper } from '../support/upstream/scripted-idp.ts';

const SECRET = 'upstream-client-secret-for-tests';

let google: GoogleLike;
let mock: ScriptedIdp;
let mock2: ScriptedIdp;
let lying: ScriptedIdp;
let github: ScriptedIdp;

function providersEnv(): Record<string, string> {
  const oidc = (id: string, idp: ScriptedIdp) => ({ id, type: 'oidc', name: id.toUpperCase(), issuer: idp.issuer, client_id: UPSTREAM_CLIENT_ID, client_secret_env: 'UPSTREAM_SECRET' });
  return {
    UPSTREAM_SECRET: SECRET,
    GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([
      { id: 'google', preset: 'google', issuer: google.issuer, client_id: UPSTREAM_CLIENT_ID, client_secret_env: 'UPSTREAM_SECRET' },
      {
        id: 'github',
        preset: 'github',
        issuer: github.issuer,
        authorization_endpoint: github.authorizationEndpoint,
        token_endpoint: github.tokenEndpoint,
        userinfo_endpoint: github.userinfoEndpoint,
        emails_endpoint: github.emailsEndpoint,
        client_id: UPSTREAM_CLIENT_ID,
        client_secret_env: 'UPSTREAM_SECRET',
      },
      oidc('mock', mock),
      oidc('mock2', mock2),
      oidc('lying', lying),
    ]),
  };
}

before(async () => {
  google = await startGoogleLike({ clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uris: [callbackFor('google')] }] });
  mock = await startScriptedIdp({ mode: 'oidc', client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uri: callbackFor('mock') });
  mock2 = await startScriptedIdp({ mode: 'oidc', client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uri: callbackFor('mock2') });
  lying = await startScriptedIdp({ mode: 'oidc', client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uri: callbackFor('lying') });
  lying.metadataIssuerOverride = 'https://someone-else.example';
  github = await startScriptedIdp({ mode: 'github', client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uri: callbackFor('github') });
});

after(async () => {
  await Promise.all([google?.close(), mock?.close(), mock2?.close(), lying?.close(), github?.close()]);
});

const googleAs = (accountId: string) => (url: string) => google.signInHeadless(url, accountId);
const approveBy = (idp: ScriptedIdp) => (url: string) => idp.approve(url);

describe('sign-in with an OpenID Connect provider (oidc-provider as Google)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('/login shows a button per enabled provider', async () => {
    const page = await t.app.inject({ url: '/login' });
    for (const [id, name] of [['google', 'Google'], ['github', 'GitHub'], ['mock', 'MOCK']]) assert.match(page.body, new RegExp(`href="/login/social/${id}">Continue with ${name}<`));
  });

  it('the first sign-in creates the user; PKCE S256, state and nonce reach the upstream; the verifier matches', async () => {
    google.accounts.set('g-alice', { email: 'alice@gmail.test', email_verified: true, name: 'Alice' });
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'google', googleAs('g-alice'));
    assert.equal(attempt.response.statusCode, 303, attempt.response.body.slice(0, 400));
    assert.equal(attempt.response.headers.location, '/account');
    const user = await currentUser(t, b);
    assert.equal(user?.email, 'alice@gmail.test');

    const request = google.authorizationRequests.at(-1)!;
    assert.equal(request.get('code_challenge_method'), 'S256');
    assert.ok((request.get('state') ?? '').length >= 32, 'a random state');
    assert.ok((request.get('nonce') ?? '').length >= 32, 'a random nonce');
    assert.equal(request.get('redirect_uri'), callbackFor('google'));
    assert.equal(attempt.callback.searchParams.get('iss'), google.issuer, 'oidc-provider sends RFC 9207 iss');
    const verifier = google.tokenRequests.at(-1)!.get('code_verifier')!;
    assert.equal(createHash('sha256').update(verifier).digest('base64url'), request.get('code_challenge'));

    const stored = await createSqlUserStore(t.storage.database.db).findByEmail('alice@gmail.test');
    assert.ok(stored?.emailVerifiedAt, 'the verified upstream address is confirmed here');
    assert.equal(stored?.passwordHash, null, 'no password');
    const identity = await t.storage.database.db.selectFrom('user_identities').selectAll().where('user_id', '=', stored!.id).executeTakeFirstOrThrow();
    assert.equal(identity.issuer, google.issuer);
    assert.equal(identity.subject, 'g-alice');
    assert.equal(identity.tokens_sealed, null, 'upstream tokens are not kept unless configured');
  });

  it('the second sign-in opens the same user, even after the upstream email changed', async () => {
    const first = await currentUser(t, await signedInBrowser('g-alice'));
    google.accounts.set('g-alice', { email: 'alice.new@gmail.test', email_verified: true });
    // Someone owns the new address here: the identity must not move to them (SEC-OAUTH-34).
    await registerAndSignIn(t, 'alice.new@gmail.test');
    const second = await currentUser(t, await signedInBrowser('g-alice'));
    assert.equal(second?.id, first?.id);
    assert.equal(second?.email, 'alice@gmail.test');
    google.accounts.set('g-alice', { email: 'alice@gmail.test', email_verified: true });
  });

  async function signedInBrowser(accountId: string) {
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'google', googleAs(accountId));
    assert.equal(attempt.response.statusCode, 303, attempt.response.body.slice(0, 400));
    return b;
  }

  it('an unverified upstream email never links and never creates an account', async () => {
    await registerAndSignIn(t, 'bob@example.com');
    google.accounts.set('g-bob', { email: 'bob@example.com', email_verified: false });
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'google', googleAs('g-bob'));
    assertRefused(attempt.response, 'unverified email of an existing account', 403);
    assert.match(attempt.response.body, /not verified/);
    assert.equal(await currentUser(t, b), undefined);

    google.accounts.set('g-carol', { email: 'carol@example.com' }); // email_verified absent
    const other = await socialAttempt(createBrowser(t.app), 'google', googleAs('g-carol'));
    assertRefused(other.response, 'unverified email, no account', 403);
    assert.equal(await createSqlUserStore(t.storage.database.db).findByEmail('carol@example.com'), undefined);
    assert.deepEqual((await socialFailures(t)).slice(-2), ['email-unverified', 'email-unverified']);
  });

  it('a tampered or missing state, a replayed callback and a callback in another browser are refused', async () => {
    google.accounts.set('g-dave', { email: 'dave@gmail.test', email_verified: true });
    const b = createBrowser(t.app);
    const start = await b.get('/login/social/google');
    const callback = await google.signInHeadless(String(start.headers.location), 'g-dave');

    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    assertRefused(await b.get(tampered.pathname + tampered.search), 'tampered state', 400);
    const missing = new URL(callback);
    missing.searchParams.delete('state');
    assertRefused(await b.get(missing.pathname + missing.search), 'missing state', 400);

    // The attacker's own valid callback, delivered to a victim's browser (login CSRF / code injection).
    const victim = createBrowser(t.app);
    await victim.get('/login');
    assertRefused(await victim.get(callback.pathname + callback.search), 'callback in another browser', 400);
    assert.equal(await currentUser(t, victim), undefined);
    // …and that callback was used up by the attempt: the browser that started it cannot replay it.
    assertRefused(await b.get(callback.pathname + callback.search), 'replay after use', 400);

    const fresh = await socialAttempt(b, 'google', googleAs('g-dave'));
    assert.equal(fresh.response.statusCode, 303);
    assertRefused(await b.get(fresh.callback.pathname + fresh.callback.search), 'replay of a completed callback', 400);
    assert.deepEqual((await socialFailures(t)).slice(-5), ['state-unknown', 'state-missing', 'browser-mismatch', 'state-unknown', 'state-unknown']);
  });
});

describe('upstream ID tokens are validated (SEC-OAUTH-33)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  const tampers: Tamper[] = ['alg-none', 'hs256-with-public-key', 'foreign-key', 'bad-signature', 'wrong-iss', 'wrong-aud', 'extra-aud-wrong-azp', 'expired', 'future-iat', 'missing-sub', 'wrong-nonce', 'missing-nonce', 'duplicate-sub'];
  for (const tamper of tampers) {
    it(`${tamper} → refused, no session, no account`, async () => {
      mock.nextIdentity = { sub: `m-${tamper}`, email: `${tamper}@mock.test`, email_verified: true, name: 'M' };
      mock.tamper = tamper;
      const b = createBrowser(t.app);
      const attempt = await socialAttempt(b, 'mock', approveBy(mock));
      assertRefused(attempt.response, tamper, 403);
      assert.match(attempt.response.body, /could not be verified/);
      assert.equal(await currentUser(t, b), undefined);
      assert.equal(await createSqlUserStore(t.storage.database.db).findByEmail(`${tamper}@mock.test`), undefined);
    });
  }

  it('the same provider with an untampered token signs in (the refusals above were the tampering)', async () => {
    mock.nextIdentity = { sub: 'm-good', email: 'good@mock.test', email_verified: true };
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'mock', approveBy(mock));
    assert.equal(attempt.response.statusCode, 303, attempt.response.body.slice(0, 400));
    assert.equal((await currentUser(t, b))?.email, 'good@mock.test');
  });
});

describe('mix-up between upstream providers (SEC-OAUTH-32)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('a response of provider A delivered to B’s callback is refused before any token request', async () => {
    mock.nextIdentity = { sub: 'mix-1', email: 'mix1@mock.test', email_verified: true };
    const b = createBrowser(t.app);
    const start = await b.get('/login/social/mock');
    const callback = await mock.approve(String(start.headers.location));
    const before = { a: mock.tokenRequests.length, b: mock2.tokenRequests.length };
    const crossed = `/login/social/mock2/callback${callback.search}`;
    assertRefused(await b.get(crossed), 'A’s response at B’s callback', 400);
    assert.deepEqual({ a: mock.tokenRequests.length, b: mock2.tokenRequests.length }, before, 'no token request to either provider');
    assert.equal(await currentUser(t, b), undefined);
  });

  it('an iss parameter naming another issuer, or missing where the provider announces it, is refused', async () => {
    for (const iss of ['https://mock2.evil.example', null]) {
      mock.nextIdentity = { sub: 'mix-2', email: 'mix2@mock.test', email_verified: true };
      mock.tamperAuthorizationResponse = { iss };
      const b = createBrowser(t.app);
      const before = mock.tokenRequests.length;
      const attempt = await socialAttempt(b, 'mock', approveBy(mock));
      assertRefused(attempt.response, `iss ${String(iss)}`, 403);
      assert.equal(mock.tokenRequests.length, before, 'the code was not redeemed');
    }
  });

  it('upstream metadata whose issuer is not the configured one is never used', async () => {
    const b = createBrowser(t.app);
    const start = await b.get('/login/social/lying');
    assert.ok(start.statusCode >= 400, `refused: ${start.statusCode}`);
    assert.equal(start.headers.location, undefined, 'the browser is not sent to that provider');
    assert.equal(lying.authorizationRequests.length, 0);
  });
});

describe('account linking (SEC-OAUTH-34)', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('a verified email of an existing account links only after the password; a wrong one does not', async () => {
    await registerAndSignIn(t, 'erin@example.com');
    google.accounts.set('g-erin', { email: 'erin@example.com', email_verified: true });
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'google', googleAs('g-erin'));
    assert.equal(attempt.response.statusCode, 303);
    assert.equal(attempt.response.headers.location, '/login/social/link');
    assert.equal(await currentUser(t, b), undefined, 'no session before the proof');
    const page = await b.get('/login/social/link');
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /erin@example\.com/);

    const wrong = await b.post('/login/social/link', { csrf: hidden(page.body, 'csrf'), password: 'not the password at all' });
    assert.equal(wrong.statusCode, 401);
    assert.equal(await currentUser(t, b), undefined);
    assert.equal((await t.storage.database.db.selectFrom('user_identities').select('id').where('subject', '=', 'g-erin').execute()).length, 0);

    const right = await b.post('/login/social/link', { csrf: hidden(page.body, 'csrf'), password: PASSWORD });
    assert.equal(right.statusCode, 303, right.body.slice(0, 300));
    const erin = await currentUser(t, b);
    assert.equal(erin?.email, 'erin@example.com');
    // From now on the identity signs in directly.
    const again = createBrowser(t.app);
    const next = await socialAttempt(again, 'google', googleAs('g-erin'));
    assert.equal(next.response.headers.location, '/account');
    assert.equal((await currentUser(t, again))?.id, erin?.id);
    const proof = await t.storage.database.db.selectFrom('audit_events').select('detail').where('type', '=', 'identity-linked').where('user_id', '=', erin!.id).executeTakeFirstOrThrow();
    assert.equal((JSON.parse(proof.detail) as { proof: string }).proof, 'password');
  });

  it('the mailed link proves the account, only in the browser that started', async () => {
    await registerAndSignIn(t, 'frank@example.com');
    google.accounts.set('g-frank', { email: 'frank@example.com', email_verified: true });
    const b = createBrowser(t.app);
    await socialAttempt(b, 'google', googleAs('g-frank'));
    const page = await b.get('/login/social/link');
    const sent = await b.post('/login/social/link/email', { csrf: hidden(page.body, 'csrf') });
    assert.equal(sent.statusCode, 303);
    const mail = await waitForMail(t, 'frank@example.com', '/login/social/link/confirm');
    const token = new URL(mail).searchParams.get('token')!;

    const elsewhere = createBrowser(t.app);
    const confirmPage = await elsewhere.get(`/login/social/link/confirm?token=${encodeURIComponent(token)}`);
    const refused = await elsewhere.post('/login/social/link/confirm', { csrf: hidden(confirmPage.body, 'csrf'), token });
    assert.equal(refused.statusCode, 400, 'another browser cannot use the link');
    assert.equal(await currentUser(t, elsewhere), undefined);

    const mine = await b.get(`/login/social/link/confirm?token=${encodeURIComponent(token)}`);
    const confirmed = await b.post('/login/social/link/confirm', { csrf: hidden(mine.body, 'csrf'), token });
    assert.equal(confirmed.statusCode, 303, confirmed.body.slice(0, 300));
    assert.equal((await currentUser(t, b))?.email, 'frank@example.com');
    const fresh = await b.get(`/login/social/link/confirm?token=${encodeURIComponent(token)}`);
    const replay = await b.post('/login/social/link/confirm', { csrf: hidden(fresh.body, 'csrf'), token });
    assert.equal(replay.statusCode, 400, 'the link works once');
  });

  it('an account whose address was never confirmed: no password proof; the email proof ends the squatter’s password and sessions', async () => {
    // A squatter signs up with the victim's address and never confirms it (account pre-hijacking).
    const squatter = await t.app.inject({ method: 'POST', url: '/api/auth/sign-up', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email: 'grace@example.com', password: PASSWORD }) });
    assert.equal(squatter.statusCode, 202);
    const squatterSession = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: t.config.publicUrl }, payload: JSON.stringify({ email: 'grace@example.com', password: PASSWORD }) });
    const squatterCookie = String([squatterSession.headers['set-cookie']].flat().find((c) => String(c).startsWith('__Host-gatehouse='))).split(';')[0]!;

    google.accounts.set('g-grace', { email: 'grace@example.com', email_verified: true });
    const b = createBrowser(t.app);
    await socialAttempt(b, 'google', googleAs('g-grace'));
    const page = await b.get('/login/social/link');
    assert.doesNotMatch(page.body, /name="password"/, 'no password proof for an unconfirmed account');
    const byPassword = await b.post('/login/social/link', { csrf: hidden(page.body, 'csrf'), password: PASSWORD });
    assert.equal(byPassword.statusCode, 400, 'the squatter’s password proves nothing');
    await b.post('/login/social/link/email', { csrf: hidden(page.body, 'csrf') });
    const token = new URL(await waitForMail(t, 'grace@example.com', '/login/social/link/confirm')).searchParams.get('token')!;
    const confirm = await b.get(`/login/social/link/confirm?token=${encodeURIComponent(token)}`);
    assert.equal((await b.post('/login/social/link/confirm', { csrf: hidden(confirm.body, 'csrf'), token })).statusCode, 303);

    const grace = await createSqlUserStore(t.storage.database.db).findByEmail('grace@example.com');
    assert.equal(grace?.passwordHash, null, 'the squatter’s password is gone');
    assert.ok(grace?.emailVerifiedAt, 'the address is confirmed');
    assert.equal((await t.app.inject({ url: '/api/auth/session', headers: { cookie: squatterCookie } })).statusCode, 401, 'the squatter’s session ended');
    const retry = await t.app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: t.config.publicUrl }, payload: JSON.stringify({ email: 'grace@example.com', password: PASSWORD }) });
    assert.equal(retry.statusCode, 401);
  });

  it('the same subject at two providers is two identities', async () => {
    mock.nextIdentity = { sub: 'shared-sub', email: 'henry@mock.test', email_verified: true };
    const one = createBrowser(t.app);
    await socialAttempt(one, 'mock', approveBy(mock));
    mock2.nextIdentity = { sub: 'shared-sub', email: 'henry2@mock.test', email_verified: true };
    const two = createBrowser(t.app);
    await socialAttempt(two, 'mock2', approveBy(mock2));
    const [a, b] = [await currentUser(t, one), await currentUser(t, two)];
    assert.ok(a && b);
    assert.notEqual(a.id, b.id);
  });
});

describe('GitHub-style OAuth 2.0 provider', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('signs in with the numeric id as subject and the verified primary address; PKCE is sent', async () => {
    github.nextIdentity = { sub: '4242', login: 'octo', name: 'Octo Cat', email: 'octo@github.test', email_verified: true };
    const b = createBrowser(t.app);
    const attempt = await socialAttempt(b, 'github', approveBy(github));
    assert.equal(attempt.response.statusCode, 303, attempt.response.body.slice(0, 400));
    const user = await currentUser(t, b);
    assert.equal(user?.email, 'octo@github.test');
    const identity = await t.storage.database.db.selectFrom('user_identities').selectAll().where('user_id', '=', user!.id).executeTakeFirstOrThrow();
    assert.equal(identity.subject, '4242');
    assert.equal(identity.issuer, github.issuer);
    assert.equal(github.authorizationRequests.at(-1)!.get('code_challenge_method'), 'S256');
    assert.ok(github.tokenRequests.at(-1)!.get('code_verifier'));

    github.nextIdentity = { sub: '4242', login: 'octo-renamed', email: 'octo@github.test', email_verified: true };
    const again = createBrowser(t.app);
    await socialAttempt(again, 'github', approveBy(github));
    assert.equal((await currentUser(t, again))?.id, user?.id, 'a renamed login is the same identity');
  });

  it('an unverified primary address is refused', async () => {
    github.nextIdentity = { sub: '5151', login: 'nov', email: 'nov@github.test', email_verified: false };
    const attempt = await socialAttempt(createBrowser(t.app), 'github', approveBy(github));
    assertRefused(attempt.response, 'unverified GitHub address', 403);
  });
});

describe('linked accounts on /account', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('lists identities, links another provider (POST + CSRF), never removes the last way in', async () => {
    google.accounts.set('g-ivy', { email: 'ivy@gmail.test', email_verified: true, name: 'Ivy' });
    const b = createBrowser(t.app);
    await socialAttempt(b, 'google', googleAs('g-ivy'));
    let account = await b.get('/account');
    assert.equal(account.statusCode, 200);
    assert.match(account.body, /Ways to sign in/);
    assert.match(account.body, /This is your only way to sign in/);
    assert.doesNotMatch(account.body, /Remove Google/);
    assert.match(String(account.headers['content-security-policy']), new RegExp(`form-action 'self'[^;]*${new URL(github.authorizationEndpoint).origin.replace(/[.]/g, '\\.')}`), 'the link form may redirect to the provider');

    const identityId = (await t.storage.database.db.selectFrom('user_identities').select('id').where('subject', '=', 'g-ivy').executeTakeFirstOrThrow()).id;
    const refused = await b.post(`/account/identities/${identityId}/unlink`, { csrf: hidden(account.body, 'csrf') });
    assert.equal(refused.statusCode, 409);
    assert.match(refused.body, /only way you can sign in/);

    // Cross-site: the link form without the token is refused.
    assert.equal((await b.post('/account/identities/link/github', {})).statusCode, 403);
    github.nextIdentity = { sub: '7777', login: 'ivy', email: 'ivy@gmail.test', email_verified: true };
    const start = await b.post('/account/identities/link/github', { csrf: hidden(account.body, 'csrf') });
    assert.equal(start.statusCode, 303, start.body.slice(0, 300));
    const callback = await github.approve(String(start.headers.location));
    const linked = await b.get(callback.pathname + callback.search);
    assert.equal(linked.statusCode, 303);
    assert.match(String(linked.headers.location), /notice=identity-linked/);

    account = await b.get('/account');
    assert.match(account.body, /Remove Google/);
    assert.match(account.body, /Remove GitHub/);
    const removed = await b.post(`/account/identities/${identityId}/unlink`, { csrf: hidden(account.body, 'csrf') });
    assert.equal(removed.statusCode, 303);
    const types = (await t.storage.database.db.selectFrom('audit_events').select('type').where('type', 'in', ['identity-linked', 'identity-unlinked']).execute()).map((row) => row.type);
    assert.deepEqual(types, ['identity-linked', 'identity-linked', 'identity-unlinked']);
    // Google no longer opens this account; a verified Google address now asks for proof instead.
    const again = await socialAttempt(createBrowser(t.app), 'google', googleAs('g-ivy'));
    assert.equal(again.response.headers.location, '/login/social/link');
  });

  it('an identity linked to another account cannot be linked here', async () => {
    google.accounts.set('g-jack', { email: 'jack@gmail.test', email_verified: true });
    await socialAttempt(createBrowser(t.app), 'google', googleAs('g-jack'));
    const cookie = await registerAndSignIn(t, 'kate@example.com');
    const b = createBrowser(t.app);
    b.jar.set('__Host-gatehouse', cookie.split('=').slice(1).join('='));
    const account = await b.get('/account');
    const start = await b.post('/account/identities/link/google', { csrf: hidden(account.body, 'csrf') });
    const callback = await google.signInHeadless(String(start.headers.location), 'g-jack');
    const response = await b.get(callback.pathname + callback.search);
    assertRefused(response, 'identity of another account', 409);
  });
});

describe('inside an OAuth authorization', () => {
  let t: TestApp;
  before(async () => {
    t = await createOidcApp({ env: providersEnv() });
  });
  after(() => t.close());

  it('a new user from Google continues the authorization to the client with a code', async () => {
    google.accounts.set('g-luke', { email: 'luke@gmail.test', email_verified: true });
    const b = createBrowser(t.app);
    const { challenge } = pkce();
    const query = new URLSearchParams({ response_type: 'code', client_id: 'firstweb', redirect_uri: REDIRECT, scope: 'openid email', state: 's1', nonce: 'n1', code_challenge: challenge, code_challenge_method: 'S256' });
    const authorize = `/oauth/authorize?${query}`;
    const toLogin = await b.get(authorize);
    assert.equal(toLogin.statusCode, 303);
    const login = await b.get(String(toLogin.headers.location));
    const link = /href="(\/login\/social\/google\?return_to=[^"]+)"/.exec(login.body)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(link, 'the Google button carries the authorization');
    const returnTo = new URL(link, t.config.publicUrl).searchParams.get('return_to')!;
    const attempt = await socialAttempt(b, 'google', googleAs('g-luke'), returnTo);
    assert.equal(attempt.response.statusCode, 303);
    assert.equal(attempt.response.headers.location, returnTo);
    const result = await b.get(returnTo);
    assert.equal(result.statusCode, 303, result.body.slice(0, 300));
    const redirect = new URL(String(result.headers.location));
    assert.equal(redirect.origin + redirect.pathname, REDIRECT);
    assert.ok(redirect.searchParams.get('code'));
    assert.equal(redirect.searchParams.get('state'), 's1');
  });
});

describe('upstream trouble', () => {
  it('an unreachable provider is a clear 502 page, not a 500', async () => {
    const idp = await startScriptedIdp({ mode: 'oidc', client_id: UPSTREAM_CLIENT_ID, client_secret: SECRET, redirect_uri: callbackFor('gone') });
    const issuer = idp.issuer;
    await idp.close();
    const t = await createTestApp({ env: { UPSTREAM_SECRET: SECRET, GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([{ id: 'gone', type: 'oidc', name: 'Gone', issuer, client_id: UPSTREAM_CLIENT_ID, client_secret_env: 'UPSTREAM_SECRET' }]) } });
    try {
      const response = await t.app.inject({ url: '/login/social/gone' });
      assert.equal(response.statusCode, 502);
      assert.match(response.body, /cannot be reached/);
      assert.equal((await t.app.inject({ url: '/login/social/nope' })).statusCode, 404);
      assert.equal((await t.app.inject({ url: '/login/social/..%2F..%2Fetc' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });

  it('kept upstream tokens are sealed at rest, never stored or logged in the clear', async () => {
    const env = providersEnv();
    const providers = (JSON.parse(env.GATEHOUSE_SOCIAL_PROVIDERS!) as Record<string, unknown>[]).map((entry) => (entry.id === 'mock' ? { ...entry, store_tokens: true } : entry));
    const t = await createTestApp({ env: { ...env, GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify(providers) } });
    try {
      mock.nextIdentity = { sub: 'm-tokens', email: 'tokens@mock.test', email_verified: true };
      const b = createBrowser(t.app);
      await socialAttempt(b, 'mock', approveBy(mock));
      const row = await t.storage.database.db.selectFrom('user_identities').selectAll().where('subject', '=', 'm-tokens').executeTakeFirstOrThrow();
      assert.match(row.tokens_sealed ?? '', /^v1\./);
      const issued = mock.issuedAccessTokens.at(-1)!;
      assert.ok(!JSON.stringify(row).includes(issued), 'not in the clear');
      assert.ok(!t.logText().includes(issued), 'never logged');
      const account = await b.get('/account');
      assert.ok(!account.body.includes(issued), 'never shown');
    } finally {
      await t.close();
    }
  });
});

async function waitForMail(t: TestApp, to: string, path: string): Promise<string> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const mail = [...t.mails].reverse().find((item) => item.to === to && item.text.includes(path));
    const link = mail ? new RegExp(`https?://\\S+${path}\\?token=\\S+`).exec(mail.text)?.[0] : undefined;
    if (link) return link;
    assert.ok(Date.now() < deadline, `a mail to ${to} with ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
