/**
 * SEC-PWD-10 timing, measured (never asserted in tests): wall time of a failed password sign-in
 * per class of account — unknown, argon2id at the current cost, argon2id at older parameters,
 * imported bcrypt 4 / PBKDF2-SHA256 1 000 / scrypt N=16, social-only (no password) — in-process
 * through `app.inject` (embedded SQLite in memory), samples interleaved in a shuffled order.
 * Prints the median per class, its difference from the unknown account and the two-sided
 * Mann–Whitney p (normal approximation) against it: SEC-PWD-10 asks for < 5 ms and p ≥ 0.01.
 *
 * `--before <git ref>` measures that revision's src/crypto/passwords/ too (copied to a temp
 * dir, the same app around it), so the two hashers are compared in one run.
 *
 *   node bench/enumeration-timing.ts [--samples 200] [--before <git ref>]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config/load.ts';
import { resolveMasterKey } from '../src/crypto/master-key.ts';
import { openStorage } from '../src/storage/open.ts';
import { createSqlUserStore } from '../src/features/accounts/store.ts';
import { newId } from '../src/crypto/random.ts';
import { createPasswordHasher, type PasswordHasher } from '../src/crypto/passwords/hasher.ts';
import { ROOT } from './lib/gatehouse.ts';

const { values } = parseArgs({ options: { samples: { type: 'string', default: '200' }, before: { type: 'string' } } });
const samples = Number(values.samples);
const CURRENT = { memoryKiB: 19456, iterations: 2, parallelism: 1 };
const PASSWORD = 'the right password 1';
const WRONG = 'a wrong password here';
const b64 = (bytes: Buffer): string => bytes.toString('base64').replace(/=+$/, '');
const ab64 = (bytes: Buffer): string => b64(bytes).replace(/\+/g, '.');
// The lockout allows 100 attempts per account in its window (the maximum threshold): spread the samples.
const PER_ACCOUNT = 50;

type Factory = (parameters: typeof CURRENT, options: { concurrency: number }) => PasswordHasher;

const CLASSES: Record<string, (() => Promise<string | null>) | undefined> = {
  unknown: undefined,
  'argon2id current': () => createPasswordHasher(CURRENT).hash(PASSWORD),
  'argon2id m=8 MiB t=1': () => createPasswordHasher({ memoryKiB: 8192, iterations: 1, parallelism: 1 }).hash(PASSWORD),
  'bcrypt 4': () => bcryptHash(PASSWORD, 4),
  'PBKDF2 1000': async () => {
    const salt = randomBytes(16);
    return `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(PASSWORD, salt, 1000, 32, 'sha256'))}`;
  },
  'scrypt N=16': async () => {
    const salt = randomBytes(16);
    return `$scrypt$ln=4,r=1,p=1$${b64(salt)}$${b64(scryptSync(PASSWORD, salt, 32, { N: 16, r: 1, p: 1 }))}`;
  },
  'social-only': async () => null,
};

/** Two-sided Mann–Whitney U test, normal approximation with tie correction. */
function mannWhitneyP(a: number[], b: number[]): number {
  const all = [...a.map((value) => ({ value, group: 0 })), ...b.map((value) => ({ value, group: 1 }))].sort((x, y) => x.value - y.value);
  const ranks = new Array<number>(all.length);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j + 1 < all.length && all[j + 1]!.value === all[i]!.value) j++;
    for (let k = i; k <= j; k++) ranks[k] = (i + j) / 2 + 1;
    const ties = j - i + 1;
    tieTerm += ties ** 3 - ties;
    i = j + 1;
  }
  const n1 = a.length;
  const n2 = b.length;
  const rankSum = all.reduce((sum, entry, index) => (entry.group === 0 ? sum + ranks[index]! : sum), 0);
  const u = rankSum - (n1 * (n1 + 1)) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = (Math.abs(u - (n1 * n2) / 2) - 0.5) / sigma;
  // erfc via Abramowitz–Stegun 7.1.26.
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return Math.min(1, erfc);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function measure(label: string, factory: Factory): Promise<void> {
  const config = loadConfig({
    env: {
      GATEHOUSE_DATABASE_URL: 'sqlite::memory:',
      GATEHOUSE_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
      GATEHOUSE_LOG_LEVEL: 'warn',
      GATEHOUSE_SIGN_IN_LIMIT_PER_IP: '100000',
      GATEHOUSE_LOCKOUT_THRESHOLD: '100',
    },
  });
  const storage = await openStorage(config);
  const logStream = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const app = await createApp({ config, database: storage.database, ephemeral: storage.ephemeral, masterKey: resolveMasterKey(config), logStream, passwordHasher: factory(CURRENT, { concurrency: 1 }) });
  await app.ready();
  try {
    const users = createSqlUserStore(storage.database.db);
    const accounts: Record<string, string[]> = {};
    for (const [name, make] of Object.entries(CLASSES)) {
      if (!make) continue;
      accounts[name] = [];
      for (let i = 0; i < Math.ceil(samples / PER_ACCOUNT); i++) {
        const at = Date.now();
        const email = `${name.replace(/[^a-z0-9]+/gi, '-')}-${i}@example.com`.toLowerCase();
        await users.create({ id: newId(at), email, name: null, emailVerifiedAt: at, passwordHash: await make(), roles: [], createdAt: at, updatedAt: at, disabledAt: null });
        accounts[name].push(email);
      }
    }
    const signIn = async (email: string): Promise<number> => {
      const started = performance.now();
      const response = await app.inject({ method: 'POST', url: '/api/auth/sign-in', headers: { 'content-type': 'application/json', origin: 'http://localhost:3000' }, payload: JSON.stringify({ email, password: WRONG }) });
      const elapsed = performance.now() - started;
      if (response.statusCode !== 401) throw new Error(`expected 401, got ${response.statusCode}: ${response.body.slice(0, 200)}`);
      return elapsed;
    };
    const names = Object.keys(CLASSES);
    const times: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
    for (let i = 0; i < 10; i++) await signIn(`warm-up-${i}@example.com`);
    for (let round = 0; round < samples; round++) {
      const order = [...names].sort(() => Math.random() - 0.5);
      for (const name of order) {
        const pool = accounts[name];
        const email = pool ? pool[round % pool.length]! : `nobody-${round}-${randomBytes(4).toString('hex')}@example.com`;
        times[name]!.push(await signIn(email));
      }
    }
    const unknown = times.unknown!;
    console.log(`\n${label}: failed sign-in, ${samples} interleaved samples per class, in-process (app.inject)`);
    console.log('| class | median | vs unknown | Mann–Whitney p |');
    console.log('|---|--:|--:|--:|');
    for (const name of names) {
      const list = times[name]!;
      const difference = median(list) - median(unknown);
      console.log(`| ${name} | ${median(list).toFixed(1)} ms | ${name === 'unknown' ? '—' : `${difference >= 0 ? '+' : ''}${difference.toFixed(1)} ms`} | ${name === 'unknown' ? '—' : mannWhitneyP(list, unknown).toFixed(3)} |`);
    }
  } finally {
    await app.close();
    await storage.close();
  }
}

/** The hasher of another revision: its src/crypto/passwords/ copied out, node_modules linked. */
async function hasherAt(ref: string): Promise<{ factory: Factory; cleanup: () => void }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-hasher-'));
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const listing = execFileSync('git', ['ls-tree', '--name-only', `${ref}:src/crypto/passwords/`], { cwd: ROOT, encoding: 'utf8' });
  for (const file of listing.split('\n').filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))) {
    writeFileSync(path.join(dir, file), execFileSync('git', ['show', `${ref}:src/crypto/passwords/${file}`], { cwd: ROOT }));
  }
  const module = (await import(pathToFileURL(path.join(dir, 'hasher.ts')).href)) as { createPasswordHasher: (p: typeof CURRENT, o: { concurrency: number }) => Omit<PasswordHasher, 'queueDepth' | 'stats' | 'checkCapacity'> };
  const factory: Factory = (parameters, options) => ({ queueDepth: () => 0, checkCapacity: () => {}, stats: () => ({ fullCostComputations: 0, cheaperComputations: 0, active: 0, waiting: 0, rejected: { queue_full: 0, wait_timeout: 0 } }), ...module.createPasswordHasher(parameters, options) });
  return { factory, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

if (values.before) {
  const before = await hasherAt(values.before);
  try {
    await measure(`before (${values.before})`, before.factory);
  } finally {
    before.cleanup();
  }
}
await measure('now (working tree)', (parameters, options) => createPasswordHasher(parameters, options));
