import { resolveMasterKey } from '../crypto/master-key.ts';
import { createKeyService, SIGNING_ALGORITHMS, type KeyInfo, type SigningAlgorithm } from '../keys/service.ts';
import { createAuditLog } from '../features/audit/audit-log.ts';
import { AUDIT_MAC_PURPOSE } from '../features/audit/wiring.ts';
import { openStorage } from '../storage/open.ts';
import { CliError, loadCliConfig, parseSubcommand } from './command.ts';

const HELP = `Usage: gatehouse keys <list|rotate|retire> [options]

  keys list [--json]
      Every signing key: kid, algorithm, state (next / current / retired), when it signs from,
      when it leaves the JWKS.
  keys rotate [--now] [--algorithm ALG]
      Creates a new key (of the access-token algorithm, or ALG: the ID-token family). It is
      published at once and signs after twice the JWKS cache lifetime (so verifiers have it
      before they meet a token it signed); --now makes it sign at once.
  keys retire KID [--unpublish]
      Stops KID signing (a successor takes over at once). The key stays in the JWKS until the
      tokens it signed expire; --unpublish drops it at once (a compromised key: every token it
      signed stops verifying).

Running servers pick a change up at once with Redis, otherwise within a minute.
Options: --config FILE, --help
`;

export async function runKeys(argv: string[]): Promise<number> {
  const parsed = parseSubcommand(argv, HELP, { json: { type: 'boolean' }, now: { type: 'boolean' }, unpublish: { type: 'boolean' }, algorithm: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const { sub, values, positionals } = parsed;
  if (!['list', 'rotate', 'retire'].includes(sub)) throw new CliError(`unknown subcommand "${sub}"\n\n${HELP}`, 2);
  if (sub === 'retire' && !positionals[0]) throw new CliError('keys retire needs a KID (see: gatehouse keys list)', 2);
  const config = loadCliConfig(values.config);
  if (!config) return 2;
  const storage = await openStorage(config);
  try {
    const masterKey = resolveMasterKey(config);
    // Audited as through the admin API, with actor `cli` (docs/admin.md).
    const audit = createAuditLog(storage.database.db, { macKey: masterKey.derive(AUDIT_MAC_PURPOSE) });
    const keys = createKeyService({
      db: storage.database.db, ephemeral: storage.ephemeral, sealKey: masterKey.derive('signing-keys'), config, audit,
      onRotated: (key, context) => audit.record({ type: 'signing-key-rotated', outcome: 'success', actorId: context?.actorId ?? null, detail: { kid: key.kid, alg: key.alg, activates_at: key.activatesAt } }),
    });
    if (sub === 'list') {
      await keys.tick();
      print(keys.list(), values.json === true);
      return 0;
    }
    if (sub === 'rotate') {
      const algorithm = values.algorithm;
      if (algorithm !== undefined && !(SIGNING_ALGORITHMS as readonly string[]).includes(algorithm)) throw new CliError(`--algorithm must be one of ${SIGNING_ALGORITHMS.join(', ')}`, 2);
      const created = await keys.rotate({ immediate: values.now === true, ...(algorithm ? { algorithm: algorithm as SigningAlgorithm } : {}), actorId: 'cli' });
      process.stdout.write(`created ${created.kid} (${created.alg}), signs from ${new Date(created.activatesAt).toISOString()}\n`);
      return 0;
    }
    const kid = positionals[0]!;
    if (!keys.list().some((key) => key.kid === kid)) {
      await keys.tick();
      if (!keys.list().some((key) => key.kid === kid)) throw new CliError(`no signing key with kid ${kid} (see: gatehouse keys list)`, 1);
    }
    const retired = await keys.retire(kid, { unpublish: values.unpublish === true, actorId: 'cli' });
    process.stdout.write(`retired ${retired.kid}; ${retired.removeAfter !== null && retired.removeAfter <= Date.now() ? 'removed from the JWKS now' : `published until ${new Date(retired.removeAfter ?? Date.now()).toISOString()}`}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

function print(keys: KeyInfo[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  const iso = (value: number | null) => (value === null ? '-' : new Date(value).toISOString());
  process.stdout.write('KID                                          ALG    STATE    SIGNS FROM                RETIRED                   UNPUBLISHED AFTER\n');
  for (const key of keys) {
    process.stdout.write(`${key.kid.padEnd(44)} ${key.alg.padEnd(6)} ${key.state.padEnd(8)} ${iso(key.activatesAt).padEnd(25)} ${iso(key.retiredAt).padEnd(25)} ${iso(key.removeAfter)}\n`);
  }
}
