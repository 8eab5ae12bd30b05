import type { FastifyInstance } from 'fastify';
import type { Database } from '../../storage/sql/database.ts';
import type { EphemeralStore } from '../../storage/ephemeral/types.ts';

const CHECK_TIMEOUT_MS = 1500;

/**
 * `/healthz`: the process is alive (no I/O). `/readyz`: the database and the ephemeral store
 * answer; 503 naming the failing part otherwise, so a load balancer stops routing here
 * (SEC-REL-07: the health endpoint reports degradation).
 */
export function registerHealthRoutes(app: FastifyInstance, deps: { database: Database; ephemeral: EphemeralStore }): void {
  // The database is opened before the app's logger exists: lost PostgreSQL connections are
  // logged from here on (reason only), next to the readiness check that reports them.
  deps.database.logFaultsTo(app.log);
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const ephemeralName = deps.ephemeral.kind === 'redis' ? 'redis' : 'ephemeral';
    const [database, ephemeral] = await Promise.all([
      check(() => deps.database.ping(CHECK_TIMEOUT_MS)),
      check(() => deps.ephemeral.ping()),
    ]);
    const checks = { database, [ephemeralName]: ephemeral };
    const failing = Object.entries(checks).filter(([, result]) => result !== 'ok');
    if (failing.length === 0) return { status: 'ready', checks };
    reply.code(503).header('retry-after', '5');
    return {
      error: 'not_ready',
      error_description: `not ready: ${failing.map(([name, result]) => `${name} ${result}`).join('; ')}`,
      checks,
    };
  });
}

async function check(run: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS + 200);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return `unavailable (${error instanceof Error ? error.message : 'error'})`;
  } finally {
    clearTimeout(timer);
  }
}
