/**
 * The three ways to register a client agree: the admin API, `gatehouse clients create` (a real
 * process against a SQLite file) and the config file (`GATEHOUSE_CLIENTS`, applied at start)
 * produce the same client from the same metadata. Plus the CLI's own behaviour: the secret
 * printed once and stored hashed, exit code 2 with a message naming the field on bad input.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { hashSecret } from '../../src/crypto/random.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import type { Client } from '../../src/features/clients/model.ts';
import { createClientStore } from '../../src/features/clients/store.ts';
import { openDatabase } from '../../src/storage/sql/database.ts';
import { createTestApp, type TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { runCli, type RunResult } from '../support/spawn-server.ts';

/** A client without what differs by construction: id, source and times. */
function comparable(client: Client | undefined): Omit<Client, 'clientId' | 'source' | 'createdAt' | 'updatedAt'> {
  assert.ok(client, 'the client exists');
  const { clientId: _id, source: _source, createdAt: _created, updatedAt: _updated, ...rest } = client;
  return rest;
}

describe('clients: API, CLI and config file agree', () => {
  let dir: string;
  let databaseUrl: string;
  let jwksFile: string;
  let specs: Record<string, Record<string, unknown>>;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-clients-cli-'));
    databaseUrl = `sqlite:${join(dir, 'gatehouse.sqlite')}`;
    const jwk = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
    const jwks = { keys: [{ ...jwk, kid: 'job-1', alg: 'ES256', use: 'sig' }] };
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, JSON.stringify(jwks));
    specs = {
      billing: {
        name: 'Billing portal',
        type: 'confidential',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
        redirect_uris: ['https://billing.example.com/cb', 'http://127.0.0.1/cb'],
        post_logout_redirect_uris: ['https://billing.example.com/'],
        scopes: ['openid', 'profile', 'billing:read'],
        audiences: ['https://api.example.com'],
        access_token_ttl_seconds: 300,
        refresh_token_idle_ttl_seconds: 86400,
        refresh_token_absolute_ttl_seconds: 2592000,
        first_party: true,
        logo_uri: 'https://billing.example.com/logo.png',
        client_uri: 'https://billing.example.com/',
        policy_uri: 'https://billing.example.com/privacy',
        tos_uri: 'https://billing.example.com/terms',
        contacts: ['ops@billing.example.com', 'security@billing.example.com'],
      },
      job: {
        name: 'Batch job',
        type: 'confidential',
        token_endpoint_auth_method: 'private_key_jwt',
        grant_types: ['client_credentials'],
        scopes: ['jobs:run'],
        audiences: ['https://jobs.example.com'],
        jwks,
      },
      mobile: {
        name: 'Mobile',
        type: 'public',
        grant_types: ['authorization_code', 'refresh_token'],
        redirect_uris: ['com.example.mobile:/oauth2redirect'],
        scopes: ['openid'],
        first_party: true,
      },
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function cli(args: string[], input?: string): Promise<RunResult> {
    return runCli(args, { cwd: dir, env: { GATEHOUSE_DATABASE_URL: databaseUrl }, ...(input === undefined ? {} : { input }) });
  }

  /** The CLI flags for a spec (mirroring the API fields). */
  function flags(spec: Record<string, unknown>): string[] {
    const args = ['--name', String(spec.name), '--type', String(spec.type)];
    const many = (flag: string, values: unknown): void => {
      for (const value of (values as string[] | undefined) ?? []) args.push(flag, value);
    };
    if (spec.token_endpoint_auth_method) args.push('--auth-method', String(spec.token_endpoint_auth_method));
    many('--grant', spec.grant_types);
    many('--redirect-uri', spec.redirect_uris);
    many('--post-logout-redirect-uri', spec.post_logout_redirect_uris);
    many('--scope', spec.scopes);
    many('--audience', spec.audiences);
    if (spec.first_party) args.push('--first-party');
    if (spec.jwks) args.push('--jwks-file', jwksFile);
    if (spec.access_token_ttl_seconds) args.push('--access-token-ttl', String(spec.access_token_ttl_seconds));
    if (spec.refresh_token_idle_ttl_seconds) args.push('--refresh-token-idle-ttl', String(spec.refresh_token_idle_ttl_seconds));
    if (spec.refresh_token_absolute_ttl_seconds) args.push('--refresh-token-absolute-ttl', String(spec.refresh_token_absolute_ttl_seconds));
    for (const field of ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri']) if (spec[field]) args.push(`--${field.replace('_', '-')}`, String(spec[field]));
    many('--contact', spec.contacts);
    return args;
  }

  it('the same metadata gives the same client through all three', async () => {
    // CLI: real processes against a SQLite file.
    const cliIds: Record<string, string> = {};
    for (const [name, spec] of Object.entries(specs)) {
      const result = await cli(['clients', 'create', ...flags(spec), '--json']);
      assert.equal(result.code, 0, result.stderr);
      cliIds[name] = (JSON.parse(result.stdout) as { client_id: string }).client_id;
    }
    const cliDatabase = openDatabase({ url: databaseUrl });
    const cliClients: Record<string, Client | undefined> = {};
    try {
      for (const [name, id] of Object.entries(cliIds)) cliClients[name] = await createClientStore(cliDatabase.db).get(id);
    } finally {
      await cliDatabase.close();
    }

    // Config file: declared in GATEHOUSE_CLIENTS, applied when the app starts.
    const declared = Object.entries(specs).map(([name, spec]) => ({
      client_id: `cfg-${name}`,
      ...spec,
      ...(spec.token_endpoint_auth_method === 'client_secret_basic' ? { client_secret_hash: hashSecret(`secret of ${name}`) } : {}),
    }));
    const t: TestApp = await createTestApp({ env: { GATEHOUSE_CLIENTS: JSON.stringify(declared) } });
    try {
      // Admin API.
      const cookie = await registerAndSignIn(t, 'admin@example.com');
      const users = createSqlUserStore(t.storage.database.db);
      await users.setRoles((await users.findByEmail('admin@example.com'))!.id, ['admin'], Date.now());
      const store = createClientStore(t.storage.database.db);
      for (const [name, spec] of Object.entries(specs)) {
        const response = await t.app.inject({ method: 'POST', url: '/api/admin/clients', headers: { origin: new URL(t.config.publicUrl).origin, cookie, 'content-type': 'application/json' }, payload: JSON.stringify(spec) });
        assert.equal(response.statusCode, 201, response.body);
        const apiClient = await store.get((response.json() as { client_id: string }).client_id);
        const configClient = await store.get(`cfg-${name}`);
        assert.equal(apiClient?.source, 'api');
        assert.equal(configClient?.source, 'config');
        assert.equal(cliClients[name]?.source, 'cli');
        assert.deepEqual(comparable(cliClients[name]), comparable(apiClient), `${name}: CLI = API`);
        assert.deepEqual(comparable(configClient), comparable(apiClient), `${name}: config = API`);
      }
    } finally {
      await t.close();
    }
  });

  it('create prints the secret once; only its SHA-256 is stored; list/show never print it', async () => {
    const created = await cli(['clients', 'create', '--name', 'Reports', '--type', 'confidential', '--grant', 'client_credentials', '--client-id', 'reports']);
    assert.equal(created.code, 0, created.stderr);
    const secret = /client_secret \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    assert.ok(secret, created.stdout);
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const database = openDatabase({ url: databaseUrl });
    try {
      const row = await database.db.selectFrom('clients').selectAll().where('client_id', '=', 'reports').executeTakeFirstOrThrow();
      assert.equal(row.secret_hash, hashSecret(secret));
      assert.equal(row.source, 'cli');
      const audit = await database.db.selectFrom('audit_events').selectAll().execute();
      assert.ok(!JSON.stringify(audit).includes(secret));
    } finally {
      await database.close();
    }
    for (const args of [['clients', 'list'], ['clients', 'list', '--json'], ['clients', 'show', 'reports'], ['clients', 'show', 'reports', '--json']]) {
      const result = await cli(args);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(result.stdout.includes('reports') && !result.stdout.includes(secret), args.join(' '));
    }

    const rotated = await cli(['clients', 'rotate-secret', 'reports', '--grace-period', '60']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const next = /client_secret \(shown once\): (\S+)/.exec(rotated.stdout)?.[1];
    assert.ok(next && next !== secret);
    const deleted = await cli(['clients', 'delete', 'reports']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal((await cli(['clients', 'show', 'reports'])).code, 1);
  });

  it('bad input → exit 2 and a message naming the field; SEC-OAUTH-17 user ids refused', async () => {
    const cases: [string[], RegExp][] = [
      [['clients', 'create', '--name', 'X', '--type', 'public', '--redirect-uri', 'https://x.example/cb#frag'], /redirect_uris\[0\]: must not contain a fragment/],
      [['clients', 'create', '--name', 'X', '--type', 'public', '--grant', 'client_credentials'], /grant_types: /],
      [['clients', 'create', '--name', 'X', '--type', 'confidential', '--grant', 'client_credentials', '--client-id', 'client:x'], /client_id: /],
      [['clients', 'create', '--type', 'public'], /--name is required/],
      [['clients', 'create', '--name', 'X', '--type', 'public', '--access-token-ttl', 'ten'], /--access-token-ttl/],
      [['clients', 'create', '--name', 'X', '--type', 'confidential', '--auth-method', 'private_key_jwt', '--grant', 'client_credentials', '--jwks-file', join(dir, 'missing.json')], /--jwks-file/],
      [['clients', 'create', '--bogus'], /bogus/],
      [['clients', 'show'], /exactly one CLIENT_ID/],
      [['clients', 'frobnicate'], /unknown subcommand/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }

    const user = await cli(['users', 'create', '--email', 'carol@example.com']);
    assert.equal(user.code, 0, user.stderr);
    const userId = /created user (\S+)/.exec(user.stdout)?.[1];
    assert.ok(userId);
    const impostor = await cli(['clients', 'create', '--name', 'Impostor', '--type', 'confidential', '--grant', 'client_credentials', '--client-id', userId]);
    assert.equal(impostor.code, 2, impostor.stderr);
    assert.match(impostor.stderr, /client_id: is already used as a user identifier/);
  });

  it('list prints a header row, and --json the same clients as JSON', async () => {
    const created = await cli(['clients', 'create', '--name', 'Listed', '--type', 'public', '--redirect-uri', 'https://listed.example/cb', '--client-id', 'listed']);
    assert.equal(created.code, 0, created.stderr);
    const text = await cli(['clients', 'list']);
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.split('\n').filter(Boolean);
    assert.equal(lines[0], 'CLIENT_ID\tTYPE\tAUTH_METHOD\tGRANT_TYPES\tSOURCE\tNAME');
    const row = lines.find((line) => line.startsWith('listed\t'));
    assert.equal(row, 'listed\tpublic\tnone\tauthorization_code\tcli\tListed');
    const json = await cli(['clients', 'list', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const parsed = JSON.parse(json.stdout) as { clients: { client_id: string }[] };
    assert.equal(parsed.clients.length, lines.length - 1, 'one JSON entry per text row');
    assert.ok(parsed.clients.some((client) => client.client_id === 'listed'));
    assert.equal((await cli(['clients', 'delete', 'listed'])).code, 0);
  });

  it('update changes the given fields through the registry, exactly as the admin API\'s PATCH does', async () => {
    const base = ['--type', 'public', '--grant', 'authorization_code', '--grant', 'refresh_token', '--redirect-uri', 'https://app.example/cb', '--scope', 'openid profile', '--first-party'];
    for (const id of ['via-cli', 'via-api']) {
      const created = await cli(['clients', 'create', '--name', 'Portal', ...base, '--client-id', id]);
      assert.equal(created.code, 0, created.stderr);
    }
    const updated = await cli(['clients', 'update', 'via-cli', '--name', 'Portal 2', '--redirect-uri', 'https://app.example/cb2', '--redirect-uri', 'https://app.example/cb3', '--no-first-party', '--json']);
    assert.equal(updated.code, 0, updated.stderr);
    const view = JSON.parse(updated.stdout) as Record<string, unknown>;
    assert.equal(view.name, 'Portal 2');
    assert.deepEqual(view.redirect_uris, ['https://app.example/cb2', 'https://app.example/cb3'], 'a repeated flag replaces the list');
    assert.equal(view.first_party, false);
    assert.deepEqual(view.scopes, ['openid', 'profile'], 'fields not given are kept');

    const t: TestApp = await createTestApp({ env: { GATEHOUSE_DATABASE_URL: databaseUrl } });
    try {
      const cookie = await registerAndSignIn(t, 'patcher@example.com');
      const users = createSqlUserStore(t.storage.database.db);
      await users.setRoles((await users.findByEmail('patcher@example.com'))!.id, ['admin'], Date.now());
      const patch = { name: 'Portal 2', redirect_uris: ['https://app.example/cb2', 'https://app.example/cb3'], first_party: false };
      const response = await t.app.inject({ method: 'PATCH', url: '/api/admin/clients/via-api', headers: { origin: new URL(t.config.publicUrl).origin, cookie, 'content-type': 'application/json' }, payload: JSON.stringify(patch) });
      assert.equal(response.statusCode, 200, response.body);
      const store = createClientStore(t.storage.database.db);
      assert.deepEqual(comparable(await store.get('via-cli')), comparable(await store.get('via-api')), 'CLI update = API PATCH');
      const audit = await t.storage.database.db.selectFrom('audit_events').select(['type', 'detail']).where('type', '=', 'client-updated').execute();
      assert.ok(audit.some((event) => String(event.detail).includes('via-cli')), 'the CLI update is in the audit log');
    } finally {
      await t.close();
    }

    const cases: [string[], number, RegExp][] = [
      [['clients', 'update', 'via-cli', '--redirect-uri', 'https://app.example/cb#frag'], 2, /redirect_uris\[0\]: must not contain a fragment/],
      [['clients', 'update', 'via-cli'], 2, /at least one field/],
      [['clients', 'update', 'via-cli', '--client-id', 'other'], 2, /--client-id cannot be changed/],
      [['clients', 'update', 'via-cli', '--first-party', '--no-first-party'], 2, /not both/],
      [['clients', 'update', '--name', 'X'], 2, /exactly one CLIENT_ID/],
      [['clients', 'update', 'nobody', '--name', 'X'], 1, /No such client/],
    ];
    for (const [args, code, message] of cases) {
      const result = await cli(args);
      assert.equal(result.code, code, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message, args.join(' '));
    }
    const unchanged = await cli(['clients', 'show', 'via-cli', '--json']);
    assert.deepEqual((JSON.parse(unchanged.stdout) as { redirect_uris: string[] }).redirect_uris, ['https://app.example/cb2', 'https://app.example/cb3'], 'a refused update changes nothing');
  });

  it('--help documents every subcommand', async () => {
    const result = await cli(['clients', '--help']);
    assert.equal(result.code, 0);
    for (const sub of ['create', 'list', 'show', 'update', 'rotate-secret', 'delete']) assert.match(result.stdout, new RegExp(`clients ${sub}`));
  });
});
