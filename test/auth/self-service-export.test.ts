import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import type { TestApp } from '../support/app.ts';
import { postJSON, whoami } from '../support/auth.ts';
import { createOAuthApp, nativeSignIn } from '../support/oauth.ts';
import { base32Decode } from '../support/mfa.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { createAuditLog } from '../../src/features/audit/audit-log.ts';
import { selfService } from './self-service-instance.ts';

describe('self-service: download my data', () => {
  let t: TestApp;
  let app: FastifyInstance;
  let clock = Date.UTC(2030, 0, 3, 12, 0, 0);
  before(async () => {
    t = await createOAuthApp({ now: () => clock });
    app = await selfService(t, { now: () => clock });
  });
  after(() => t.close());

  it('exports profile, roles, sessions, applications, factor names and own audit events — as a no-store attachment with no secret or hash', async () => {
    const native = await nativeSignIn(t, 'export@example.com');
    const cookie = native.cookie;
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json() as { enrolment_id: string; secret: string };
    const confirmed = await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(base32Decode(enrolment.secret), clock), name: 'Work phone' }, { cookie });
    assert.equal(confirmed.statusCode, 200, confirmed.body);

    const response = await app.inject({ url: '/api/account/export', headers: { cookie } });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.match(String(response.headers['content-disposition']), /^attachment; filename="account-data-2030-01-03\.json"$/);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    const data = response.json() as {
      profile: { id: string; email: string; has_password: boolean };
      roles: string[];
      sessions: { id: string; current: boolean; user_agent: string | null }[];
      applications: { client_id: string }[];
      mfa: { factors: { kind: string; name: string; created_at: string }[]; recovery_codes_remaining: number };
      audit_events: { type: string }[];
      linked_identities: unknown[];
    };
    assert.equal(data.profile.id, native.sub);
    assert.equal(data.profile.email, 'export@example.com');
    assert.equal(data.profile.has_password, true);
    assert.deepEqual(data.roles, []);
    assert.ok(data.sessions.length >= 2, 'the browser session and the app’s device session');
    assert.equal(data.sessions.filter((session) => session.current).length, 1);
    assert.ok(data.applications.some((application) => application.client_id === 'mobile'));
    assert.deepEqual(data.mfa.factors.map((factor) => [factor.kind, factor.name]), [['totp', 'Work phone']]);
    assert.deepEqual(data.linked_identities, []);
    const types = data.audit_events.map((event) => event.type);
    for (const type of ['sign-up', 'email-verified', 'sign-in', 'mfa-enrolled']) assert.ok(types.includes(type), `audit ${type}`);

    // Nothing that could authenticate anyone: no hash, secret, seed, token or cookie value.
    const raw = response.body;
    const db = t.storage.database.db;
    const user = await db.selectFrom('users').select('password_hash').where('id', '=', native.sub).executeTakeFirstOrThrow();
    const sessions = await db.selectFrom('sessions').select('token_hash').where('user_id', '=', native.sub).execute();
    const factors = await db.selectFrom('mfa_factors').selectAll().where('user_id', '=', native.sub).execute();
    const forbidden = [user.password_hash ?? '', ...sessions.map((row) => row.token_hash), enrolment.secret, cookie.split('=')[1]!, native.refresh_token, native.access_token, ...factors.flatMap((row) => [row.secret_sealed, row.credential_id, row.public_key].filter((value): value is string => value !== null))];
    assert.ok(factors.some((row) => row.secret_sealed), 'the factor has a sealed secret to look for');
    for (const secret of forbidden) assert.ok(!raw.includes(secret), 'no secret in the export');
    assert.doesNotMatch(raw, /argon2|token_hash|secret|password_hash/i);
  });

  it('an administrator’s IP and user agent never reach the export (whether an admin acted does)', async () => {
    const native = await nativeSignIn(t, 'export-admin@example.com');
    // An administrator acted on the account, from their own machine (as the admin API records it).
    await createAuditLog(t.storage.database.db, { now: () => clock }).record({ type: 'user-disabled', outcome: 'success', userId: native.sub, actorId: 'admin-1', ip: '203.0.113.77', userAgent: 'AdminBrowser/9.9', detail: { reason: 'support ticket' } });
    const response = await app.inject({ url: '/api/account/export', headers: { cookie: native.cookie } });
    assert.equal(response.statusCode, 200, response.body);
    const events = (response.json() as { audit_events: { type: string; by_administrator: boolean; ip: string | null; user_agent: string | null }[] }).audit_events;
    const byAdmin = events.find((event) => event.type === 'user-disabled');
    assert.deepEqual(byAdmin && { by_administrator: byAdmin.by_administrator, ip: byAdmin.ip, user_agent: byAdmin.user_agent }, { by_administrator: true, ip: null, user_agent: null });
    assert.ok(!response.body.includes('203.0.113.77') && !response.body.includes('AdminBrowser'), 'nowhere in the file');
    const own = events.find((event) => event.type === 'sign-in');
    assert.ok(own && !own.by_administrator && own.ip !== null, 'the user’s own events keep their IP');
  });

  it('the page form downloads the same file; without a session it is 401 (API) or the sign-in page', async () => {
    assert.equal((await app.inject({ url: '/api/account/export' })).statusCode, 401);
    const native = await nativeSignIn(t, 'export-page@example.com');
    const account = await t.app.inject({ url: '/account', headers: { cookie: native.cookie } });
    const csrfToken = /name="csrf" value="([^"]+)"/.exec(account.body)?.[1] ?? '';
    const csrfCookie = String(account.headers['set-cookie']).split(';')[0]!;
    const download = await app.inject({
      method: 'POST', url: '/account/export',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(t.config.publicUrl).origin, cookie: `${native.cookie}; ${csrfCookie}` },
      payload: new URLSearchParams({ csrf: csrfToken }).toString(),
    });
    assert.equal(download.statusCode, 200, download.body);
    assert.match(String(download.headers['content-disposition']), /^attachment;/);
    assert.equal((download.json() as { profile: { email: string } }).profile.email, 'export-page@example.com');
  });

  it('a user with a second factor needs a recent one to delete the account (403 mfa_step_up_required)', async () => {
    const native = await nativeSignIn(t, 'mfa-delete@example.com');
    const cookie = native.cookie;
    const enrolment = (await postJSON(t, '/api/auth/mfa/totp', {}, { cookie })).json() as { enrolment_id: string; secret: string };
    assert.equal((await postJSON(t, '/api/auth/mfa/totp/confirm', { enrolment_id: enrolment.enrolment_id, code: totp(base32Decode(enrolment.secret), clock) }, { cookie })).statusCode, 200);
    const refused = await app.inject({ method: 'POST', url: '/api/account/delete', headers: { 'content-type': 'application/json', origin: new URL(t.config.publicUrl).origin, cookie }, payload: '{}' });
    assert.equal(refused.statusCode, 403, refused.body);
    assert.equal((refused.json() as { error: string }).error, 'mfa_step_up_required');
    assert.equal((await whoami(t, cookie)).statusCode, 200);
  });
});
