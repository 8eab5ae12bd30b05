/**
 * Branding settings across instances and failures (docs/branding.md#from-the-admin-api-or-console):
 * a lost `branding:changed` message is caught up by the reload every minute; a change is decided
 * against the stored rows, not an instance's memory; once committed, a change is audited, applied
 * and announced even when the reload after it fails; a database failure before the commit is a
 * 503 that changes nothing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Kysely } from 'kysely';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import type { OutgoingMail } from '../../src/features/email/mailer.ts';
import type { Database } from '../../src/storage/sql/database.ts';
import { DatabaseUnavailableError } from '../../src/storage/sql/pg-faults.ts';
import type { DatabaseSchema } from '../../src/storage/sql/schema.ts';
import { openStorage } from '../../src/storage/open.ts';
import { BRANDING_CHANNEL, BRANDING_RELOAD_MS, createBrandingSettings } from '../../src/ui/theme/settings.ts';
import { capturingMailer, createTestApp, TEST_MASTER_KEY, type TestApp } from '../support/app.ts';
import { auditEvents, signedInBrowser } from './console-support-admin.ts';
import { call } from './support.ts';

const BRAND = { GATEHOUSE_BRAND_NAME: 'Acme Cloud' };

function titleOf(body: string): string {
  return /<title>([^<]*)<\/title>/.exec(body)?.[1] ?? '';
}

async function settle(done: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 500 && !done(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * The database as the app sees it, with faults on the branding table: `write` fails its writes
 * inside the transaction (before the commit), `read` fails reading it outside one (the reload
 * after the commit) — as a PostgreSQL connection lost at that moment does (pg-faults.ts).
 */
function faultyDatabase(inner: Database, faults: { write: boolean; read: boolean }): Database {
  const lost = () => new DatabaseUnavailableError('the database connection was lost');
  const bound = (target: object, prop: string | symbol) => {
    const value: unknown = Reflect.get(target, prop, target);
    return typeof value === 'function' ? value.bind(target) : value;
  };
  const transaction = <T extends object>(trx: T): T => new Proxy(trx, {
    get(target, prop) {
      if ((prop === 'insertInto' || prop === 'deleteFrom') && faults.write) {
        return (table: string) => {
          if (table === 'branding_settings') throw lost();
          return (target as Record<string, (table: string) => unknown>)[prop]!(table);
        };
      }
      return bound(target, prop);
    },
  });
  const db = new Proxy(inner.db, {
    get(target, prop) {
      if (prop === 'selectFrom') {
        return (table: Parameters<Kysely<DatabaseSchema>['selectFrom']>[0]) => {
          if (faults.read && table === 'branding_settings') throw lost();
          return target.selectFrom(table);
        };
      }
      if (prop === 'transaction') {
        return () => new Proxy(target.transaction(), {
          get(builder, name) {
            if (name === 'execute') return (work: (trx: object) => Promise<unknown>) => builder.execute((trx) => work(transaction(trx)));
            return bound(builder, name);
          },
        });
      }
      return bound(target, prop);
    },
  });
  return { db, dialect: inner.dialect, ping: (timeoutMs) => inner.ping(timeoutMs), logFaultsTo: (logger) => inner.logFaultsTo(logger), close: () => inner.close() };
}

describe('branding settings on several instances', () => {
  let dir: string;
  let a: TestApp;
  let b: TestApp;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gh-branding-instances-'));
    // Two instances over one SQLite file, each with its own ephemeral store: nothing A
    // publishes reaches B unless the test delivers it.
    const env = { ...BRAND, GATEHOUSE_DATABASE_URL: `sqlite:${join(dir, 'gatehouse.db')}` };
    a = await createTestApp({ env });
    b = await createTestApp({ env });
  });
  after(async () => {
    await Promise.allSettled([a?.close(), b?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a lost branding:changed message is caught up within a minute while the subscription is up', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] });
    const applied: string[] = [];
    const errors: string[] = [];
    // Subscribed to B's store: it works, but A's announcement goes to A's store and is lost here.
    const settings = createBrandingSettings({
      db: b.storage.database.db,
      ephemeral: b.storage.ephemeral,
      config: b.config,
      now: Date.now,
      audit: { record: async () => {} },
      apply: (brand) => void applied.push(brand.productName),
      onError: (error, what) => void errors.push(`${what}: ${String(error)}`),
    });
    await settings.start();
    assert.deepEqual(errors, [], 'subscribed');
    const admin = await signedInBrowser(a, 'lost@example.com');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme Lost' })).statusCode, 200);
    t.mock.timers.tick(BRANDING_RELOAD_MS);
    for (let attempt = 0; attempt < 500 && applied.length < 2; attempt += 1) await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(applied, ['Acme Cloud', 'Acme Lost']);
    assert.equal(settings.view().product_name.value, 'Acme Lost');
    await settings.stop();
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: null })).statusCode, 200);
  });

  it('an instance that missed a change still writes a real change (decided against the stored rows)', async () => {
    const adminA = await signedInBrowser(a, 'admin-a@example.com');
    const adminB = await signedInBrowser(b, 'admin-b@example.com');
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: adminA.cookie }, { product_name: 'Acme Old' })).statusCode, 200);
    await b.storage.ephemeral.publish(BRANDING_CHANNEL, String(Date.now())); // B hears of this one
    let title = '';
    for (let attempt = 0; attempt < 500 && !title.endsWith('Acme Old'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      title = titleOf((await b.app.inject({ url: '/login' })).body);
    }
    assert.match(title, /· Acme Old$/);
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: adminA.cookie }, { product_name: 'Acme New' })).statusCode, 200);
    // B missed that announcement: its memory still says "Acme Old". Its admin puts "Acme Old" back.
    const reverted = await call(b, 'PATCH', '/api/admin/branding', { cookie: adminB.cookie }, { product_name: 'Acme Old' });
    assert.equal(reverted.statusCode, 200, reverted.body);
    assert.deepEqual(reverted.json().product_name, { value: 'Acme Old', override: 'Acme Old', configured: 'Acme Cloud' });
    const stored = await a.storage.database.db.selectFrom('branding_settings').select('value').where('key', '=', 'product_name').executeTakeFirst();
    assert.equal(stored?.value, 'Acme Old', 'written, not dropped as "no change"');
    const events = await auditEvents(b, adminB.cookie, 'branding-updated');
    assert.equal(events[0]?.actor_id, adminB.userId, 'audited as B\'s admin');
    assert.equal(events[0]?.detail.fields, 'product_name');

    // The same value again is no change: nothing written, nothing audited.
    const count = events.length;
    assert.equal((await call(b, 'PATCH', '/api/admin/branding', { cookie: adminB.cookie }, { product_name: 'Acme Old' })).statusCode, 200);
    assert.equal((await auditEvents(b, adminB.cookie, 'branding-updated')).length, count);
    assert.equal((await call(a, 'PATCH', '/api/admin/branding', { cookie: adminA.cookie }, { product_name: null })).statusCode, 200);
  });
});

describe('branding settings when the database fails', () => {
  const faults = { write: false, read: false };
  let t: TestApp;
  let admin: Awaited<ReturnType<typeof signedInBrowser>>;
  const announced: string[] = [];
  before(async () => {
    const config = loadConfig({ env: { ...BRAND, GATEHOUSE_DATABASE_URL: 'sqlite::memory:', GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY, GATEHOUSE_LOG_LEVEL: 'debug' } });
    const storage = await openStorage(config);
    const lines: string[] = [];
    const mails: OutgoingMail[] = [];
    const app = await createApp({
      config,
      database: faultyDatabase(storage.database, faults),
      ephemeral: storage.ephemeral,
      masterKey: resolveMasterKey(config),
      mailer: capturingMailer(mails),
      logStream: new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(chunk.toString('utf8')); callback(); } }),
    });
    await app.ready();
    t = { app, config, storage, mails, logText: () => lines.join(''), close: async () => { await app.close(); await storage.close(); } };
    admin = await signedInBrowser(t, 'admin@example.com');
    await storage.ephemeral.subscribe(BRANDING_CHANNEL, (message) => void announced.push(message));
  });
  after(() => t?.close());

  it('a reload failing after the commit: 200, applied from the rows written, audited and announced', async () => {
    faults.read = true;
    let patched;
    try {
      patched = await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme Committed' });
    } finally {
      faults.read = false;
    }
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().product_name.value, 'Acme Committed');
    assert.match(titleOf((await t.app.inject({ url: '/login' })).body), /· Acme Committed$/, 'this instance applies it');
    const events = await auditEvents(t, admin.cookie, 'branding-updated');
    assert.equal(events.length, 1);
    assert.equal(events[0]?.actor_id, admin.userId);
    assert.equal(events[0]?.detail.fields, 'product_name');
    await settle(() => announced.length > 0);
    assert.equal(announced.length, 1, 'the other instances are told');
    assert.match(t.logText(), /reloading branding settings after a change/, 'the failed reload is logged');
  });

  it('a database failure before the commit: 503 from the API and the console, nothing changed, audited or announced', async () => {
    const before = announced.length;
    faults.write = true;
    let api;
    let page;
    try {
      api = await call(t, 'PATCH', '/api/admin/branding', { cookie: admin.cookie }, { product_name: 'Acme Never', radius: '2px' });
      page = await admin.browser.submit('/admin/branding', '/admin/branding', { product_name: 'Acme Never' });
    } finally {
      faults.write = false;
    }
    assert.equal(api.statusCode, 503, api.body);
    assert.equal(page.statusCode, 503, page.body.slice(0, 300));
    const view = (await call(t, 'GET', '/api/admin/branding', { cookie: admin.cookie })).json();
    assert.equal(view.product_name.override, 'Acme Committed');
    assert.equal(view.radius.override, null, 'the transaction was rolled back as a whole');
    const stored = await t.storage.database.db.selectFrom('branding_settings').select(['key', 'value']).execute();
    assert.deepEqual(stored.map((row) => [row.key, row.value]), [['product_name', 'Acme Committed']]);
    assert.equal((await auditEvents(t, admin.cookie, 'branding-updated')).length, 1);
    assert.equal(announced.length, before);
  });
});
