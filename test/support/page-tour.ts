/**
 * Every hosted page in every state a user can meet, as one walk a real browser takes through a
 * real Gatehouse listening on http://localhost (issue 18, "Accessibility" and "Pictures for
 * reviewers"). test/browser/a11y.test.ts audits each stop with axe-core in both colour schemes;
 * scripts/screenshots.ts photographs each stop. The walk signs up, confirms the mailed link,
 * signs in, consents, enrols an authenticator app … so later stops have the data earlier ones
 * made; selectors are names and form actions, never page text (the sample brand is German).
 *
 * The server: embedded SQLite in a temp dir, development mode (its mail outbox is a page too and
 * `/dev/outbox.json` gives the tour its mailed links), the tour's two OAuth clients.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page, Response } from 'playwright-core';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import { resolveMasterKey } from '../../src/crypto/master-key.ts';
import { createSqlUserStore } from '../../src/features/accounts/store.ts';
import { totp } from '../../src/features/mfa/totp.ts';
import { openStorage } from '../../src/storage/open.ts';
import { registerTheme } from '../../src/ui/theme/index.ts';
import { PAGE_SCRIPT_PATH } from '../../src/ui/theme/page-script.ts';
import { TEST_MASTER_KEY } from './app.ts';
import { DEVICE_GRANT } from './device.ts';
import { base32Decode } from './mfa.ts';
import { freePort } from './oauth.ts';

export const TOUR_PASSWORD = 'a long passphrase with spaces';
/** The OAuth client the tour acts for, with its own name, logo and links (per-client branding). */
const CLIENT_LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><circle cx="24" cy="24" r="22" fill="#2e7d32"/></svg>';
const CLIENT_PAGE = '<!doctype html><html lang="en"><title>Acme Notes</title><main><h1>Acme Notes</h1></main></html>';
const SCOPES = ['openid', 'profile', 'email', 'offline_access'];

/**
 * The OAuth client's own site on loopback (its logo, its callback, its sign-out landing page):
 * a redirect leaves Gatehouse for a real address, as with a real client (Playwright's routes do
 * not follow redirects). Loopback http is allowed for branding URIs in development mode.
 */
async function startClientSite(): Promise<{ origin: string; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const logo = request.url === '/logo.svg';
    response.writeHead(200, { 'content-type': logo ? 'image/svg+xml' : 'text/html; charset=utf-8' });
    response.end(logo ? CLIENT_LOGO : CLIENT_PAGE);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** `notes`: the application the tour signs in to and consents for, with its own name, logo and links; `tv`: a device. */
export function tourClients(site: string): Record<string, unknown>[] {
  return [
    {
      client_id: 'notes', name: 'Acme Notes', type: 'public', token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'], redirect_uris: [`${site}/callback`], post_logout_redirect_uris: [`${site}/bye`],
      scopes: SCOPES, audiences: [],
      logo_uri: `${site}/logo.svg`, client_uri: site, policy_uri: `${site}/privacy`, tos_uri: `${site}/terms`,
    },
    { client_id: 'tv', name: 'Living Room TV', type: 'public', token_endpoint_auth_method: 'none', grant_types: [DEVICE_GRANT], scopes: SCOPES, audiences: [] },
  ];
}

export interface TourServer {
  base: string;
  /** The `notes` client's site: `<clientSite>/callback` is its redirect URI. */
  clientSite: string;
  app: FastifyInstance;
  /** The newest `<base><path>?token=…` link mailed to `to` (waits for the mail, bounded). */
  mailedLink(to: string, path: string): Promise<string>;
  /** A fresh device authorization of the `tv` client: its user code. */
  deviceUserCode(): Promise<string>;
  /** Gives the account `email` the built-in admin role (for the console's stops). */
  makeAdmin(email: string): Promise<void>;
  /** The last server log lines, for failure messages. */
  logTail(lines?: number): string;
  close(): Promise<void>;
}

/** Gatehouse in development mode on http://localhost:<free port>, data in `directory`. */
export async function startTourServer(options: { directory: string; env?: Record<string, string> }): Promise<TourServer> {
  const site = await startClientSite();
  const lines: string[] = [];
  const logStream = new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(chunk.toString('utf8')); if (lines.length > 400) lines.shift(); callback(); } });
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const base = `http://localhost:${port}`;
    const config = loadConfig({
      env: {
        GATEHOUSE_ENV: 'development',
        GATEHOUSE_DATA_DIR: options.directory,
        GATEHOUSE_MASTER_KEY: TEST_MASTER_KEY,
        GATEHOUSE_PUBLIC_URL: base,
        GATEHOUSE_LOG_LEVEL: 'warn',
        GATEHOUSE_CLIENTS: JSON.stringify(tourClients(site.origin)),
        // The lockout stop needs few failures; the walk itself signs up and in more than people do.
        GATEHOUSE_LOCKOUT_THRESHOLD: '2',
        GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
        GATEHOUSE_SIGN_UP_LIMIT_PER_IP: '100000',
        ...options.env,
      },
    });
    const storage = await openStorage(config);
    const app = await createApp({ config, database: storage.database, ephemeral: storage.ephemeral, masterKey: resolveMasterKey(config), logStream });
    // Until src/app.ts registers the theme itself (one line after createShared), the tour does.
    if (!app.hasRoute({ method: 'GET', url: PAGE_SCRIPT_PATH })) registerTheme(app, config);
    try {
      await app.listen({ port, host: 'localhost' });
    } catch (error) {
      await app.close();
      await storage.close();
      if (attempt >= 3 || (error as NodeJS.ErrnoException).code !== 'EADDRINUSE') {
        await site.close();
        throw error;
      }
      continue;
    }
    return {
      base,
      clientSite: site.origin,
      app,
      async mailedLink(to, path) {
        const pattern = new RegExp(`${base.replace(/[.:/]/g, '\\$&')}${path}\\?token=[A-Za-z0-9_%-]+`);
        for (let polls = 0; polls < 400; polls++) {
          const { mails } = (await app.inject({ url: '/dev/outbox.json' })).json() as { mails: { to: string; text: string }[] };
          const link = mails.filter((mail) => mail.to === to).map((mail) => pattern.exec(mail.text)?.[0]).filter(Boolean).at(-1);
          if (link) return link;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        throw new Error(`no mail to ${to} with a ${path} link`);
      },
      async deviceUserCode() {
        const response = await app.inject({ method: 'POST', url: '/oauth/device_authorization', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ client_id: 'tv', scope: 'openid profile' }).toString() });
        assert.equal(response.statusCode, 200, response.body);
        return (response.json() as { user_code: string }).user_code;
      },
      async makeAdmin(email) {
        const users = createSqlUserStore(storage.database.db);
        const user = await users.findByEmail(email);
        assert.ok(user, `an account ${email}`);
        await users.setRoles(user.id, ['admin'], Date.now());
      },
      logTail: (count = 15) => lines.slice(-count).join(''),
      close: async () => {
        await app.close();
        await storage.close();
        await site.close();
      },
    };
  }
}

/** One walk's state: the page, where its documents came from, what earlier stops made. */
export interface TourRun {
  readonly server: TourServer;
  readonly page: Page;
  /** The account this walk creates (unique per walk). */
  readonly email: string;
  /** The status of the last main-frame document (after redirects). */
  status: number;
  totpSecret?: string;
}

export interface TourStop {
  /** The page, e.g. "sign-in". */
  page: string;
  /** Its state, e.g. "field errors". */
  state: string;
  /** 'ok' (2xx) or the status family the state must answer with. */
  expect: 'ok' | 'client-error';
  /** Where the state must end up (a path prefix), when a redirect elsewhere would still answer 2xx. */
  path?: string;
  go(run: TourRun): Promise<void>;
}

export function newTourRun(server: TourServer, page: Page, tag: string): TourRun {
  const run: TourRun = { server, page, email: `tour-${tag}@example.com`, status: 0 };
  page.on('response', (response: Response) => {
    if (response.request().isNavigationRequest() && response.frame() === page.mainFrame() && response.url().startsWith(server.base)) run.status = response.status();
  });
  return run;
}

/** Goes to the stop's state and checks it got there (the status it must answer with). */
export async function reach(run: TourRun, stop: TourStop): Promise<void> {
  await stop.go(run);
  await run.page.waitForLoadState('load');
  const ok = stop.expect === 'ok' ? run.status >= 200 && run.status < 300 : run.status >= 400 && run.status < 500;
  assert.ok(ok, `${stop.page} — ${stop.state}: status ${run.status} at ${run.page.url()}, expected ${stop.expect}\n--- server log ---\n${run.server.logTail()}`);
  if (stop.path) assert.ok(new URL(run.page.url()).pathname.startsWith(stop.path), `${stop.page} — ${stop.state}: at ${run.page.url()}, expected ${stop.path}`);
}

async function visit(run: TourRun, path: string): Promise<void> {
  await run.page.goto(`${run.server.base}${path}`, { waitUntil: 'load' });
}

/** Fills `fields` of the form posting to `action` and presses its primary button (or `button`). */
async function submit(run: TourRun, action: string, fields: Record<string, string>, button = 'button[type=submit]:not(.secondary):not(.danger)'): Promise<void> {
  const form = run.page.locator(`form[action="${action}"]`).first();
  for (const [name, value] of Object.entries(fields)) await form.locator(`[name="${name}"]`).fill(value);
  const loaded = run.page.waitForEvent('load');
  await form.locator(button).first().click();
  await loaded;
}

function authorizePath(run: TourRun): string {
  const challenge = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
  const query = new URLSearchParams({ response_type: 'code', client_id: 'notes', redirect_uri: `${run.server.clientSite}/callback`, scope: SCOPES.join(' '), state: 'tour', nonce: 'tour', code_challenge: challenge, code_challenge_method: 'S256' });
  return `/oauth/authorize?${query}`;
}

/** A six-digit code the authenticator does not show now (nor one step either side). */
function wrongCode(secret: string): string {
  const key = base32Decode(secret);
  const near = new Set([-30_000, 0, 30_000].map((offset) => totp(key, Date.now() + offset)));
  return ['000000', '111111', '222222', '333333'].find((code) => !near.has(code))!;
}

async function readTotpSecret(run: TourRun): Promise<string> {
  const secret = (await run.page.locator('code.secret').first().innerText()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]+$/, 'the enrolment page shows the secret for typing');
  run.totpSecret = secret;
  return secret;
}

const stop = (page: string, state: string, expect: TourStop['expect'], go: TourStop['go']): TourStop => ({ page, state, expect, go });

/** Signed out first, then the walk's own account; the order matters (later stops use earlier data). */
const PAGE_STOPS: readonly TourStop[] = [
  stop('start', 'signed out', 'ok', (run) => visit(run, '/')),
  stop('sign-in', 'empty', 'ok', (run) => visit(run, '/login')),
  stop('sign-in', 'field errors', 'client-error', (run) => submit(run, '/login', { email: '', password: '' })),
  stop('sign-in', 'wrong password', 'client-error', (run) => submit(run, '/login', { email: `nobody-${run.email}`, password: 'not the password' })),
  stop('sign-in', 'lockout (how long to wait)', 'client-error', async (run) => {
    for (let tries = 0; tries < 8 && run.status !== 429; tries++) await submit(run, '/login', { email: `locked-${run.email}`, password: 'not the password' });
    assert.equal(run.status, 429, 'the lockout engages');
  }),
  stop('sign-up', 'empty', 'ok', (run) => visit(run, '/signup')),
  stop('sign-up', 'field errors', 'client-error', (run) => submit(run, '/signup', { email: 'not-an-email', password: 'short' })),
  stop('sign-up', 'check your inbox', 'ok', (run) => submit(run, '/signup', { name: 'Ada Lovelace', email: run.email, password: TOUR_PASSWORD })),
  stop('verify-email', 'confirm the link', 'ok', async (run) => run.page.goto(await run.server.mailedLink(run.email, '/verify-email'), { waitUntil: 'load' }).then(() => undefined)),
  stop('verify-email', 'confirmed (sign-in with notice)', 'ok', (run) => submit(run, '/verify-email', {})),
  stop('verify-email', 'incomplete link', 'client-error', (run) => visit(run, '/verify-email')),
  stop('forgot-password', 'empty', 'ok', (run) => visit(run, '/forgot-password')),
  stop('forgot-password', 'field errors', 'client-error', (run) => submit(run, '/forgot-password', { email: 'not-an-email' })),
  stop('forgot-password', 'sent', 'ok', (run) => submit(run, '/forgot-password', { email: run.email })),
  stop('reset-password', 'new password form', 'ok', async (run) => run.page.goto(await run.server.mailedLink(run.email, '/reset-password'), { waitUntil: 'load' }).then(() => undefined)),
  stop('reset-password', 'field errors', 'client-error', (run) => submit(run, '/reset-password', { password: 'short' })),
  stop('reset-password', 'invalid link', 'client-error', async (run) => {
    await visit(run, '/reset-password?token=not-a-real-token-0123456789');
    if (run.status < 400) await submit(run, '/reset-password', { password: `${TOUR_PASSWORD} again` });
  }),
  stop('error', 'not found (404)', 'client-error', (run) => visit(run, '/no-such-page')),
  stop('error', 'unknown client', 'client-error', (run) => visit(run, `/oauth/authorize?response_type=code&client_id=no-such-client&redirect_uri=${encodeURIComponent(`${run.server.clientSite}/callback`)}&scope=openid`)),
  stop('device', 'enter the code', 'ok', (run) => visit(run, '/device')),
  stop('device', 'wrong code', 'client-error', (run) => submit(run, '/device', { user_code: 'WXYZ-BCDF' })),
  stop('sign-in', 'for an application (client context)', 'ok', (run) => visit(run, authorizePath(run))),
  stop('consent', 'an application asks', 'ok', (run) => submit(run, '/login', { email: run.email, password: TOUR_PASSWORD })),
  stop('account', 'all sections (after consenting)', 'ok', async (run) => {
    await submit(run, '/oauth/authorize/consent', {}, 'button[value=allow]');
    assert.ok(run.page.url().startsWith(`${run.server.clientSite}/callback?code=`), `consent went back to the client (${run.page.url()})`);
    await visit(run, '/account');
  }),
  stop('account', 'change email: refused', 'client-error', (run) => submit(run, '/account/email', { new_email: 'not-an-email', password: 'not the password' }, 'button[type=submit]')),
  stop('account', 'change email: link sent', 'ok', (run) => submit(run, '/account/email', { new_email: `new-${run.email}`, password: TOUR_PASSWORD }, 'button[type=submit]')),
  stop('account', 'change email: confirm the link', 'ok', async (run) => run.page.goto(await run.server.mailedLink(`new-${run.email}`, '/account/email/confirm'), { waitUntil: 'load' }).then(() => undefined)),
  { ...stop('account', 'delete account', 'ok', (run) => visit(run, '/account/delete')), path: '/account/delete' },
  { ...stop('account', 'delete account: wrong password', 'client-error', (run) => submit(run, '/account/delete', { password: 'not the password' }, 'button[type=submit]')), path: '/account/delete' },
  stop('mfa', 'overview without factors', 'ok', (run) => visit(run, '/account/mfa')),
  stop('mfa', 'add a passkey', 'ok', (run) => submit(run, '/account/mfa/passkey', {}, 'button[type=submit]')),
  stop('mfa', 'enrol an authenticator app (QR code)', 'ok', async (run) => {
    await visit(run, '/account/mfa');
    await submit(run, '/account/mfa/totp', {}, 'button[type=submit]');
  }),
  stop('mfa', 'enrolment: wrong code', 'client-error', async (run) => submit(run, '/account/mfa/totp/confirm', { code: wrongCode(await readTotpSecret(run)) })),
  stop('mfa', 'recovery codes', 'ok', async (run) => submit(run, '/account/mfa/totp/confirm', { code: totp(base32Decode(await readTotpSecret(run)), Date.now()) })),
  stop('mfa', 'overview with a factor', 'ok', (run) => visit(run, '/account/mfa')),
  stop('sign-out', 'an application asks (confirmation)', 'ok', (run) => visit(run, `/oauth/end-session?client_id=notes&post_logout_redirect_uri=${encodeURIComponent(`${run.server.clientSite}/bye`)}`)),
  stop('device', 'confirm the device', 'ok', async (run) => {
    await visit(run, '/device');
    await submit(run, '/device', { user_code: await run.server.deviceUserCode() });
  }),
  stop('sign-in', 'already signed in', 'ok', (run) => visit(run, '/login')),
  stop('mfa', 'second step', 'ok', (run) => submit(run, '/login', { email: run.email, password: TOUR_PASSWORD })),
  stop('mfa', 'second step: wrong code', 'client-error', (run) => submit(run, '/login/mfa', { code: wrongCode(run.totpSecret!) })),
  stop('dev outbox', 'mails sent', 'ok', (run) => visit(run, '/dev/outbox')),
];

const admin = (state: string, path: string, go: TourStop['go'], expect: TourStop['expect'] = 'ok'): TourStop => ({ page: 'admin console', state, expect, path, go });

/** The admin console (/admin), walked last by the tour's account, made an admin (it is signed in there). */
const ADMIN_STOPS: readonly TourStop[] = [
  admin('dashboard', '/admin', async (run) => {
    await run.server.makeAdmin(run.email);
    await visit(run, '/admin');
  }),
  admin('users', '/admin/users', (run) => visit(run, '/admin/users')),
  admin('user detail', '/admin/users/', async (run) => visit(run, (await run.page.locator('a[href^="/admin/users/"]').first().getAttribute('href'))!)),
  admin('clients', '/admin/clients', (run) => visit(run, '/admin/clients')),
  admin('client detail', '/admin/clients/notes', (run) => visit(run, '/admin/clients/notes')),
  admin('new client', '/admin/clients/new', (run) => visit(run, '/admin/clients/new')),
  admin('new client: refused', '/admin/clients', (run) => submit(run, '/admin/clients', { name: 'Broken client', redirect_uris: 'not a url' }), 'client-error'),
  admin('identity providers', '/admin/identity-providers', (run) => visit(run, '/admin/identity-providers')),
  admin('roles', '/admin/roles', (run) => visit(run, '/admin/roles')),
  admin('signing keys', '/admin/keys', (run) => visit(run, '/admin/keys')),
  admin('audit log', '/admin/audit', (run) => visit(run, '/admin/audit')),
  admin('branding', '/admin/branding', (run) => visit(run, '/admin/branding')),
  admin('branding: refused', '/admin/branding', (run) => submit(run, '/admin/branding', { accent_color: 'blue' }), 'client-error'),
];

/** Every stop, in walking order: the hosted pages, then the admin console. */
export const TOUR: readonly TourStop[] = [...PAGE_STOPS, ...ADMIN_STOPS];

/** Walks the tour (`stops`, by default the whole `TOUR`) in `run.page`, calling `atStop` at every stop once it is reached. */
export async function walkTour(run: TourRun, atStop: (stop: TourStop, index: number) => Promise<void>, stops: readonly TourStop[] = TOUR): Promise<void> {
  for (const [index, item] of stops.entries()) {
    await reach(run, item);
    await atStop(item, index);
  }
}
