import { hash as argon2Hash, verify as argon2Verify, type Algorithm } from '@node-rs/argon2';
import { importCandidates, normalizePassword } from './normalize.ts';
import { parseImportedHash, verifyImported } from './imported.ts';
import { ARGON2_OUTPUT_BYTES, ARGON2_VERSION, dummyArgon2Hash } from './dummy.ts';
import { createConcurrencyLimit, defaultHashConcurrency, defaultHashQueueMax, type ConcurrencyLimit, type OverloadReason } from './limit.ts';

export { normalizePassword } from './normalize.ts';

/** argon2id cost, from config (`argon2MemoryKiB`, `argon2Iterations`, `argon2Parallelism`). */
export interface Argon2Parameters {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** `ok`: the password matches. `needsRehash`: store `hash(password)` now (weaker or foreign hash). */
export interface VerifyResult {
  ok: boolean;
  needsRehash: boolean;
}

export interface PasswordHasher {
  /** argon2id PHC string of the NFKC-normalised password, with a fresh random salt. */
  hash(password: string): Promise<string>;
  /** Verifies against any recognised format; never throws, unknown formats are `{ ok: false }`. */
  verify(storedHash: string, password: string): Promise<VerifyResult>;
  /** The work of a failed `verify` against a real argon2id hash, for unknown accounts (SEC-PWD-10). */
  verifyDummy(password: string): Promise<false>;
  /** Calls waiting for a hashing slot now (the queue-depth gauge). */
  queueDepth(): number;
  /**
   * Throws the `PASSWORD_HASH_OVERLOADED` refusal a call would get now (queue full), else
   * nothing: lets a caller shed load before costlier work — and before reserving a lockout
   * attempt that a 503 would otherwise use up.
   */
  checkCapacity(): void;
  /** Work done and calls refused since creation (metrics, and tests that count hash work). */
  stats(): PasswordHashStats;
}

export interface PasswordHashStats {
  /** argon2 computations at (or above) the current cost: `hash`, verifications, dummy verifications. */
  fullCostComputations: number;
  /** Verifications against a hash cheaper than the current policy (imported, older argon2 parameters). */
  cheaperComputations: number;
  /** Calls running and waiting now. */
  active: number;
  waiting: number;
  /** Calls refused with `PASSWORD_HASH_OVERLOADED`, by reason. */
  rejected: Readonly<Record<OverloadReason, number>>;
}

export interface PasswordHasherOptions {
  /** Concurrent calls (config `passwordHashConcurrency`; 0 or absent: `defaultHashConcurrency()`). */
  concurrency?: number;
  /** Most calls waiting for a slot (config `passwordHashQueueMax`; 0: 32 × concurrency; absent: no bound). */
  queueMax?: number;
  /** Longest wait for a slot in ms (config `passwordHashQueueWaitMs`; absent: no bound). */
  queueWaitMs?: number;
  /** A ready-made limit (tests hold its slots); the three options above are then ignored. */
  limit?: ConcurrencyLimit;
}

// argon2 values of `Algorithm` (a const enum, which isolatedModules cannot read from a .d.ts).
const ARGON2ID = 2 as Algorithm;
// Upper bounds for stored argon2 hashes (or the configured value, if higher): a tampered or
// imported string must not make a sign-in allocate gigabytes or run for minutes.
const MAX_MEMORY_KIB = 256 * 1024;
const MAX_ITERATIONS = 10;
const MAX_PARALLELISM = 16;
const FAILED: VerifyResult = Object.freeze({ ok: false, needsRehash: false });

interface Argon2Stored {
  algorithm: 'argon2id' | 'argon2i';
  version: number;
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

// `$argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>`: salt 8–64 bytes, output 16–64 bytes.
const ARGON2 = /^\$(argon2id|argon2i)\$v=(16|19)\$m=([1-9]\d{0,9}),t=([1-9]\d{0,9}),p=([1-9]\d{0,2})\$[A-Za-z0-9+/]{11,86}\$[A-Za-z0-9+/]{22,86}$/;

function parseArgon2(stored: string, bounds: Argon2Parameters): Argon2Stored | undefined {
  const match = ARGON2.exec(stored);
  if (!match) return undefined;
  const parsed: Argon2Stored = {
    algorithm: match[1] === 'argon2id' ? 'argon2id' : 'argon2i',
    version: Number(match[2]),
    memoryKiB: Number(match[3]),
    iterations: Number(match[4]),
    parallelism: Number(match[5]),
  };
  const withinBounds =
    parsed.memoryKiB >= 8 * parsed.parallelism &&
    parsed.memoryKiB <= Math.max(bounds.memoryKiB, MAX_MEMORY_KIB) &&
    parsed.iterations <= Math.max(bounds.iterations, MAX_ITERATIONS) &&
    parsed.parallelism <= Math.max(bounds.parallelism, MAX_PARALLELISM);
  return withinBounds ? parsed : undefined;
}

const DEFAULT_BOUNDS: Argon2Parameters = { memoryKiB: MAX_MEMORY_KIB, iterations: MAX_ITERATIONS, parallelism: MAX_PARALLELISM };

/**
 * Whether `verify` can check this stored hash: argon2id/argon2i, bcrypt, scrypt or PBKDF2-SHA256
 * in a supported form and within sane cost bounds. The users import command rejects the rest.
 */
export function isRecognisedHash(hash: string): boolean {
  return parseArgon2(hash, DEFAULT_BOUNDS) !== undefined || parseImportedHash(hash) !== undefined;
}

async function argon2Matches(stored: string, candidate: string): Promise<boolean> {
  try {
    return await argon2Verify(stored, candidate);
  } catch {
    return false;
  }
}

/**
 * argon2 hashes: the NFKC form first (every hash Gatehouse makes is of the NFKC form), then the raw
 * form when it differs, for argon2 hashes imported from systems that did not normalise. The raw
 * form can never match a hash of an NFKC string, so the fallback opens nothing; `verifyDummy`
 * runs the same one-or-two computations so the count does not reveal the account (SEC-PWD-10).
 * `computed` is called once per argon2 computation.
 */
async function verifyArgon2(stored: string, password: string, computed: () => void): Promise<'normalized' | 'raw' | undefined> {
  const normalized = normalizePassword(password);
  computed();
  if (await argon2Matches(stored, normalized)) return 'normalized';
  if (normalized === password) return undefined;
  computed();
  return (await argon2Matches(stored, password)) ? 'raw' : undefined;
}

function isWeaker(stored: Argon2Stored, current: Argon2Parameters): boolean {
  return (
    stored.algorithm !== 'argon2id' ||
    stored.version !== ARGON2_VERSION ||
    stored.memoryKiB < current.memoryKiB ||
    stored.iterations < current.iterations ||
    stored.parallelism < current.parallelism
  );
}

function createSlots(options: PasswordHasherOptions): ConcurrencyLimit {
  if (options.limit) return options.limit;
  const concurrency = options.concurrency || defaultHashConcurrency();
  return createConcurrencyLimit(concurrency, {
    ...(options.queueMax !== undefined ? { maxQueue: options.queueMax || defaultHashQueueMax(concurrency) } : {}),
    ...(options.queueWaitMs !== undefined ? { maxWaitMs: options.queueWaitMs } : {}),
  });
}

/**
 * The password hasher: argon2id via `@node-rs/argon2`, whose async calls run on the libuv thread
 * pool, off the event loop — at most `concurrency` at once (default: CPUs − 1, at least 1), so
 * that hashing never takes every core from the event loop; one call (`hash`, `verify`,
 * `verifyDummy`, each one or two computations, plus the padding below) holds one slot. Calls past
 * the queue bounds are refused with `PASSWORD_HASH_OVERLOADED` (limit.ts). Length limits are the
 * caller's job (policy at set time, the sign-in service before verifying, SEC-PWD-02); this
 * module never truncates.
 */
export function createPasswordHasher(parameters: Argon2Parameters, options: PasswordHasherOptions = {}): PasswordHasher {
  const current: Argon2Parameters = { ...parameters };
  const argon2Options = {
    algorithm: ARGON2ID,
    memoryCost: current.memoryKiB,
    timeCost: current.iterations,
    parallelism: current.parallelism,
    outputLen: ARGON2_OUTPUT_BYTES,
  };
  const dummy = dummyArgon2Hash(current);
  const slots = createSlots(options);
  const work = { fullCostComputations: 0, cheaperComputations: 0 };
  const fullCost = (): void => void work.fullCostComputations++;
  const cheaper = (): void => void work.cheaperComputations++;

  /** The stored hash's own check; `costedInFull`: it already cost a current-policy argon2id. */
  async function verifyStored(storedHash: string, password: string): Promise<{ result: VerifyResult; costedInFull: boolean }> {
    const argon2 = parseArgon2(storedHash, current);
    if (argon2) {
      const weaker = isWeaker(argon2, current);
      const matched = await verifyArgon2(storedHash, password, weaker ? cheaper : fullCost);
      const result = matched === undefined ? FAILED : { ok: true, needsRehash: matched === 'raw' || weaker };
      return { result, costedInFull: !weaker };
    }
    const imported = parseImportedHash(storedHash);
    if (!imported) return { result: FAILED, costedInFull: false };
    // Imported from systems that did not normalise: as typed first, then NFKC (SEC-PWD-05).
    for (const candidate of importCandidates(password)) {
      cheaper();
      if (await verifyImported(imported, candidate)) return { result: { ok: true, needsRehash: true }, costedInFull: false };
    }
    return { result: FAILED, costedInFull: false };
  }

  /**
   * SEC-PWD-10: every verification costs at least what an unknown account's dummy costs. A stored
   * hash cheaper than the current policy (bcrypt 4, PBKDF2 1 000, older argon2 parameters) or
   * one not recognised at all would otherwise answer a wrong password in a fraction of the time
   * and tell an attacker which accounts exist until their first sign-in. So the dummy runs after
   * it, in the same slot — on success too: the rehash that follows a success is skipped when the
   * account is then refused (disabled), and the extra hash is paid once per imported account,
   * since the rehash makes it current.
   */
  async function verify(storedHash: string, password: string): Promise<VerifyResult> {
    const { result, costedInFull } = await verifyStored(storedHash, password);
    if (!costedInFull) await verifyArgon2(dummy, password, fullCost);
    return result;
  }

  return {
    hash: (password) =>
      slots.run(() => {
        fullCost();
        return argon2Hash(normalizePassword(password), argon2Options);
      }),
    verify: (storedHash, password) => slots.run(() => verify(storedHash, password)),
    verifyDummy: (password) =>
      slots.run(async () => {
        await verifyArgon2(dummy, password, fullCost);
        return false as const;
      }),
    queueDepth: () => slots.waiting,
    checkCapacity: () => slots.checkCapacity(),
    stats: () => ({ ...work, active: slots.active, waiting: slots.waiting, rejected: slots.rejected }),
  };
}
