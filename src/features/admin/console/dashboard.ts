import type { FastifyInstance } from 'fastify';
import { html } from '../../../ui/html.ts';
import { translatorFor, type MessageKey } from '../../../ui/i18n/index.ts';
import { PAGE_GET } from '../../../ui/routes.ts';
import type { Admit, AdminConsoleDeps } from './deps.ts';
import { sendConsolePage } from './chrome.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DashboardFigures {
  users: number;
  activeSessions: number;
  signIns: number;
  signInFailures: number;
  lockouts: number;
  reuseDetections: number;
}

/**
 * The dashboard's figures. One bounded query each: the users count from the admin user store
 * (the `total` of the list), live sessions by `expires_at`, and the last 24 h of the audit log
 * grouped by type and outcome on the `audit_events_at` index.
 */
export async function dashboardFigures(deps: Pick<AdminConsoleDeps, 'users' | 'db' | 'now'>): Promise<DashboardFigures> {
  const now = deps.now();
  const [users, sessions, audit] = await Promise.all([
    deps.users.list({ limit: 1 }),
    deps.db.selectFrom('sessions').select((eb) => eb.fn.countAll<number>().as('n')).where('expires_at', '>', now).executeTakeFirstOrThrow(),
    deps.db.selectFrom('audit_events')
      .select(['type', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
      .where('at', '>=', now - DAY_MS)
      .where('type', 'in', ['sign-in', 'lockout', 'refresh-token-reuse'])
      .groupBy(['type', 'outcome'])
      .execute(),
  ]);
  const count = (type: string, outcome?: string) => audit.filter((row) => row.type === type && (outcome === undefined || row.outcome === outcome)).reduce((sum, row) => sum + Number(row.n), 0);
  return {
    users: users.total,
    activeSessions: Number(sessions.n),
    signIns: count('sign-in', 'success'),
    signInFailures: count('sign-in', 'failure'),
    lockouts: count('lockout'),
    reuseDetections: count('refresh-token-reuse'),
  };
}

const TILES: readonly { key: keyof DashboardFigures; label: MessageKey; href: string }[] = [
  { key: 'users', label: 'admin.dashboard.users', href: '/admin/users' },
  { key: 'activeSessions', label: 'admin.dashboard.activeSessions', href: '/admin/users' },
  { key: 'signIns', label: 'admin.dashboard.signIns', href: '/admin/audit?type=sign-in&outcome=success' },
  { key: 'signInFailures', label: 'admin.dashboard.signInFailures', href: '/admin/audit?type=sign-in&outcome=failure' },
  { key: 'lockouts', label: 'admin.dashboard.lockouts', href: '/admin/audit?type=lockout' },
  { key: 'reuseDetections', label: 'admin.dashboard.reuseDetections', href: '/admin/audit?type=refresh-token-reuse' },
];

/** `GET /admin`: needs both the users and the audit area (its figures come from both). */
export function registerDashboard(app: FastifyInstance, deps: AdminConsoleDeps, admit: Admit): void {
  app.get('/admin', PAGE_GET, async (request, reply) => {
    if (!(await admit(request, reply, ['admin:users', 'admin:audit']))) return reply;
    const tr = translatorFor(request);
    const figures = await dashboardFigures(deps);
    return sendConsolePage(request, reply, {
      section: 'dashboard',
      title: tr.t('admin.dashboard.title'),
      body: html`<section><h2>${tr.t('admin.dashboard.heading')}</h2>
<p class="hint">${tr.t('admin.dashboard.window')}</p>
<ul class="sessions admin-tiles">
${TILES.map((tile) => html`<li><a href="${tile.href}"><strong class="admin-figure" data-figure="${tile.key}">${tr.number(figures[tile.key])}</strong></a> ${tr.t(tile.label)}</li>`)}
</ul></section>`,
    });
  });
}
