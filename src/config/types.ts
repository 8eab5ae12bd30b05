/** How a raw value (environment string or JSON value) becomes a typed config value. */
export interface KeySpec<T> {
  /** The environment variable that sets this key. */
  readonly env: string;
  /** One line for docs/configuration.md and `gatehouse doctor`. */
  readonly doc: string;
  /** The default as shown in the docs (human text), or undefined when there is none. */
  readonly defaultText: string | undefined;
  /** The default value; may depend on keys resolved before this one. */
  readonly defaultValue: (resolved: Readonly<Record<string, unknown>>) => T;
  /** Parses a value from the environment (always a string) or a JSON config file. */
  readonly parse: (raw: unknown) => T;
  /** Secrets are redacted by `doctor` and never printed. */
  readonly secret?: boolean;
  /** A second step with the environment, after parsing (secrets named by `*_env` fields). */
  readonly resolve?: (value: T, env: Readonly<Record<string, string | undefined>>) => T;
  /** How `doctor` shows the value when only parts of it are secret. */
  readonly redact?: (value: T) => unknown;
}

/** A start-up configuration problem: names the key and the fix; printed as one line. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly key: string;
  constructor(key: string, message: string) {
    super(`${key}: ${message}`);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/** Thrown by parsers; the loader adds the key name. */
export class ValueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValueError';
  }
}
