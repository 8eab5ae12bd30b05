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

function isCredentialParameter(name: string, value: string): boolean {
  return URL_CREDENTIAL_NAME.test(name) || isSecretName(name) || SECRET_SHAPED_VALUE.test(value);
}

/** `segment;name=value;…` with credential-like path parameters masked (`;jsessionid=…`). */
function redactPathSegment(segment: string): string {
  if (SECRET_SHAPED_VALUE.test(decoded(segment))) return REDACTED;
  const semicolon = segment.indexOf(';');
  if (semicolon === -1) return segment;
  const [head, ...parameters] = segment.split(';');
  const masked = parameters.map((parameter) => {
    const equals = parameter.indexOf('=');
    const name = decoded(equals === -1 ? parameter : parameter.slice(0, equals));
    const value = equals === -1 ? '' : decoded(parameter.slice(equals + 1));
    if (equals === -1) return SECRET_SHAPED_VALUE.test(name) ? REDACTED : parameter;
    return isCredentialParameter(name, value) ? `${parameter.slice(0, equals)}=${REDACTED}` : parameter;
  });
  return [redactPathSegment(head ?? ''), ...masked].join(';');
}

/**
 * A request URL fit for a log line: every query parameter and `;` path parameter whose name looks
 * like a credential, and every value or path segment shaped like one of our secrets, is masked.
 * Tokens belong in headers and bodies (SEC-SESS-05: the server never reads them from a URL), but
 * a client that puts one in a URL must not get it written to the log in clear (SEC-ASVS-13).
 */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  const path = question === -1 ? url : url.slice(0, question);
  let out = path.length >= 32 || path.includes(';') ? path.split('/').map(redactPathSegment).join('/') : path;
  if (question === -1) return out;
  const query = url.slice(question + 1);
  const parts = query.split('&').map((part) => {
    const equals = part.indexOf('=');
    const name = decoded(equals === -1 ? part : part.slice(0, equals));
    const value = equals === -1 ? '' : decoded(part.slice(equals + 1));
    if (equals === -1) return SECRET_SHAPED_VALUE.test(name) ? REDACTED : part;
    return isCredentialParameter(name, value) ? `${part.slice(0, equals)}=${REDACTED}` : part;
  });
  out += `?${parts.join('&')}`;
  return out;
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
