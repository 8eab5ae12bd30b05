import { createRequire } from 'node:module';
import type { MatchExtended, ZxcvbnFactory } from '@zxcvbn-ts/core';
import { normalizePassword } from './normalize.ts';

/** Length bounds in Unicode code points after NFKC (config `passwordMinLength`/`passwordMaxLength`). */
export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
}

export type PolicyResult =
  | { ok: true }
  | { ok: false; reason: 'too_short' | 'too_long' | 'common' | 'context'; message: string };

/**
 * The strength estimate reads only the first 100 code points. zxcvbn runs synchronously on the
 * event loop and its cost grows with length (~10–15 ms for 100 random characters, ~150 ms for
 * 1 000 with the options below), so an attacker-chosen long password must not reach it in full;
 * and a password whose first 100 characters are not guessable is not guessable. The length
 * limits still count the whole password.
 */
const STRENGTH_WINDOW = 100;
/** Refuse below zxcvbn score 3: fewer than 10^8 estimated guesses. */
const MIN_SCORE = 3;
/**
 * A run of one repeated character is not refused on its own once it is this long: it still makes
 * an attacker guess the character and the length, and SEC-PWD-03's multi-byte case (40 × `é`)
 * must be settable. Shorter runs ('aaaaaaaa', zxcvbn's lists leave repeats to its matcher) are.
 */
const LONG_RUN = 16;
/** Context that is never a good password here (SEC-PWD-06: product / organisation names). */
const PRODUCT_WORDS = ['gatehouse'];
/** Shorter context fragments ('al', 'jo') are too common inside unrelated passwords to remove. */
const MIN_CONTEXT_TOKEN = 3;

const MESSAGES = {
  leaked: 'This password is too common: it appears in lists of leaked passwords. Choose a longer, less predictable one.',
  pattern:
    'This password is too easy to guess: it is built from common passwords, words or patterns (such as a keyboard row, a sequence, a date or a repeated character). Choose a longer, less predictable one; a few unrelated words work well.',
  context:
    'This password is too easy to guess: it is based on your email address, your name, your current password or the name of this service. Choose one that has nothing to do with your account.',
};

// zxcvbn and its word lists (~50 000 leaked passwords, diceware words, keyboard layouts) load on
// the first check, never at import. The English package (names, Wikipedia words) is left out: it
// refused nothing more among common patterns tried, for 4× the heap (~28 MB) and 2.5× the CPU.
const require = createRequire(import.meta.url);

interface Estimator {
  zxcvbn: ZxcvbnFactory;
  /** zxcvbn's list of leaked passwords, lower-case, for an exact-match message. */
  leaked: ReadonlySet<string>;
}
let estimator: Estimator | undefined;

function strengthEstimator(): Estimator {
  if (estimator) return estimator;
  const core = require('@zxcvbn-ts/core') as typeof import('@zxcvbn-ts/core');
  const common = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  const zxcvbn = new core.ZxcvbnFactory({
    dictionary: common.dictionary,
    graphs: common.adjacencyGraphs,
    // Levenshtein matching scans every dictionary word per check (~0.3–1 s): off. l33t
    // substitutions are capped for the same reason (100 → 3 cuts the worst case ~15×).
    useLevenshteinDistance: false,
    l33tMaxSubstitutions: 3,
  });
  estimator = { zxcvbn, leaked: new Set(common.dictionary['passwords-common']) };
  return estimator;
}

function codePointLength(text: string): number {
  return [...text].length;
}

/** What is known about the account a password is for: every path that sets one passes all it knows (SEC-PWD-06). */
export interface PasswordContext {
  email?: string;
  name?: string;
  /** The password being replaced, when it is known in clear (change password). */
  previous?: string;
}

/** Lower-cased words of the user's email and name, the product name and the previous password, longest first. */
function contextTokens(context: PasswordContext): string[] {
  const tokens = new Set<string>(PRODUCT_WORDS);
  const add = (value: string): void => {
    const token = normalizePassword(value).toLowerCase().trim();
    if (codePointLength(token) >= MIN_CONTEXT_TOKEN) tokens.add(token);
  };
  if (context.email) {
    const email = context.email;
    const at = email.lastIndexOf('@');
    const local = at === -1 ? email : email.slice(0, at);
    const domainLabels = at === -1 ? [] : email.slice(at + 1).split('.').slice(0, -1);
    for (const part of [email, local, ...local.split(/[._+-]+/), ...domainLabels]) add(part);
  }
  if (context.name) {
    const words = context.name.split(/[\s._-]+/u);
    for (const part of [context.name, words.join(''), ...words]) add(part);
  }
  if (context.previous) add(context.previous);
  return [...tokens].sort((a, b) => codePointLength(b) - codePointLength(a));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

type Weakness = 'pattern' | 'context' | undefined;

/** Why zxcvbn finds this guessable, or `undefined` when the guesses are plain brute force. */
function weaknessOf(sequence: MatchExtended[]): Weakness {
  let weakness: Weakness;
  for (const match of sequence) {
    const pattern: unknown = match.pattern;
    const dictionaryName: unknown = match['dictionaryName'];
    if (pattern === 'dictionary' && dictionaryName === 'userInputs') return 'context';
    if (pattern === 'dictionary') weakness ??= 'pattern';
    else if (pattern === 'repeat') {
      const base: unknown = match['baseToken'];
      const singleCharacter = typeof base === 'string' && codePointLength(base) === 1;
      if (!singleCharacter || codePointLength(match.token) < LONG_RUN) weakness ??= 'pattern';
    } else if (pattern !== 'bruteforce' && pattern !== 'separator') weakness ??= 'pattern';
  }
  return weakness;
}

function refuse(reason: 'common' | 'context', message: keyof typeof MESSAGES): PolicyResult {
  return { ok: false, reason, message: MESSAGES[message] };
}

/**
 * Checks a new password (registration, change, reset, import): length in code points after NFKC
 * (SEC-PWD-01/02), then leaked, common and context-specific passwords (SEC-PWD-06). No composition
 * rules: any characters, spaces significant (SEC-PWD-04). Messages never contain the password.
 *
 * "Common" means: zxcvbn estimates fewer than 10^8 guesses (score < 3) AND the estimate comes from
 * something an attacker's word list or rules would try — a leaked password, a dictionary word or
 * name, a keyboard walk, a sequence, a date, a repeated block, or a short run of one character.
 * A short but random password (pure brute force) is not refused for strength; the minimum length
 * is the rule for those. "Context": the password is built on the user's email, name or 'gatehouse'
 * — what remains after removing those is itself guessable.
 */
export function checkPassword(
  password: string,
  policy: PasswordPolicy,
  context: PasswordContext = {},
): PolicyResult {
  const codePoints = [...normalizePassword(password)];
  if (codePoints.length < policy.minLength) {
    return { ok: false, reason: 'too_short', message: `This password is too short: use at least ${policy.minLength} characters.` };
  }
  if (codePoints.length > policy.maxLength) {
    return { ok: false, reason: 'too_long', message: `This password is too long: use at most ${policy.maxLength} characters.` };
  }

  const head = codePoints.slice(0, STRENGTH_WINDOW).join('');
  const { zxcvbn, leaked } = strengthEstimator();
  const tokens = contextTokens(context);

  const withoutContext = head.replace(new RegExp(tokens.map(escapeRegExp).join('|'), 'giu'), '');
  if (withoutContext !== head && (withoutContext.trim() === '' || zxcvbn.check(withoutContext).score < MIN_SCORE)) {
    return refuse('context', 'context');
  }

  const result = zxcvbn.check(head, tokens);
  if (result.score >= MIN_SCORE) return { ok: true };
  const weakness = weaknessOf(result.sequence);
  if (weakness === undefined) return { ok: true };
  if (weakness === 'context') return refuse('context', 'context');
  // The message says "leaked" only when that is literally true of the whole password.
  return refuse('common', leaked.has(head.toLowerCase()) ? 'leaked' : 'pattern');
}
