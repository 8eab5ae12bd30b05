/**
 * SSRF rules for webhook (and back-channel logout) destinations: without the explicit
 * `webhookAllowedNetworks` option a loopback, private or metadata address is refused when the
 * endpoint is registered AND when the request is made — also when DNS answered a public address
 * at registration and loopback afterwards (rebinding, simulated with the resolver hook).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import type { TestApp } from '../support/app.ts';
import { registerAndSignIn } from '../support/auth.ts';
import { addressAllowed, urlProblem, type ResolvedAddress } from '../../src/features/webhooks/destination.ts';
import { adminRequest, createWebhookTestApp, signedInAdmin, startReceiver, type Receiver } from './support.ts';

describe('webhook destinations (SSRF)', () => {
  let t: TestApp;
  let receiver: Receiver;
  let admin: string;
  const answers: ResolvedAddress[][] = [];
  const lookups: string[] = [];
  before(async () => {
    receiver = await startReceiver();
    // No allowed networks: the production default.
    t = await createWebhookTestApp({
      env: { GATEHOUSE_WEBHOOK_POLL_INTERVAL_MS: '0' },
      resolveHost: async (hostname) => {
        lookups.push(hostname);
        if (hostname === 'loopback.example') return [{ address: '127.0.0.1', family: 4 }];
        if (hostname === 'mixed.example') return [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.5', family: 4 }];
        if (hostname === 'rebind.example') return answers.shift() ?? [{ address: '127.0.0.1', family: 4 }];
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    admin = await signedInAdmin(t);
  });
  after(async () => {
    await t.close();
    await receiver.close();
  });

  it('refuses loopback, private, link-local and metadata destinations at registration', async () => {
    for (const url of [
      `${receiver.url}/hook`, `http://localhost:${receiver.port}/hook`, `http://[::1]:${receiver.port}/`, 'http://169.254.169.254/latest/meta-data/',
      'http://10.1.2.3/', 'http://[::ffff:127.0.0.1]/', 'http://[fd00:ec2::254]/', 'http://0.0.0.0/', `http://loopback.example:${receiver.port}/`,
      'http://mixed.example/', 'https://user:pw@hooks.example/', 'ftp://hooks.example/', 'https://hooks.example/#x',
    ]) {
      const response = await adminRequest(t, 'POST', '/api/admin/webhooks', admin, { url, events: ['sign-in.succeeded'] });
      assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
      assert.match(response.body, /url:/);
    }
  });

  it('refuses at connect time when DNS answers loopback after a public answer at registration (rebinding)', async () => {
    answers.push([{ address: '93.184.216.34', family: 4 }]);
    const created = await adminRequest(t, 'POST', '/api/admin/webhooks', admin, { url: `http://rebind.example:${receiver.port}/hook`, events: ['sign-in.succeeded'] });
    assert.equal(created.statusCode, 201, created.body);
    const id = (created.json() as { id: string }).id;
    await registerAndSignIn(t, 'rebind@example.com');
    const lookupsBefore = lookups.length;
    assert.equal(await t.app.webhookDelivery.runDue(), 1);
    assert.ok(lookups.length > lookupsBefore, 'the name was resolved again at connect time');
    assert.equal(receiver.received.length, 0, 'nothing reached the loopback receiver');
    const log = (await adminRequest(t, 'GET', `/api/admin/webhooks/${id}/deliveries`, admin)).json() as { deliveries: { status: string; last_error: string }[] };
    assert.equal(log.deliveries[0]!.status, 'pending', 'a refused destination is retried later, like any failure');
    assert.match(log.deliveries[0]!.last_error, /destination refused/);
  });

  it('address and URL rules', () => {
    const none = new BlockList();
    for (const address of ['127.0.0.1', '::1', '::ffff:7f00:1', '169.254.169.254', '100.100.100.200', 'fe80::1', 'fc00::1', '192.168.1.1', '172.16.0.1', '0.0.0.0', '::', '224.0.0.1']) {
      assert.equal(addressAllowed(address, none), false, address);
    }
    for (const address of ['93.184.216.34', '2606:4700:4700::1111', '1.1.1.1']) assert.equal(addressAllowed(address, none), true, address);
    const loopback = new BlockList();
    loopback.addSubnet('127.0.0.0', 8, 'ipv4');
    assert.equal(addressAllowed('127.0.0.1', loopback), true, 'allowed explicitly');
    assert.equal(addressAllowed('10.0.0.1', loopback), false);
    assert.equal(urlProblem('http://hooks.example/', { production: true }), 'must use https in production');
    assert.equal(urlProblem('https://hooks.example/', { production: true }), undefined);
    assert.equal(urlProblem('http://hooks.example/', { production: false }), undefined);
  });
});
