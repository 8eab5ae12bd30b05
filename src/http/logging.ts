import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';

/**
 * Logging that never carries a secret (style rule 14): the `authorization`, `cookie` and
 * `set-cookie` headers are never logged, sensitive query parameters are masked in URLs, and any
 * field whose name looks like a secret, token, password or code is replaced before writing.
 */

const SECRET_NAME = /pass(word|wd|phrase)?|secret|token|cookie|authori[sz]ation|credential|api[-_]?key|master[-_]?key|private|^code$|code_verifier|assertion|otp|^hash$|_hash$/i;
const REDACTED = '[redacted]';

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/**
 * Names of URL parameters (query or `;` path parameters) that carry, or may carry, a credential:
 * broader than field names, because a client can put anything in a URL and a session id is not
 * called a token (`?session=`, `;jsessionid=`, `?sid=`). SEC-ASVS-13, SEC-SESS-05.
 */
const URL_CREDENTIAL_NAME = /sess|^sid|sid$|token|code|secret|key|pass|pwd|assertion|otp|state|hint|nonce|auth|ticket|sig|hash|cred|cookie|private|pin$|verifier|jwt|bearer|saml/i;
/** A value shaped like one of our secrets (≥ 32 characters of a base64/base64url alphabet, or a JWT), whatever its name. */
const SECRET_SHAPED_VALUE = /^[A-Za-z0-9_\-+/=.~]{32,}$/;

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Shaped like a secret as sent or as decoded (a stray `%` or a `+` must not hide one). */
function secretShaped(raw: string): boolean {
  return SECRET_SHAPED_VALUE.test(raw) || SECRET_SHAPED_VALUE.test(decoded(raw)) || SECRET_SHAPED_VALUE.test(raw.replace(/%[0-9A-Fa-f]{2}|%/g, ''));
}

function isCredentialParameter(name: string, rawValue: string): boolean {
  return URL_CREDENTIAL_NAME.test(name) || isSecretName(name) || secretShaped(rawValue);
}

/** `name=value` (or a bare `value`) with its value masked when it may be a credential. */
function redactParameter(part: string, depth: number): string {
  const equals = part.indexOf('=');
  if (equals === -1) return secretShaped(part) ? REDACTED : part;
  const rawName = part.slice(0, equals);
  const rawValue = part.slice(equals + 1);
  if (isCredentialParameter(decoded(rawName), rawValue)) return `${rawName}=${REDACTED}`;
  // A URL inside a value (`return_to=/reset-password?token=…`, `redirect_uri=…`) is redacted too.
  const value = decoded(rawValue);
  if (depth < 3 && /[?=;#]/.test(value)) {
    const inner = redactUrlAt(value, depth + 1);
    if (inner !== value) return `${rawName}=${encodeURIComponent(inner)}`;
  }
  return part;
}

/** `segment;name=value;…` with credential-like path parameters masked (`;jsessionid=…`, also spelled `%3B`). */
function redactPathSegment(segment: string, depth: number): string {
  if (secretShaped(segment)) return REDACTED;
  const text = /%3b/i.test(segment) ? decoded(segment) : segment;
  if (!text.includes(';')) return segment;
  const [head, ...parameters] = text.split(';');
  return [redactPathSegment(head ?? '', depth), ...parameters.map((parameter) => redactParameter(parameter, depth))].join(';');
}

/**
 * A request URL fit for a log line: every query parameter and `;` path parameter whose name looks
 * like a credential, and every value or path segment shaped like one of our secrets, is masked —
 * also inside URLs carried in a value (`return_to`); a fragment is dropped. Tokens belong in
 * headers and bodies (SEC-SESS-05: the server never reads them from a URL), but a client that
 * puts one in a URL must not get it written to the log in clear (SEC-ASVS-13).
 */
export function redactUrl(url: string): string {
  return redactUrlAt(url, 0);
}

function redactUrlAt(url: string, depth: number): string {
  const hash = url.indexOf('#');
  const fragment = hash === -1 ? '' : `#${REDACTED}`;
  const withoutFragment = hash === -1 ? url : url.slice(0, hash);
  const question = withoutFragment.indexOf('?');
  const path = question === -1 ? withoutFragment : withoutFragment.slice(0, question);
  const redactedPath = path.length >= 32 || /;|%3b/i.test(path) ? path.split('/').map((segment) => redactPathSegment(segment, depth)).join('/') : path;
  if (question === -1) return redactedPath + fragment;
  const query = withoutFragment.slice(question + 1).split('&').map((part) => redactParameter(part, depth)).join('&');
  return `${redactedPath}?${query}${fragment}`;
}

/** Replaces secret-named fields in plain objects (not class instances), a few levels deep. */
export function redactFields(value: unknown, depth = 0): unknown {
  if (depth > 5 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => redactFields(item, depth + 1));
  const prototype = Object.getPrototypeOf(value) as unknown;
  if (prototype !== Object.prototype && prototype !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    if (depth === 0 && (name === 'req' || name === 'res' || name === 'err')) {
      out[name] = field;
    } else if (isSecretName(name) && field !== undefined && field !== null) {
      out[name] = REDACTED;
    } else {
      out[name] = redactFields(field, depth + 1);
    }
  }
  return out;
}

interface RequestLike {
  method: string;
  url: string;
  ip?: string;
  id?: string;
  headers: Record<string, string | string[] | undefined>;
}

export function loggerOptions(options: { level: string; stream?: DestinationStream | undefined }): NonNullable<FastifyServerOptions['logger']> {
  return {
    level: options.level,
    ...(options.stream ? { stream: options.stream } : {}),
    formatters: {
      log: (object: Record<string, unknown>) => redactFields(object) as Record<string, unknown>,
    },
    serializers: {
      req: (request: RequestLike) => ({
        method: request.method,
        url: redactUrl(request.url),
        remoteAddress: request.ip,
        userAgent: request.headers['user-agent'],
      }),
      res: (reply: { statusCode: number }) => ({ statusCode: reply.statusCode }),
      err: (error: Error & { code?: string; statusCode?: number }) => ({
        type: error.name,
        message: error.message,
        code: error.code,
        stack: error.stack,
      }),
    },
  } as NonNullable<FastifyServerOptions['logger']>;
}

type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
type LogMethod = (...args: unknown[]) => void;
type ChildBindings = Parameters<FastifyBaseLogger['child']>[0];
type ChildOptions = Parameters<FastifyBaseLogger['child']>[1];
/** Fastify's logger type leaves out pino's isLevelEnabled, which every pino logger has. */
type PinoLike = FastifyBaseLogger & { isLevelEnabled(level: string): boolean };

/**
 * A request's logger that becomes a real pino child (with the request id bound) only when
 * something is logged at an enabled level. Fastify makes a child per request, and pino's child
 * serialises its bindings at once — ~1.5 % of a cheap request's CPU, spent on the ~100 % of
 * requests that log nothing at the default level.
 */
class LazyChildLogger {
  #real: PinoLike | undefined;
  readonly #parent: PinoLike;
  readonly #bindings: ChildBindings;
  readonly #options: ChildOptions;

  constructor(parent: PinoLike, bindings: ChildBindings, options: ChildOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): PinoLike {
    return (this.#real ??= this.#parent.child(this.#bindings, this.#options) as PinoLike);
  }

  #emit(level: LogLevel, args: unknown[]): void {
    if (this.#parent.isLevelEnabled(level)) (this.#logger()[level] as LogMethod)(...args);
  }

  get level(): string {
    return this.#real?.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return this.#real ? this.#real.isLevelEnabled(level) : this.#parent.isLevelEnabled(level);
  }

  child(bindings: ChildBindings, options?: ChildOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }

  trace(...args: unknown[]): void {
    this.#emit('trace', args);
  }
  debug(...args: unknown[]): void {
    this.#emit('debug', args);
  }
  info(...args: unknown[]): void {
    this.#emit('info', args);
  }
  warn(...args: unknown[]): void {
    this.#emit('warn', args);
  }
  error(...args: unknown[]): void {
    this.#emit('error', args);
  }
  fatal(...args: unknown[]): void {
    this.#emit('fatal', args);
  }
  silent(): void {}
}

/** Fastify's `childLoggerFactory`: per-request loggers made lazily (see LazyChildLogger). */
export function lazyChildLoggerFactory(logger: FastifyBaseLogger, bindings: ChildBindings, options: ChildOptions): FastifyBaseLogger {
  // A level chosen for this child (route logLevel) needs the real child at once.
  if (options && 'level' in options && options.level !== undefined) return logger.child(bindings, options);
  return new LazyChildLogger(logger as PinoLike, bindings, options) as unknown as FastifyBaseLogger;
}
