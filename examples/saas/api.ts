/**
 * The product's public API: Express 5 + Gatehouse's resource-server kit. Bearer JWTs only (the
 * API lives on its own host, so Gatehouse's session cookie never reaches it: `session: false`).
 *
 *   GET  /me            any valid access token
 *   GET  /projects      scope projects:read
 *   POST /projects      scope projects:write
 *   GET  /admin/users   role admin
 *
 * Inside this repository the kit is imported from source; an installed app imports
 * `gatehouse/middleware` and `gatehouse/middleware/express` instead.
 */
import express from 'express';
import { createAuthenticator, type Authenticator } from '../../packages/middleware/src/index.ts';
import { createExpressAuth } from '../../packages/middleware/src/express.ts';

/** This API's identifier: the `aud` its tokens must carry (the clients' `audiences`). */
export const API_AUDIENCE = 'https://api.saas.example';

export interface ApiOptions {
  /** Gatehouse's public URL (its `iss`). */
  issuer: string;
  /** The API's own client at Gatehouse: it reads the revocation stream with these. */
  clientId: string;
  clientSecret: string;
}

interface Project {
  id: number;
  name: string;
  owner: string;
}

export function createApi(options: ApiOptions): { app: express.Express; gatehouse: Authenticator } {
  const gatehouse = createAuthenticator({
    issuer: options.issuer,
    audience: API_AUDIENCE,
    revocations: { clientId: options.clientId, clientSecret: options.clientSecret },
    session: false,
  });
  const auth = createExpressAuth(gatehouse);

  // A toy store: projects per user, and who has called the API (for the admin page).
  const projects: Project[] = [];
  const seen = new Map<string, { clientId: string | null; lastSeen: string }>();
  const remember: express.RequestHandler = (req, _res, next) => {
    if (req.auth) seen.set(req.auth.subject, { clientId: req.auth.clientId, lastSeen: new Date().toISOString() });
    next();
  };

  const app = express();
  app.use(express.json({ limit: '10kb' }));

  app.get('/me', auth.requireAuth(), remember, (req, res) => {
    const me = req.auth!;
    res.json({ subject: me.subject, client: me.clientId, scopes: me.scopes, roles: me.roles });
  });

  app.get('/projects', auth.requireScope('projects:read'), remember, (req, res) => {
    res.json({ projects: projects.filter((project) => project.owner === req.auth!.subject) });
  });

  app.post('/projects', auth.requireScope('projects:write'), remember, (req, res) => {
    const name = typeof req.body?.name === 'string' ? req.body.name.trim().slice(0, 100) : '';
    if (!name) {
      res.status(400).json({ error: 'invalid_request', error_description: 'name is required' });
      return;
    }
    const project = { id: projects.length + 1, name, owner: req.auth!.subject };
    projects.push(project);
    res.status(201).json(project);
  });

  app.get('/admin/users', auth.requireRole('admin'), remember, (_req, res) => {
    res.json({ users: [...seen].map(([subject, info]) => ({ subject, ...info })) });
  });

  return { app, gatehouse };
}
