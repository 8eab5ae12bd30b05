import { readFileSync } from 'node:fs';
import { CONFIG_FILE_ENV, configSchema, type Config } from './schema.ts';
import { ConfigError, ValueError, type KeySpec } from './types.ts';

export interface LoadConfigOptions {
  /** Environment variables (normally `process.env`). */
  env: Readonly<Record<string, string | undefined>>;
  /** Path from `--config`; falls back to `GATEHOUSE_CONFIG`. */
  configFile?: string | undefined;
}

const ENV_NAMES = new Set<string>([CONFIG_FILE_ENV, ...Object.values(configSchema).map((spec) => spec.env)]);

/**
 * Several start-up problems at once, so that an operator fixes them in one go instead of one per
 * attempt. Still a `ConfigError` (callers that catch one keep working); `problems` holds each,
 * and `message` has one line per problem.
 */
export class ConfigProblems extends ConfigError {
  readonly problems: readonly ConfigError[];
  constructor(problems: readonly ConfigError[]) {
    super(problems.map((problem) => problem.key).join(', '), `${problems.length} problems`);
    this.name = 'ConfigProblems';
    this.problems = problems;
    this.message = problems.map((problem) => problem.message).join('\n');
  }
}

/** Throws what was collected: nothing, the one ConfigError, or all of them as ConfigProblems. */
function throwCollected(problems: readonly ConfigError[]): void {
  if (problems.length === 1) throw problems[0]!;
  if (problems.length > 1) throw new ConfigProblems(problems);
}

/**
 * Loads configuration from a JSON file (optional) and `GATEHOUSE_*` environment variables
 * (which win), validates every key and returns a frozen object.
 *
 * Fails closed with a `ConfigError` naming the key and the fix: unknown keys (in the file or
 * as `GATEHOUSE_*` variables), invalid values, and in production a missing master key, missing
 * SMTP or a plain-http public URL other than localhost. Every problem is collected first: more
 * than one is thrown as `ConfigProblems`, one line each. (An unreadable config file stops at once.)
 */
export function loadConfig(options: LoadConfigOptions): Config {
  const configFile = options.configFile ?? nonEmpty(options.env[CONFIG_FILE_ENV]);
  const fileValues = configFile === undefined ? {} : readConfigFile(configFile);
  const problems: ConfigError[] = [];

  for (const name of Object.keys(options.env)) {
    if (name.startsWith('GATEHOUSE_') && !ENV_NAMES.has(name)) {
      problems.push(new ConfigError(name, `unknown setting — see docs/configuration.md for the valid GATEHOUSE_* variables${suggest(name)}`));
    }
  }
  for (const name of Object.keys(fileValues)) {
    if (!Object.hasOwn(configSchema, name)) {
      problems.push(new ConfigError(`${name} (in ${configFile})`, `unknown key — see docs/configuration.md for the valid keys${suggestKey(name)}`));
    }
  }

  const resolved: Record<string, unknown> = {};
  /** Keys whose value was refused: the production checks do not report them a second time. */
  const refused = new Set<string>();
  for (const [name, spec] of Object.entries(configSchema) as [string, KeySpec<unknown>][]) {
    const fromEnv = nonEmpty(options.env[spec.env]);
    const label = fromEnv !== undefined ? spec.env : `${name} (in ${configFile})`;
    let value: unknown;
    let resolving = false;
    try {
      if (fromEnv !== undefined) value = spec.parse(fromEnv);
      else if (Object.hasOwn(fileValues, name) && fileValues[name] !== null) value = spec.parse(fileValues[name]);
      else value = spec.defaultValue(resolved);
      resolving = true;
      if (spec.resolve) value = spec.resolve(value, options.env);
    } catch (error) {
      if (error instanceof ConfigError) {
        problems.push(error);
        refused.add(name);
        continue;
      }
      if (!(error instanceof ValueError)) throw error;
      // A value that parsed but whose second step failed (a secret named by `*_env`) is named by key.
      problems.push(new ConfigError(resolving ? (fromEnv !== undefined ? spec.env : name) : label, error.message));
      refused.add(name);
      // Carry on with the default, so that keys derived from this one are still checked.
      try {
        value = spec.defaultValue(resolved);
      } catch {
        value = undefined;
      }
    }
    resolved[name] = value;
  }
  resolved.configFile = configFile;

  const config = Object.freeze(resolved) as Config;
  problems.push(...productionProblems(config, refused));
  throwCollected(problems);
  return config;
}

function productionProblems(config: Config, refused: ReadonlySet<string>): ConfigError[] {
  if (config.env !== 'production') return [];
  const problems: ConfigError[] = [];
  if (config.masterKey === undefined && !refused.has('masterKey')) {
    problems.push(new ConfigError(
      'GATEHOUSE_MASTER_KEY',
      'required in production (≥ 32 bytes, base64 or hex) — generate one with: openssl rand -base64 32',
    ));
  }
  if (config.smtpUrl === undefined && !refused.has('smtpUrl')) {
    problems.push(new ConfigError('GATEHOUSE_SMTP_URL', 'required in production (verification and reset mails); e.g. smtp://user:pass@mail.example.com:587'));
  }
  if (!refused.has('publicUrl')) {
    const url = new URL(config.publicUrl);
    if (url.protocol === 'http:' && !isLocalHostname(url.hostname)) {
      problems.push(new ConfigError('GATEHOUSE_PUBLIC_URL', `must use https:// in production (got http://${url.host}); put TLS in front and set the https URL`));
    }
  }
  return problems;
}

function isLocalHostname(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '[::1]' || hostname.endsWith('.localhost');
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(CONFIG_FILE_ENV, `cannot read config file ${path} (${reason})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(CONFIG_FILE_ENV, `config file ${path} is not valid JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(CONFIG_FILE_ENV, `config file ${path} must contain a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function suggest(name: string): string {
  const close = [...ENV_NAMES].find((candidate) => distance(candidate, name) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

function suggestKey(name: string): string {
  const close = Object.keys(configSchema).find((candidate) => distance(candidate.toLowerCase(), name.toLowerCase()) <= 2);
  return close ? ` (did you mean ${close}?)` : '';
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The effective configuration with every secret replaced, for `doctor` and logs. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(configSchema) as [string, KeySpec<unknown>][]) {
    const value = (config as unknown as Record<string, unknown>)[name];
    out[name] = spec.secret && value !== undefined ? redactSecretValue(name, value) : spec.redact ? spec.redact(value) : value;
  }
  out.configFile = config.configFile;
  return out;
}

function redactSecretValue(name: string, value: unknown): string {
  if (typeof value === 'string' && (name === 'databaseUrl' || name === 'redisUrl')) {
    if (value.startsWith('sqlite:')) return value;
    try {
      const url = new URL(value);
      if (url.password) url.password = '[redacted]';
      // pg and ioredis also take credentials from the query string.
      for (const param of [...url.searchParams.keys()]) if (/pass|secret|token|key/i.test(param)) url.searchParams.set(param, '[redacted]');
      return url.toString();
    } catch {
      return '[redacted]';
    }
  }
  return '[redacted]';
}
