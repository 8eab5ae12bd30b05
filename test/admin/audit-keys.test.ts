/**
 * Issue 17, continued: the audit API (query, paging, streamed NDJSON/CSV export with
 * formula-injection protection), signing keys over HTTP, and admin scopes on the clients and
 * identity-provider APIs. Least privilege: each area opens only with its own scope (SEC-ASVS-01).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { createAuditLog } from '../../src/features/audit/audit-log.ts';
import { auditExport, csvCell } from '../../src/features/admin/audit-export.ts';
import type { TestApp } from '../support/app.ts';
import { PASSWORD, registerAndSignIn } from '../support/auth.ts';
import { call, type Method, adminClientToken, auditEvents, clientToken, createOAuthApp, fixtureClients, hashSecretFor, nativeSignIn } from './support.ts';


const machine = (id: string, scopes: string[]) => ({ client_id: id, name: id, type: 'confidential', token_endpoint_auth_method: 'client_secret_basic', client_secret_hash: hashSecretFor(id), grant_types: ['client_credentials'], scopes });

describe('admin API: audit, keys, clients and identity providers by scope', () => {
  let t: TestApp;
  let admin: string;
  let adminId: string;
  let alice: string;
  let aliceToken: string;
  before(async () => {
    t = await createOAuthApp({ clients: fixtureClients({ extra: [machine('ops', ['admin:users']), machine('auditor', ['admin:audit']), machine('keeper', ['admin:keys']), machine('registrar', ['admin:clients']), machine('idp-admin', ['admin:identity-providers'])] }) });
    admin = await registerAndSignIn(t, 'admin@example.com');
    const users = createSqlUserStore(t.storage.database.db);
    adminId = (await users.findByEmail('admin@example.com'))!.id;
    await users.setRoles(adminId, ['admin'], Date.now());
    const native = await nativeSignIn(t, 'alice@example.com');
    alice = native.cookie;
    aliceToken = native.access_token;
  });
  after(() => t.close());

  const areas: Record<string, [Method, string, unknown?][]> = {
    audit: [['GET', '/api/admin/audit'], ['GET', '/api/admin/audit/export?format=csv']],
    keys: [['GET', '/api/admin/keys'], ['POST', '/api/admin/keys/rotate', { immediate: true }], ['POST', '/api/admin/keys/nope/retire', {}]],
    clients: [['GET', '/api/admin/clients'], ['POST', '/api/admin/clients', { client_id: 'sneaky', name: 'Sneaky', type: 'confidential', grant_types: ['client_credentials'] }]],
    idps: [['GET', '/api/admin/identity-providers'], ['DELETE', '/api/admin/identity-providers/none']],
  };
  const owner: Record<string, string> = { audit: 'auditor', keys: 'keeper', clients: 'registrar', idps: 'idp-admin' };

  it('SEC-ASVS-01: each area refuses anonymous (401), users and user tokens (403) and every other admin scope (403), with no side effect', async () => {
    const db = t.storage.database.db;
    const state = async () => JSON.stringify([await db.selectFrom('signing_keys').select(['kid', 'retired_at', 'activates_at']).orderBy('kid').execute(), await db.selectFrom('clients').select('client_id').orderBy('client_id').execute()]);
    const before = await state();
    const tokens = Object.fromEntries(await Promise.all(['ops', ...Object.values(owner)].map(async (id) => [id, await adminClientToken(t, id)] as const)));
    const plain = await clientToken(t, 'svc');
    for (const [area, routes] of Object.entries(areas)) {
      const callers: [string, { cookie?: string; bearer?: string }, number][] = [
        ['anonymous', {}, 401],
        ['alice session', { cookie: alice }, 403],
        ['alice access token', { bearer: aliceToken }, 403],
        ['svc token', { bearer: plain }, 403],
        ...Object.entries(tokens).filter(([id]) => id !== owner[area]).map(([id, bearer]): [string, { bearer: string }, number] => [`${id} token`, { bearer }, 403]),
      ];
      for (const [method, url, body] of routes) {
        for (const [who, auth, status] of callers) {
          const response = await call(t, method, url, auth, body);
          assert.equal(response.statusCode, status, `${method} ${url} as ${who}: ${response.body}`);
          assert.equal(response.headers['cache-control'], 'no-store');
        }
      }
    }
    assert.equal(await state(), before, 'no side effect');
  });

  it('audit: admin:audit reads the log; filters by user, type, outcome, actor and time; cursor paging', async () => {
    const ops = await adminClientToken(t, 'ops');
    const made: string[] = [];
    for (const n of [1, 2, 3]) {
      const response = await call(t, 'POST', '/api/admin/users', { bearer: ops }, { email: `audit-${n}@example.com` });
      assert.equal(response.statusCode, 201, response.body);
      made.push(response.json().id);
    }
    const auditor = await adminClientToken(t, 'auditor');
    const first = await call(t, 'GET', '/api/admin/audit?type=user-created&actor_id=client:ops&limit=2', { bearer: auditor });
    assert.equal(first.statusCode, 200, first.body);
    const page1 = first.json();
    assert.deepEqual(page1.events.map((event: { user_id: string }) => event.user_id), [made[2], made[1]], 'newest first');
    assert.ok(page1.events.every((event: { actor_id: string; outcome: string }) => event.actor_id === 'client:ops' && event.outcome === 'success'));
    assert.ok(page1.next_cursor);
    const page2 = (await call(t, 'GET', `/api/admin/audit?type=user-created&actor_id=client:ops&limit=2&cursor=${page1.next_cursor}`, { bearer: auditor })).json();
    assert.deepEqual(page2.events.map((event: { user_id: string }) => event.user_id), [made[0]]);
    assert.equal(page2.next_cursor, null);
    const byUser = (await call(t, 'GET', `/api/admin/audit?user_id=${made[1]}`, { bearer: auditor })).json();
    assert.deepEqual(byUser.events.map((event: { type: string }) => event.type), ['user-created']);
    assert.equal((await call(t, 'GET', '/api/admin/audit?type=user-created&outcome=failure', { bearer: auditor })).json().events.length, 0);
    const at = page1.events[0].at as number;
    assert.equal((await call(t, 'GET', `/api/admin/audit?type=user-created&actor_id=client:ops&from=${at + 1}`, { bearer: auditor })).json().events.length, 0);
    assert.equal((await call(t, 'GET', `/api/admin/audit?type=user-created&actor_id=client:ops&to=${new Date(at + 1).toISOString()}`, { bearer: auditor })).json().events.length, 3);
    // A signed-in admin reads it too.
    assert.equal((await call(t, 'GET', '/api/admin/audit?limit=1', { cookie: admin })).statusCode, 200);
    for (const bad of ['cursor=bogus', 'type=nope', 'from=yesterday', 'from=20&to=10', 'limit=0', 'extra=1']) {
      assert.equal((await call(t, 'GET', `/api/admin/audit?${bad}`, { bearer: auditor })).statusCode, 400, bad);
    }
  });

  it('audit export: NDJSON and CSV streamed, every matching row, formula cells neutralised', async () => {
    const auditor = await adminClientToken(t, 'auditor');
    // A hostile user agent lands in the audit row of a sign-in.
    const hostile = '=HYPERLINK("http://evil.example","x"),1';
    const signIn = await t.app.inject({ method: 'POST', url: '/api/auth/sign-up', headers: { 'content-type': 'application/json', 'user-agent': hostile }, payload: JSON.stringify({ email: 'agent@example.com', password: PASSWORD }) });
    assert.ok(signIn.statusCode < 500, signIn.body);
    const ndjson = await call(t, 'GET', '/api/admin/audit/export?format=ndjson', { bearer: auditor });
    assert.equal(ndjson.statusCode, 200, ndjson.body);
    assert.match(String(ndjson.headers['content-type']), /^application\/x-ndjson/);
    assert.match(String(ndjson.headers['content-disposition']), /attachment; filename="gatehouse-audit-.*\.ndjson"/);
    const lines = ndjson.body.trim().split('\n').map((line) => JSON.parse(line) as { id: string; user_agent: string | null });
    const total = await t.storage.database.db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    assert.ok(lines.length >= Number(total.n) - 1 && lines.length <= Number(total.n), 'every row (at most the export\'s own racing row missing)');
    assert.deepEqual(lines.map((line) => line.id), lines.map((line) => line.id).toSorted().reverse(), 'newest first, no duplicates across pages');
    assert.ok(lines.some((line) => line.user_agent === hostile));

    const csv = await call(t, 'GET', '/api/admin/audit/export?format=csv&type=sign-up', { bearer: auditor });
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    const [header, ...rows] = csv.body.split('\r\n').filter(Boolean);
    assert.equal(header, 'id,at,type,outcome,user_id,actor_id,client_id,ip,user_agent,request_id,detail');
    assert.ok(rows.length >= 1);
    assert.ok(rows.every((row) => row.split(',')[2] === 'sign-up'));
    assert.ok(csv.body.includes(`"'=HYPERLINK(""http://evil.example"",""x""),1"`), 'quoted, quotes doubled, formula prefixed');
    assert.ok(!/(^|,)=HYPERLINK/m.test(csv.body));
  });

  it('audit export reads the table in pages (no whole-table buffering)', async () => {
    const log = createAuditLog(t.storage.database.db);
    const sizes: number[] = [];
    const counting = { query: async (filter: Parameters<typeof log.query>[0]) => { const rows = await log.query(filter); sizes.push(rows.length); return rows; } };
    let chunks = 0;
    for await (const _chunk of auditExport(counting, {}, 'ndjson', 3)) chunks += 1;
    assert.ok(sizes.length >= 3, `several reads: ${sizes.join(',')}`);
    assert.ok(sizes.every((size) => size <= 3));
    assert.equal(chunks, sizes.filter((size) => size > 0).length);
  });

  it('csvCell: RFC 4180 quoting and formula prefixes', () => {
    assert.equal(csvCell(null), '');
    assert.equal(csvCell('plain'), 'plain');
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
    for (const lead of ['=', '+', '-', '@', '\t']) assert.equal(csvCell(`${lead}1+1`), `"'${lead}1+1"`);
  });

  it('keys: admin:keys lists, rotates and retires, audited with the acting admin', async () => {
    const keeper = await adminClientToken(t, 'keeper');
    const listed = await call(t, 'GET', '/api/admin/keys', { bearer: keeper });
    assert.equal(listed.statusCode, 200, listed.body);
    const current = listed.json().keys.find((key: { state: string }) => key.state === 'current');
    assert.ok(current);
    assert.ok(!JSON.stringify(listed.json()).includes('"d"'), 'no private material');
    const rotated = await call(t, 'POST', '/api/admin/keys/rotate', { bearer: keeper }, { immediate: true });
    assert.equal(rotated.statusCode, 201, rotated.body);
    assert.equal(rotated.json().state, 'current');
    const rotation = (await auditEvents(t, 'signing-key-rotated'))[0];
    assert.equal(rotation?.actorId, 'client:keeper');
    assert.equal(rotation?.detail.kid, rotated.json().kid);
    const retired = await call(t, 'POST', `/api/admin/keys/${rotated.json().kid}/retire`, { cookie: admin }, { unpublish: true });
    assert.equal(retired.statusCode, 200, retired.body);
    assert.equal(retired.json().state, 'retired');
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] };
    assert.ok(!jwks.keys.some((key) => key.kid === rotated.json().kid), 'unpublished at once');
    const retirement = (await auditEvents(t, 'signing-key-retired'))[0];
    assert.equal(retirement?.actorId, adminId);
    assert.equal(retirement?.detail.unpublished, true);
    assert.equal((await call(t, 'POST', '/api/admin/keys/unknown-kid/retire', { bearer: keeper }, {})).statusCode, 404);
    assert.equal((await call(t, 'POST', '/api/admin/keys/rotate', { bearer: keeper }, { algorithm: 'HS256' })).statusCode, 400);
  });

  it('clients: a client-credentials token with admin:clients manages clients, audited with the client as actor', async () => {
    const registrar = await adminClientToken(t, 'registrar');
    const created = await call(t, 'POST', '/api/admin/clients', { bearer: registrar }, { client_id: 'made-by-bot', name: 'Bot made', type: 'confidential', grant_types: ['client_credentials'] });
    assert.equal(created.statusCode, 201, created.body);
    const event = (await auditEvents(t, 'client-created'))[0];
    assert.equal(event?.actorId, 'client:registrar');
    assert.equal(event?.userId, null);
    assert.equal((await call(t, 'GET', '/api/admin/clients/made-by-bot', { bearer: registrar })).statusCode, 200);
    assert.equal((await call(t, 'DELETE', '/api/admin/clients/made-by-bot', { cookie: admin })).statusCode, 204);
    assert.equal((await auditEvents(t, 'client-deleted'))[0]?.actorId, adminId);
  });

  it('identity providers: a client-credentials token with admin:identity-providers manages them', async () => {
    const token = await adminClientToken(t, 'idp-admin');
    const list = await call(t, 'GET', '/api/admin/identity-providers', { bearer: token });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal((await call(t, 'DELETE', '/api/admin/identity-providers/none', { bearer: token })).statusCode, 404);
  });
});
