/**
 * The three adapters — Express, Fastify 5, Hono — each a thin layer over one core, answer the
 * same requests the same way, over real HTTP against a real Gatehouse: the principal on the
 * request when allowed; RFC 6750 answers otherwise (401 with `WWW-Authenticate: Bearer …`,
 * 403 insufficient_scope with `scope="…"`). (Express 4 runs in the packed-tarball test.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { registerAndSignIn } from '../support/auth.ts';
import { clientToken, nativeSignIn } from '../support/oauth.ts';
import { closeKits, kitFor, setRoles, startGatehouse, type Gatehouse } from './support.ts';
import type { Authenticator, Principal } from '../../packages/middleware/src/index.ts';
import { createExpressAuth } from '../../packages/middleware/src/express.ts';
import { createFastifyAuth } from '../../packages/middleware/src/fastify.ts';
import { createHonoAuth, type AuthEnv } from '../../packages/middleware/src/hono.ts';

interface Running {
  base: string;
  close(): Promise<void>;
}

const listening = (server: Server): Promise<string> =>
  new Promise((resolve) => {
    const ready = () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    };
    if (server.listening) ready();
    else server.once('listening', ready);
  });
const closing = (server: Server) => () => new Promise<void>((resolve) => {
  server.closeAllConnections();
  server.close(() => resolve());
});

/** The same routes in each framework. */
const apps: Record<string, (kit: Authenticator) => Promise<Running>> = {
  async express(kit) {
    const auth = createExpressAuth(kit);
    const app = express();
    // Another library's req.auth must never count as authentication.
    app.use((req, _res, next) => {
      if (req.headers['x-spoof'] !== undefined) (req as { auth?: unknown }).auth = { kind: 'user', subject: 'spoofed', scopes: ['read', 'write'], roles: ['admin'] };
      next();
    });
    const send = (req: express.Request, res: express.Response) => void res.json({ auth: req.auth ?? null });
    app.get('/public', auth.authenticate(), send);
    app.get('/me', auth.requireAuth(), send);
    app.get('/read', auth.requireScope('read'), send);
    app.get('/write', auth.requireScope('write'), send);
    app.get('/admin', auth.requireRole('admin', 'support'), send);
    app.get('/stacked', auth.requireScope('openid'), auth.requireRole('admin'), send);
    app.get('/permission', auth.requirePermission('admin:users', 'admin:roles'), send);
    const server = app.listen(0, '127.0.0.1');
    return { base: await listening(server), close: closing(server) };
  },
  async fastify(kit) {
    const auth = createFastifyAuth(kit);
    const app = Fastify();
    await app.register(auth.plugin);
    app.addHook('onRequest', async (request) => {
      if (request.headers['x-spoof'] !== undefined) (request as { auth: unknown }).auth = { kind: 'user', subject: 'spoofed', scopes: ['read', 'write'], roles: ['admin'] };
    });
    const send = async (request: { auth: Principal | null }) => ({ auth: request.auth });
    app.get('/public', { onRequest: auth.authenticate() }, send);
    app.get('/me', { onRequest: auth.requireAuth() }, send);
    app.get('/read', { onRequest: auth.requireScope('read') }, send);
    app.get('/write', { onRequest: auth.requireScope('write') }, send);
    app.get('/admin', { preHandler: auth.requireRole('admin', 'support') }, send);
    app.get('/stacked', { onRequest: [auth.requireScope('openid'), auth.requireRole('admin')] }, send);
    app.get('/permission', { onRequest: auth.requirePermission('admin:users', 'admin:roles') }, send);
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { base: await listening(app.server), close: () => app.close() };
  },
  async hono(kit) {
    const auth = createHonoAuth(kit);
    const app = new Hono<AuthEnv>();
    app.use(async (c, next) => {
      if (c.req.header('x-spoof') !== undefined) c.set('auth', { kind: 'user', subject: 'spoofed', scopes: ['read', 'write'], roles: ['admin'], permissions: ['admin:users', 'admin:roles'], clientId: null, expiresAt: 0, via: 'bearer' });
      await next();
    });
    app.get('/public', auth.authenticate(), (c) => c.json({ auth: c.get('auth') }));
    app.get('/me', auth.requireAuth(), (c) => c.json({ auth: c.var.auth }));
    app.get('/read', auth.requireScope('read'), (c) => c.json({ auth: c.get('auth') }));
    app.get('/write', auth.requireScope('write'), (c) => c.json({ auth: c.get('auth') }));
    app.get('/admin', auth.requireRole('admin', 'support'), (c) => c.json({ auth: c.get('auth') }));
    app.get('/stacked', auth.requireScope('openid'), auth.requireRole('admin'), (c) => c.json({ auth: c.get('auth') }));
    app.get('/permission', auth.requirePermission('admin:users', 'admin:roles'), (c) => c.json({ auth: c.get('auth') }));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    return { base: await listening(server), close: closing(server) };
  },
};

describe('adapters over one core', () => {
  let g: Gatehouse;
  let kit: Authenticator;
  let calls = 0;
  let clientRead: string;
  let adminUser: { access_token: string; sub: string };
  let cookie: string;
  before(async () => {
    g = await startGatehouse();
    const core = kitFor(g.base);
    // Counts authentications: each request is authenticated once, however many guards it meets.
    kit = { ...core, authenticate: (headers) => (calls++, core.authenticate(headers)), authorize: core.authorize, unauthenticated: core.unauthenticated };
    await kit.ready();
    clientRead = await clientToken(g.t, 'svc', { scope: 'read' });
    await registerAndSignIn(g.t, 'adapter-admin@example.com');
    await setRoles(g.t, 'adapter-admin@example.com', ['admin']);
    adminUser = await nativeSignIn(g.t, 'adapter-admin@example.com', { existing: true });
    cookie = await registerAndSignIn(g.t, 'adapter-cookie@example.com');
  });
  after(async () => {
    await closeKits();
    await g.close();
  });

  for (const [framework, start] of Object.entries(apps)) {
    describe(framework, () => {
      let app: Running;
      before(async () => {
        app = await start(kit);
      });
      after(() => app.close());

      const get = async (path: string, headers: Record<string, string> = {}) => {
        const response = await fetch(`${app.base}${path}`, { headers });
        const text = await response.text();
        return { status: response.status, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> & { auth?: Principal | null } };
      };
      const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

      it('no credentials: optional routes see auth null; guarded ones answer 401 Bearer realm, no error code', async () => {
        assert.deepEqual((await get('/public')).body, { auth: null });
        for (const path of ['/me', '/read', '/admin', '/stacked']) {
          const answer = await get(path);
          assert.equal(answer.status, 401, path);
          assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse"', path);
          assert.equal(answer.body.error, 'unauthenticated', path);
          assert.match(String(answer.headers.get('content-type')), /^application\/json/);
          assert.equal(answer.headers.get('cache-control'), 'no-store');
        }
      });

      it('a bad token: 401 invalid_token everywhere, optional routes included', async () => {
        for (const path of ['/public', '/me', '/read']) {
          const answer = await get(path, bearer('eyJhbGciOiJub25lIn0.e30.'));
          assert.equal(answer.status, 401, path);
          assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="invalid_token", error_description="The access token is not valid."', path);
          assert.deepEqual(answer.body, { error: 'invalid_token', error_description: 'The access token is not valid.' }, path);
        }
        const malformed = await get('/me', { authorization: 'Bearer' });
        assert.equal(malformed.status, 400);
        assert.equal(malformed.body.error, 'invalid_request');
      });

      it('a client token with scope read: the principal on the request; 403 insufficient_scope with scope="write" elsewhere', async () => {
        const read = await get('/read', bearer(clientRead));
        assert.equal(read.status, 200, JSON.stringify(read.body));
        assert.deepEqual({ ...read.body.auth, expiresAt: 0, tokenId: '' }, { kind: 'client', subject: 'client:svc', scopes: ['read'], roles: [], permissions: [], clientId: 'svc', expiresAt: 0, via: 'bearer', tokenId: '' });
        assert.equal((await get('/public', bearer(clientRead))).body.auth?.subject, 'client:svc');
        const write = await get('/write', bearer(clientRead));
        assert.equal(write.status, 403);
        assert.equal(write.headers.get('www-authenticate'), 'Bearer realm="gatehouse", error="insufficient_scope", error_description="The access token does not grant the required scope.", scope="write"');
        assert.deepEqual(write.body, { error: 'insufficient_scope', error_description: 'The access token does not grant the required scope.', scope: 'write' });
        const admin = await get('/admin', bearer(clientRead));
        assert.equal(admin.status, 403);
        assert.equal(admin.body.error, 'insufficient_scope');
        assert.equal(admin.body.error_description, 'This needs one of the roles: admin, support.');
      });

      it('a user token with the admin role passes role guards; stacked guards authenticate once', async () => {
        const admin = await get('/admin', bearer(adminUser.access_token));
        assert.equal(admin.status, 200, JSON.stringify(admin.body));
        assert.equal(admin.body.auth?.kind, 'user');
        assert.equal(admin.body.auth?.subject, adminUser.sub);
        assert.deepEqual(admin.body.auth?.roles, ['admin']);
        assert.equal((await get('/read', bearer(adminUser.access_token))).status, 403, 'a user token without scope read');
        const before = calls;
        const stacked = await get('/stacked', bearer(adminUser.access_token));
        assert.equal(stacked.status, 200);
        assert.equal(calls - before, 1, 'one authentication for two guards');
      });

      it('requirePermission: every permission of the role catalog (admin grants the admin scopes); else 403 insufficient_scope', async () => {
        const allowed = await get('/permission', bearer(adminUser.access_token));
        assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
        assert.ok(allowed.body.auth?.permissions.includes('admin:roles'));
        const refused = await get('/permission', bearer(clientRead));
        assert.equal(refused.status, 403);
        assert.equal(refused.body.error, 'insufficient_scope');
        assert.equal(refused.body.error_description, 'This needs the permissions: admin:users, admin:roles.');
        assert.equal((await get('/permission', { cookie })).status, 403, 'a session user without roles');
        assert.equal((await get('/permission')).status, 401);
        assert.equal((await get('/permission', { 'x-spoof': '1' })).status, 401, 'spoofed auth');
      });

      it('a session cookie authenticates as the user (no scopes); req.auth set by someone else counts for nothing', async () => {
        const me = await get('/me', { cookie });
        assert.equal(me.status, 200, JSON.stringify(me.body));
        assert.equal(me.body.auth?.via, 'session');
        assert.equal(me.body.auth?.user?.email, 'adapter-cookie@example.com');
        assert.equal((await get('/read', { cookie })).status, 403, 'sessions hold no scopes by default');
        for (const path of ['/me', '/admin', '/write']) assert.equal((await get(path, { 'x-spoof': '1' })).status, 401, `spoofed auth at ${path}`);
      });
    });
  }
});
