/**
 * Social-login providers as an operator declares them: the exact JSON snippets of
 * docs/social-login.md load and put their buttons on /login; bad entries stop start-up naming the
 * field; the admin API (admins only) adds, changes and removes providers with a write-only,
 * sealed client secret. The flows themselves run in login.test.ts (in-process) and
 * test/browser/social-login.test.ts (Chromium).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { loadConfig } from '../../src/config/load.ts';
import { redactedConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/config/types.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';

const guide = readFileSync(new URL('../../docs/social-login.md', import.meta.url), 'utf8');
const snippets = [...guide.matchAll(/```json\n([\s\S]*?)```/g)].map((match) => match[1]!);

/** The secrets every snippet names, as the operator would export them. */
const SECRETS = { GOOGLE_CLIENT_SECRET: 'google-secret-value', GITHUB_CLIENT_SECRET: 'github-secret-value', CORP_SSO_CLIENT_SECRET: 'corp-secret-value', FORGE_CLIENT_SECRET: 'forge-secret-value' };

function admin(t: TestApp, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, cookie: string | undefined, body?: unknown): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { origin: new URL(t.config.publicUrl).origin };
  if (cookie) headers.cookie = cookie;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return t.app.inject({ method, url, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
}

describe('docs/social-login.md snippets', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'gh-social-docs-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the Google, GitHub and generic OpenID Connect configurations', () => {
    const ids = snippets.map((snippet) => (JSON.parse(snippet) as { socialProviders: { id: string }[] }).socialProviders[0]!.id);
    for (const id of ['google', 'github', 'corp']) assert.ok(ids.includes(id), `a snippet for ${id}`);
  });

  for (const [index, snippet] of snippets.entries()) {
    it(`snippet ${index + 1} loads as written and shows its button on /login`, async () => {
      const file = join(dir, `config-${index}.json`);
      writeFileSync(file, snippet);
      const t = await createTestApp({ env: { GATEHOUSE_CONFIG: file, ...SECRETS } });
      try {
        const declared = (JSON.parse(snippet) as { socialProviders: Record<string, unknown>[] }).socialProviders[0]!;
        const login = await t.app.inject({ url: '/login' });
        assert.equal(login.statusCode, 200);
        const expectedName = declared.name ?? (declared.preset === 'google' ? 'Google' : 'GitHub');
        assert.match(login.body, new RegExp(`href="/login/social/${String(declared.id)}">Continue with ${String(expectedName)}<`));
        // The secret came from the environment and is never printed by doctor.
        const shown = JSON.stringify(redactedConfig(t.config));
        for (const secret of Object.values(SECRETS)) assert.ok(!shown.includes(secret), 'doctor output has no secret');
        assert.ok(shown.includes(String(declared.client_id)));
      } finally {
        await t.close();
      }
    });
  }

  it('the Google preset means Google’s issuer and OpenID Connect; the GitHub preset GitHub’s endpoints', async () => {
    const file = join(dir, 'both.json');
    const entries = snippets.flatMap((snippet) => (JSON.parse(snippet) as { socialProviders: unknown[] }).socialProviders);
    writeFileSync(file, JSON.stringify({ socialProviders: entries }));
    const t = await createTestApp({ env: { GATEHOUSE_CONFIG: file, ...SECRETS } });
    try {
      const users = createSqlUserStore(t.storage.database.db);
      const cookie = await registerAndSignIn(t, 'root@example.com');
      const user = await users.findByEmail('root@example.com');
      await users.setRoles(user!.id, ['admin'], Date.now());
      const listed = await admin(t, 'GET', '/api/admin/identity-providers', cookie);
      assert.equal(listed.statusCode, 200, listed.body);
      const providers = (listed.json() as { providers: Record<string, unknown>[] }).providers;
      const google = providers.find((provider) => provider.id === 'google')!;
      assert.equal(google.type, 'oidc');
      assert.equal(google.issuer, 'https://accounts.google.com');
      assert.deepEqual(google.scopes, ['openid', 'email', 'profile']);
      assert.equal(google.redirect_uri, `${t.config.publicUrl}/login/social/google/callback`);
      assert.equal(google.source, 'config');
      const github = providers.find((provider) => provider.id === 'github')!;
      assert.equal(github.type, 'oauth2');
      assert.equal(github.token_endpoint, 'https://github.com/login/oauth/access_token');
      assert.equal(github.emails_endpoint, 'https://api.github.com/user/emails');
      assert.deepEqual(github.claims, { subject: 'id', email: 'email', name: 'name' });
      for (const secret of Object.values(SECRETS)) assert.ok(!listed.body.includes(secret), 'no secret in the admin answer');
    } finally {
      await t.close();
    }
  });
});

describe('socialProviders refused at start-up', () => {
  const load = (providers: unknown[], env: Record<string, string> = {}) => () =>
    loadConfig({ env: { GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify(providers), ...env } });

  it('a secret written in the config', () => {
    assert.throws(load([{ id: 'google', preset: 'google', client_id: 'x', client_secret: 'hunter2' }]), (error: unknown) => error instanceof ConfigError && /client_secret: a secret is never written/.test(error.message) && !error.message.includes('hunter2'));
  });

  it('a secret variable that is not set', () => {
    assert.throws(load([{ id: 'google', preset: 'google', client_id: 'x', client_secret_env: 'NOT_SET_ANYWHERE' }]), /NOT_SET_ANYWHERE is not set/);
  });

  it('a GATEHOUSE_ variable as the secret’s home', () => {
    assert.throws(load([{ id: 'google', preset: 'google', client_id: 'x', client_secret_env: 'GATEHOUSE_GOOGLE' }]), /not a GATEHOUSE_ name/);
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown field', { id: 'g', preset: 'google', client_id: 'x', scope: 'openid' }, /socialProviders\[0\]\.scope: unknown field/],
    ['an id that cannot be a path segment', { id: 'Google/../x', preset: 'google', client_id: 'x' }, /socialProviders\[0\]\.id/],
    ['plain http to a remote host', { id: 'corp', type: 'oidc', name: 'Corp', issuer: 'http://sso.corp.example', client_id: 'x' }, /socialProviders\[0\]\.issuer: must use https/],
    ['an HMAC ID-token algorithm', { id: 'corp', type: 'oidc', name: 'Corp', issuer: 'https://sso.corp.example', client_id: 'x', id_token_signed_response_alg: 'HS256' }, /id_token_signed_response_alg/],
    ['alg none', { id: 'corp', type: 'oidc', name: 'Corp', issuer: 'https://sso.corp.example', client_id: 'x', id_token_signed_response_alg: 'none' }, /id_token_signed_response_alg/],
    ['OpenID Connect without the openid scope', { id: 'corp', type: 'oidc', name: 'Corp', issuer: 'https://sso.corp.example', client_id: 'x', scopes: ['email'] }, /scopes: must include "openid"/],
    ['OAuth 2.0 without endpoints', { id: 'forge', type: 'oauth2', name: 'Forge', issuer: 'https://forge.example', client_id: 'x' }, /authorization_endpoint: is required/],
    ['OAuth 2.0 without a subject member', { id: 'forge', preset: 'github', client_id: 'x', claims: { email: 'email' } }, /claims\.subject: is required/],
    ['an unknown preset', { id: 'fb', preset: 'facebook', client_id: 'x' }, /preset: must be "google" or "github"/],
  ];
  for (const [what, entry, message] of bad) {
    it(what, async () => {
      const config = load([{ ...entry, client_secret_env: 'SOME_SECRET' }], { SOME_SECRET: 's3cret' })();
      // Settings are checked when the app starts (the registry), naming socialProviders[i].field.
      await assert.rejects(createTestApp({ env: { GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify(config.socialProviders.map(({ client_secret: _s, ...rest }) => rest)), SOME_SECRET: 's3cret' } }), (error: unknown) => error instanceof ConfigError && message.test(error.message));
    });
  }

  it('two providers with one id', async () => {
    const entry = { id: 'google', preset: 'google', client_id: 'x', client_secret_env: 'S' };
    await assert.rejects(createTestApp({ env: { GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([entry, entry]), S: 'v' } }), /socialProviders\[1\]\.id: "google" is also declared/);
  });
});

describe('admin API for identity providers', () => {
  let t: TestApp;
  let adminCookie: string;
  let userCookie: string;
  before(async () => {
    t = await createTestApp({ env: { GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([{ id: 'google', preset: 'google', client_id: 'g', client_secret_env: 'G_SECRET' }]), G_SECRET: 'from-env' } });
    const users = createSqlUserStore(t.storage.database.db);
    adminCookie = await registerAndSignIn(t, 'admin@example.com');
    await users.setRoles((await users.findByEmail('admin@example.com'))!.id, ['admin'], Date.now());
    userCookie = await registerAndSignIn(t, 'user@example.com');
  });
  after(() => t.close());

  const corp = { id: 'corp', type: 'oidc', name: 'Corp SSO', issuer: 'https://sso.corp.example', client_id: 'gatehouse', client_secret: 'top-secret-corp' };

  it('only admins: anonymous 401, a user 403, nothing created', async () => {
    assert.equal((await admin(t, 'POST', '/api/admin/identity-providers', undefined, corp)).statusCode, 401);
    assert.equal((await admin(t, 'POST', '/api/admin/identity-providers', userCookie, corp)).statusCode, 403);
    assert.equal((await admin(t, 'GET', '/api/admin/identity-providers', userCookie)).statusCode, 403);
    assert.equal((await admin(t, 'GET', '/api/admin/identity-providers/corp', adminCookie)).statusCode, 404);
  });

  it('creates with a write-only secret sealed at rest, and shows the redirect URI', async () => {
    const created = await admin(t, 'POST', '/api/admin/identity-providers', adminCookie, corp);
    assert.equal(created.statusCode, 201, created.body);
    const body = created.json() as Record<string, unknown>;
    assert.equal(body.redirect_uri, `${t.config.publicUrl}/login/social/corp/callback`);
    assert.equal(body.source, 'api');
    assert.ok(!created.body.includes('top-secret-corp'));
    assert.equal(created.headers['cache-control'], 'no-store');
    const row = await t.storage.database.db.selectFrom('identity_providers').selectAll().where('id', '=', 'corp').executeTakeFirstOrThrow();
    assert.ok(!JSON.stringify(row).includes('top-secret-corp'), 'the secret is sealed');
    assert.match(row.client_secret_sealed ?? '', /^v1\./);
    const login = await t.app.inject({ url: '/login' });
    assert.match(login.body, /href="\/login\/social\/corp">Continue with Corp SSO</);
    assert.ok(!t.logText().includes('top-secret-corp'), 'the secret is never logged');
  });

  it('refuses bad settings naming the field, and duplicates', async () => {
    const bad = await admin(t, 'POST', '/api/admin/identity-providers', adminCookie, { ...corp, id: 'corp2', issuer: 'http://sso.corp.example' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /issuer: must use https/);
    const noSecret = await admin(t, 'POST', '/api/admin/identity-providers', adminCookie, { ...corp, id: 'corp3', client_secret: undefined });
    assert.equal(noSecret.statusCode, 400);
    assert.equal((await admin(t, 'POST', '/api/admin/identity-providers', adminCookie, corp)).statusCode, 409);
    assert.equal((await admin(t, 'POST', '/api/admin/identity-providers', adminCookie, { ...corp, id: 'google' })).statusCode, 409, 'the config file has google');
  });

  it('changes fields and rotates the secret; the id never changes; config-file providers are read-only', async () => {
    const patched = await admin(t, 'PATCH', '/api/admin/identity-providers/corp', adminCookie, { name: 'Corporate', enabled: false, client_secret: 'rotated-secret' });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal((patched.json() as { name: string }).name, 'Corporate');
    assert.ok(!patched.body.includes('rotated-secret'));
    const login = await t.app.inject({ url: '/login' });
    assert.doesNotMatch(login.body, /Corporate/, 'a disabled provider has no button');
    assert.equal((await t.app.inject({ url: '/login/social/corp' })).statusCode, 404, 'and cannot be started');
    assert.equal((await admin(t, 'PATCH', '/api/admin/identity-providers/corp', adminCookie, { id: 'other' })).statusCode, 400);
    assert.equal((await admin(t, 'PATCH', '/api/admin/identity-providers/google', adminCookie, { name: 'G' })).statusCode, 409);
    assert.equal((await admin(t, 'DELETE', '/api/admin/identity-providers/google', adminCookie)).statusCode, 409);
  });

  it('deletes, and every change is audited', async () => {
    assert.equal((await admin(t, 'DELETE', '/api/admin/identity-providers/corp', adminCookie)).statusCode, 204);
    assert.equal((await admin(t, 'GET', '/api/admin/identity-providers/corp', adminCookie)).statusCode, 404);
    const types = (await t.storage.database.db.selectFrom('audit_events').select('type').where('type', 'like', 'identity-provider-%').execute()).map((row) => row.type);
    assert.deepEqual(types, ['identity-provider-created', 'identity-provider-updated', 'identity-provider-deleted']);
  });
});
