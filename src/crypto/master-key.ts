import { randomBytes, hkdfSync } from 'node:crypto';
import { chmodSync, mkdirSync, openSync, readFileSync, statSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/schema.ts';
import { ConfigError } from '../config/types.ts';
import { decodeKeyMaterial } from '../config/parsers.ts';

export interface MasterKey {
  /** Derives a purpose-bound 32-byte subkey (HKDF-SHA256); the root key never leaves this module. */
  derive(purpose: string): Buffer;
  /** Where the key came from, for `doctor` (never the key itself). */
  readonly source: 'environment' | 'file';
  readonly createdFile: boolean;
}

export const MASTER_KEY_FILE = 'master.key';

/**
 * The master key: from configuration when given; in development, read from (or created in)
 * `<dataDir>/master.key` with mode 0600. Production never generates one (the config loader
 * already refused to start without it).
 */
export function resolveMasterKey(config: Pick<Config, 'env' | 'masterKey' | 'dataDir'>): MasterKey {
  if (config.masterKey !== undefined) {
    return fromBytes(decodeKeyMaterial(config.masterKey)!, 'environment', false);
  }
  if (config.env === 'production') {
    throw new ConfigError('GATEHOUSE_MASTER_KEY', 'required in production — generate one with: openssl rand -base64 32');
  }
  const path = join(config.dataDir, MASTER_KEY_FILE);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    // 'wx': create only if absent, so two processes starting at once cannot overwrite each other.
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('base64url')}\n`);
    } finally {
      closeSync(fd);
    }
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) chmodSync(path, 0o600);
  const text = readFileSync(path, 'utf8').trim();
  const bytes = decodeKeyMaterial(text);
  if (bytes === undefined || bytes.length < 32) {
    throw new ConfigError('GATEHOUSE_MASTER_KEY', `the key file ${path} is damaged (expected ≥ 32 bytes base64url); restore it from backup`);
  }
  return fromBytes(bytes, 'file', created);
}

function fromBytes(bytes: Buffer, source: MasterKey['source'], createdFile: boolean): MasterKey {
  const root = Buffer.from(bytes);
  return {
    source,
    createdFile,
    derive: (purpose) => Buffer.from(hkdfSync('sha256', root, Buffer.alloc(0), `gatehouse:${purpose}`, 32)),
  };
}
