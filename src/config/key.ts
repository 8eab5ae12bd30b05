import type { KeySpec } from './types.ts';

/** One configuration key: its environment variable, doc line, default and parser (schema.ts). */
export function key<T>(spec: {
  env: string;
  doc: string;
  default?: T | ((resolved: Readonly<Record<string, unknown>>) => T);
  defaultText?: string;
  parse: (raw: unknown) => T;
  secret?: boolean;
  resolve?: (value: T, env: Readonly<Record<string, string | undefined>>) => T;
  redact?: (value: T) => unknown;
}): KeySpec<T> {
  const fallback = spec.default;
  return {
    env: spec.env,
    doc: spec.doc,
    defaultText:
      spec.defaultText ?? (fallback === undefined || typeof fallback === 'function' ? undefined : JSON.stringify(fallback)),
    defaultValue: (resolved) =>
      typeof fallback === 'function' ? (fallback as (r: Readonly<Record<string, unknown>>) => T)(resolved) : (fallback as T),
    parse: spec.parse,
    ...(spec.secret ? { secret: true } : {}),
    ...(spec.resolve ? { resolve: spec.resolve } : {}),
    ...(spec.redact ? { redact: spec.redact } : {}),
  };
}
