import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import type { MasterKey } from '../../crypto/master-key.ts';
import { createAuditKeyRing } from '../../keys/audit-keys.ts';
import type { Database } from '../../storage/sql/database.ts';
import { createAuditSealer, type AuditSealer } from './sealer.ts';

/** Master-key purposes of the audit chain (docs/audit.md). */
export const AUDIT_MAC_PURPOSE = 'audit-record-mac';
export const AUDIT_KEYS_PURPOSE = 'audit-keys';

export type AuditChainConfig = Pick<Config, 'auditChain' | 'auditSealIntervalMs' | 'auditSealDelayMs' | 'auditCheckpointEvery' | 'auditCheckpointIntervalSeconds' | 'auditCheckpointFile'>;

export function createConfiguredSealer(deps: { database: Database; masterKey: MasterKey; config: AuditChainConfig; now?: () => number; onError?: (error: unknown, what: string) => void; onRejected?: (id: string) => void }): AuditSealer {
  const { database, masterKey, config } = deps;
  return createAuditSealer({
    db: database.db,
    dialect: database.dialect,
    macKey: masterKey.derive(AUDIT_MAC_PURPOSE),
    keys: createAuditKeyRing({ db: database.db, sealKey: masterKey.derive(AUDIT_KEYS_PURPOSE), ...(deps.now ? { now: deps.now } : {}) }),
    options: {
      intervalMs: config.auditSealIntervalMs,
      settleMs: config.auditSealDelayMs,
      checkpointEvery: config.auditCheckpointEvery,
      checkpointIntervalMs: config.auditCheckpointIntervalSeconds * 1000,
      checkpointFile: config.auditCheckpointFile,
    },
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.onError ? { onError: deps.onError } : {}),
    ...(deps.onRejected ? { onRejected: deps.onRejected } : {}),
  });
}

/** Every instance runs a sealer; only one seals at a time (sealer.ts). Stopping seals what is left. */
export function startAuditChain(app: FastifyInstance, deps: { database: Database; masterKey: MasterKey; config: AuditChainConfig; now?: () => number }): void {
  if (!deps.config.auditChain) return;
  const sealer = createConfiguredSealer({
    ...deps,
    onError: (error, what) => app.log.warn({ what, reason: error instanceof Error ? error.message : 'error' }, 'background task failed'),
    onRejected: (id) => app.log.error({ auditEventId: id }, 'an audit record fails its MAC (inserted or edited in the database); it is not sealed — run gatehouse audit verify'),
  });
  sealer.start();
  app.addHook('onClose', () => sealer.stop());
}
