/**
 * "Acme Reports", a third-party web app with "Log in with Gatehouse": the OAuth 2.1 / OpenID
 * Connect authorization-code flow with PKCE, state and nonce, through openid-client. It keeps
 * its own session (an opaque cookie → server-side record), shows who is signed in, and calls the
 * product's API with the user's access token — which only carries `projects:read`, the one API
 * scope this app was registered (and consented) for.
 */
import { randomBytes } from 'node:crypto';
import express from 'express';
import * as oidc from 'openid-client';

export interface WebAppOptions {
  /** Gatehouse's public URL (the issuer). */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Where this app is reached, e.g. http://127.0.0.1:4001 (the redirect URI is `${baseUrl}/callback`). */
  baseUrl: string;
  /** The product's API. */
  apiUrl: string;
}

interface Session {
  name: string;
  email: string;
  subject: string;
  accessToken: string;
}

interface PendingLogin {
  verifier: string;
  state: string;
  nonce: string;
  expiresAt: number;
}

const SESSION_COOKIE = 'reports_session';
const LOGIN_COOKIE = 'reports_login';

const escape = (value: string) => value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function cookies(req: express.Request): Map<string, string> {
  const jar = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0) jar.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return jar;
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escape(title)}</title><body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

export function createWebApp(options: WebAppOptions): express.Express {
  const redirectUri = `${options.baseUrl}/callback`;
  const secureCookies = options.baseUrl.startsWith('https:');
  const cookieOptions = { httpOnly: true, sameSite: 'lax', secure: secureCookies, path: '/' } as const;
  const sessions = new Map<string, Session>();
  const pending = new Map<string, PendingLogin>();

  // Discovery once, on first use (Gatehouse may start after this app).
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc
      .discovery(new URL(options.issuer), options.clientId, {}, oidc.ClientSecretBasic(options.clientSecret), {
        // Plain http is for a local Gatehouse only; never in production.
        ...(options.issuer.startsWith('http:') ? { execute: [oidc.allowInsecureRequests] } : {}),
      })
      .catch((error: unknown) => {
        discovered = undefined;
        throw error;
      });
    return discovered;
  };

  const app = express();
  app.use(express.urlencoded({ extended: false, limit: '1kb' }));

  app.get('/', async (req, res) => {
    const session = sessions.get(cookies(req).get(SESSION_COOKIE) ?? '');
    if (!session) {
      res.type('html').send(page('Acme Reports', '<p>Not signed in.</p><p><a href="/login">Log in with Gatehouse</a></p>'));
      return;
    }
    // Read the user's projects from the product's API with the user's access token.
    const api = await fetch(`${options.apiUrl}/projects`, { headers: { authorization: `Bearer ${session.accessToken}` } });
    const projects = api.ok ? ((await api.json()) as { projects: { name: string }[] }).projects : [];
    const list = projects.length ? `<ul>${projects.map((p) => `<li>${escape(p.name)}</li>`).join('')}</ul>` : '<p>No projects yet.</p>';
    const notice = typeof req.query.notice === 'string' ? `<p role="status">${escape(req.query.notice)}</p>` : '';
    res.type('html').send(
      page(
        'Acme Reports',
        `<p id="user">Signed in as ${escape(session.name)} &lt;${escape(session.email)}&gt;</p>${notice}
<h2>Your projects</h2><p id="api-status">API answered ${api.status}</p>${list}
<form method="post" action="/projects"><button>Add a project</button></form>
<form method="post" action="/logout"><button>Sign out</button></form>`,
      ),
    );
  });

  app.get('/login', async (_req, res) => {
    const config = await configuration();
    const login: PendingLogin = { verifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce(), expiresAt: Date.now() + 10 * 60_000 };
    const key = randomBytes(24).toString('base64url');
    pending.set(key, login);
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: 'openid profile email projects:read',
      code_challenge: await oidc.calculatePKCECodeChallenge(login.verifier),
      code_challenge_method: 'S256',
      state: login.state,
      nonce: login.nonce,
    });
    res.cookie(LOGIN_COOKIE, key, { ...cookieOptions, maxAge: 10 * 60_000 });
    res.redirect(303, url.href);
  });

  app.get('/callback', async (req, res) => {
    const key = cookies(req).get(LOGIN_COOKIE) ?? '';
    const login = pending.get(key);
    pending.delete(key);
    res.clearCookie(LOGIN_COOKIE, cookieOptions);
    if (!login || login.expiresAt < Date.now()) {
      res.status(400).type('html').send(page('Sign-in failed', '<p>This sign-in expired. <a href="/login">Try again</a>.</p>'));
      return;
    }
    try {
      const config = await configuration();
      // Checks iss, state, the code exchange with PKCE, and the ID token (signature, aud, nonce …).
      const tokens = await oidc.authorizationCodeGrant(config, new URL(req.originalUrl, options.baseUrl), {
        pkceCodeVerifier: login.verifier,
        expectedState: login.state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims()!;
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, {
        subject: claims.sub,
        name: typeof claims.name === 'string' ? claims.name : '',
        email: typeof claims.email === 'string' ? claims.email : '',
        accessToken: tokens.access_token,
      });
      res.cookie(SESSION_COOKIE, id, cookieOptions);
      res.redirect(303, '/');
    } catch (error) {
      const reason = error instanceof oidc.AuthorizationResponseError || error instanceof oidc.ResponseBodyError ? error.error : 'the sign-in could not be completed';
      res.status(400).type('html').send(page('Sign-in failed', `<p>${escape(reason)}</p><p><a href="/">Back</a></p>`));
    }
  });

  // Creating a project needs projects:write, which this third-party app never asked for: the API
  // refuses with 403 insufficient_scope, and the app says so.
  app.post('/projects', async (req, res) => {
    const session = sessions.get(cookies(req).get(SESSION_COOKIE) ?? '');
    if (!session) {
      res.redirect(303, '/');
      return;
    }
    const api = await fetch(`${options.apiUrl}/projects`, { method: 'POST', headers: { authorization: `Bearer ${session.accessToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'From Acme Reports' }) });
    const body = (await api.json().catch(() => ({}))) as { error?: string };
    res.redirect(303, `/?notice=${encodeURIComponent(api.ok ? 'Project added' : `The API refused: ${api.status} ${body.error ?? ''}`.trim())}`);
  });

  app.post('/logout', (req, res) => {
    sessions.delete(cookies(req).get(SESSION_COOKIE) ?? '');
    res.clearCookie(SESSION_COOKIE, cookieOptions);
    res.redirect(303, '/');
  });

  return app;
}
