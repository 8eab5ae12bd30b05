import { ValueError } from './types.ts';
import * as p from './parsers.ts';
import { key } from './key.ts';

/** The keys of webhooks and the tamper-evident audit chain (docs/webhooks.md, docs/audit.md). Spread into `configSchema` (schema.ts) at their place in docs/configuration.md. */
export const eventKeys = {
  webhooks: key({
    env: 'GATEHOUSE_WEBHOOKS',
    doc: 'Declarative webhook endpoints (JSON array; normally in the config file): id, url, events, enabled, and secret_env naming the environment variable that holds the whsec_ secret — see docs/webhooks.md.',
    default: Object.freeze([]) as readonly Readonly<Record<string, unknown>>[],
    defaultText: '[]',
    parse: (raw) => {
      const value = p.objectArray('webhook')(raw);
      value.forEach((item, index) => {
        if (Object.hasOwn(item, 'secret')) throw new ValueError(`[${index}].secret: a secret is never written in the config; name the environment variable that holds it in secret_env`);
        if (typeof item.secret_env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,99}$/.test(item.secret_env) || item.secret_env.startsWith('GATEHOUSE_')) {
          throw new ValueError(`[${index}].secret_env: required — the name of the environment variable holding the whsec_ secret (e.g. BILLING_WEBHOOK_SECRET; not a GATEHOUSE_ name)`);
        }
      });
      return value;
    },
    resolve: (entries, env) => Object.freeze(entries.map((entry, index) => {
      const name = entry.secret_env as string;
      const secret = env[name];
      if (secret === undefined || secret === '') throw new ValueError(`[${index}].secret_env: the environment variable ${name} is not set`);
      return Object.freeze({ ...entry, secret });
    })),
    redact: (entries) => entries.map((entry) => ({ ...entry, ...(entry.secret === undefined ? {} : { secret: '[redacted]' }) })),
  }),
  webhookAllowedNetworks: key({
    env: 'GATEHOUSE_WEBHOOK_ALLOWED_NETWORKS',
    doc: 'IPs/CIDRs that webhook and back-channel logout requests may reach although they are loopback, private, link-local or metadata addresses (comma-separated); empty = none (SSRF protection, checked at every connect).',
    default: Object.freeze([]) as readonly string[],
    parse: p.list(p.ipOrCidr),
  }),
  webhookTimeoutMs: key({
    env: 'GATEHOUSE_WEBHOOK_TIMEOUT_MS',
    doc: 'Longest one webhook or back-channel logout request may take (connect, send, response), in milliseconds.',
    default: 10000,
    parse: p.integer(100, 60000),
  }),
  webhookGiveUpAfterSeconds: key({
    env: 'GATEHOUSE_WEBHOOK_GIVE_UP_AFTER_SECONDS',
    doc: 'A delivery still failing this long after its event is moved to the dead-letter state (replay it with the admin API or `gatehouse webhooks replay`). Retries back off exponentially (5 s doubling, at most 1 h, with jitter).',
    default: 259200,
    parse: p.integer(60, 30 * 86400),
  }),
  webhookRetentionDays: key({
    env: 'GATEHOUSE_WEBHOOK_RETENTION_DAYS',
    doc: 'Delivered and dead-lettered deliveries (and their attempts) are deleted this many days after they completed; 0 = kept forever. A dead delivery can be replayed only until then.',
    default: 30,
    parse: p.integer(0, 3650),
  }),
  webhookPollIntervalMs: key({
    env: 'GATEHOUSE_WEBHOOK_POLL_INTERVAL_MS',
    doc: 'How often this instance looks for due deliveries (new events of this instance are sent at once); 0 = this instance sends none.',
    default: 1000,
    parse: p.integer(0, 600000),
  }),
  auditChain: key({
    env: 'GATEHOUSE_AUDIT_CHAIN',
    doc: 'Seal the audit log into a hash chain with signed checkpoints (docs/audit.md); off = records keep their MAC but nothing is sealed.',
    default: true,
    parse: p.boolean,
  }),
  auditSealIntervalMs: key({
    env: 'GATEHOUSE_AUDIT_SEAL_INTERVAL_MS',
    doc: 'How often the audit sealer runs (one instance at a time seals; the others skip the round).',
    default: 1000,
    parse: p.integer(50, 600000),
  }),
  auditSealDelayMs: key({
    env: 'GATEHOUSE_AUDIT_SEAL_DELAY_MS',
    doc: 'Audit records are sealed once this old, so that writes still in flight on other instances join the chain in time order.',
    default: 2000,
    parse: p.integer(0, 600000),
  }),
  auditCheckpointEvery: key({
    env: 'GATEHOUSE_AUDIT_CHECKPOINT_EVERY',
    doc: 'Sign an audit checkpoint after this many newly sealed records …',
    default: 1000,
    parse: p.integer(1, 10_000_000),
  }),
  auditCheckpointIntervalSeconds: key({
    env: 'GATEHOUSE_AUDIT_CHECKPOINT_INTERVAL_SECONDS',
    doc: '… or after this many seconds with any newly sealed record.',
    default: 60,
    parse: p.integer(1, 86400),
  }),
  auditCheckpointFile: key({
    env: 'GATEHOUSE_AUDIT_CHECKPOINT_FILE',
    doc: 'Append each signed audit checkpoint to this file as a JSON line (keep it outside the database host; `gatehouse audit verify --from-checkpoint FILE`).',
    default: undefined as string | undefined,
    parse: p.nonEmptyString,
  }),
} as const;
