/**
 * Sessions ended from the CLI (`gatehouse users sign-out|disable|delete`) log the relying parties
 * out like sessions the server ends (Back-Channel Logout 1.0): the CLI queues the logout token in
 * the durable outbox, and a running server's worker delivers it. The CLI runs in-process here
 * (`runUserAdmin`, what `gatehouse users …` calls) against the same SQLite file as the server.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { runUserAdmin } from '../../src/cli/users-admin.ts';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { clientsEnv } from '../support/oauth.ts';
import { obtainTokens, oidcClients } from '../support/oidc.ts';
import { createWebhookTestApp, LOOPBACK_ALLOWED, startReceiver, type Receiver } from '../webhooks/support.ts';

describe('back-channel logout from CLI-ended sessions', () => {
  let dir: string;
  let t: TestApp;
  let rp: Receiver;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-cli-bcl-'));
    rp = await startReceiver();
    const clients = oidcClients().map((client) => (client.client_id === 'webapp' ? { ...client, backchannel_logout_uri: `${rp.url}/backchannel`, backchannel_logout_session_required: true } : client));
    t = await createWebhookTestApp({ env: { GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}`, ...LOOPBACK_ALLOWED, ...clientsEnv(clients) } });
  });
  after(async () => {
    await t.close();
    await rp.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function signedInAtWebapp(email: string): Promise<{ sid: string; sub: string }> {
    const cookie = await registerAndSignIn(t, email);
    const claims = decodeJwt((await obtainTokens(t, cookie, { clientId: 'webapp', scope: 'openid profile' })).id_token!);
    return { sid: String(claims.sid), sub: String(claims.sub) };
  }

  async function logoutDeliveries(): Promise<{ client_id: string | null; payload: string; status: string }[]> {
    return t.storage.database.db.selectFrom('webhook_deliveries').select(['client_id', 'payload', 'status']).where('kind', '=', 'backchannel-logout').execute();
  }

  for (const sub of ['sign-out', 'disable', 'delete'] as const) {
    it(`users ${sub}: a logout token is queued, and the running server delivers it`, async () => {
      const session = await signedInAtWebapp(`cli-bcl-${sub}@example.com`);
      const before = (await logoutDeliveries()).length;
      const from = rp.received.length;
      assert.equal(await runUserAdmin(t.config, sub, [session.sub], { json: true, noName: false }), 0);
      const queued = (await logoutDeliveries()).slice(before);
      assert.equal(queued.length, 1, 'one delivery row for the one relying party');
      assert.equal(queued[0]!.client_id, 'webapp');
      assert.deepEqual(JSON.parse(queued[0]!.payload), { sub: session.sub, sid: session.sid });
      // The server's worker (started by the app; poll interval 0 here, so run it once).
      await t.app.webhookDelivery.runDue();
      assert.equal(rp.received.length, from + 1, 'delivered to the back-channel logout URI');
      const token = new URLSearchParams(rp.received[from]!.body).get('logout_token')!;
      const jwks = createLocalJWKSet((await t.app.inject({ url: '/.well-known/jwks.json' })).json() as JSONWebKeySet);
      const { payload } = await jwtVerify(token, jwks, { issuer: t.config.publicUrl, audience: 'webapp', typ: 'logout+jwt' });
      assert.equal(payload.sid, session.sid);
      assert.equal(payload.sub, session.sub);
    });
  }
});
