import { ApiError } from '../../errors/catalog.ts';

/**
 * Upstream identity providers for social login: their settings, the Google and GitHub presets,
 * and validation — the same for the config file (`socialProviders`) and the admin API (pure,
 * no I/O). Every message names the field in the wire's snake_case.
 */

export type ProviderType = 'oidc' | 'oauth2';
export type UpstreamAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** Where the user's attributes are in a plain OAuth 2.0 provider's userinfo JSON (top-level names). */
export interface ClaimMapping {
  subject: string;
  email?: string;
  email_verified?: string;
  name?: string;
}

/** A provider's settings, without its client secret. */
export interface ProviderSettings {
  /** Lower-case slug; part of the callback URL `/login/social/<id>/callback`. */
  id: string;
  type: ProviderType;
  /** The button label: "Continue with <name>". */
  name: string;
  /** The upstream issuer identifier; identities are keyed by (issuer, subject). */
  issuer: string;
  /** OpenID Connect: where the metadata is (default `<issuer>/.well-known/openid-configuration`). */
  discovery_url?: string;
  /** OAuth 2.0 (no discovery): the endpoints. */
  authorization_endpoint?: string;
  token_endpoint?: string;
  userinfo_endpoint?: string;
  /** GitHub-style: a list of the user's addresses with `primary` and `verified` flags. */
  emails_endpoint?: string;
  claims?: ClaimMapping;
  client_id: string;
  token_endpoint_auth_method: UpstreamAuthMethod;
  scopes: string[];
  /** OpenID Connect: the one ID-token algorithm accepted (asymmetric only). */
  id_token_signed_response_alg: string;
  /** Keep the upstream access/refresh tokens (sealed, never shown); off by default. */
  store_tokens: boolean;
  enabled: boolean;
}

/** A provider ready to use: settings plus the client secret (never shown, never logged). */
export interface Provider extends ProviderSettings {
  source: 'config' | 'api';
  clientSecret: string;
}

export const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ASYMMETRIC_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
const AUTH_METHODS = new Set<UpstreamAuthMethod>(['client_secret_basic', 'client_secret_post']);
const URL_FIELDS = ['issuer', 'discovery_url', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'emails_endpoint'] as const;

/** Every settable field (plus `preset`); anything else is refused so a typo is never ignored. */
export const PROVIDER_FIELDS = [
  'id', 'preset', 'type', 'name', 'issuer', 'discovery_url', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint',
  'emails_endpoint', 'claims', 'client_id', 'token_endpoint_auth_method', 'scopes', 'id_token_signed_response_alg', 'store_tokens', 'enabled',
] as const;

type PresetName = 'google' | 'github';

/** What a preset fills in; anything given explicitly wins (tests point them at loopback servers). */
export const PRESETS: Readonly<Record<PresetName, Readonly<Record<string, unknown>>>> = Object.freeze({
  google: Object.freeze({
    type: 'oidc',
    name: 'Google',
    issuer: 'https://accounts.google.com',
    scopes: ['openid', 'email', 'profile'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  }),
  github: Object.freeze({
    type: 'oauth2',
    name: 'GitHub',
    issuer: 'https://github.com',
    authorization_endpoint: 'https://github.com/login/oauth/authorize',
    token_endpoint: 'https://github.com/login/oauth/access_token',
    userinfo_endpoint: 'https://api.github.com/user',
    emails_endpoint: 'https://api.github.com/user/emails',
    claims: { subject: 'id', email: 'email', name: 'name' },
    scopes: ['read:user', 'user:email'],
    token_endpoint_auth_method: 'client_secret_post',
  }),
});

/** A rejected provider field, as 400 `invalid_request` (API) or a ConfigError (config file). */
export class ProviderSettingsError extends ApiError {
  readonly field: string;
  readonly reason: string;
  constructor(field: string, reason: string) {
    super('invalid_request', `${field}: ${reason}`);
    this.name = 'ProviderSettingsError';
    this.field = field;
    this.reason = reason;
  }
}

/** http only to the loopback interface (development, tests); everything else https. */
export function upstreamUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (value.length > 2000) return 'must be at most 2000 characters';
  if (url.username || url.password) return 'must not contain credentials';
  if (url.hash) return 'must not contain a fragment';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  return 'must use https:// (plain http only to 127.0.0.1, [::1] or localhost)';
}

export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost';
}

/**
 * Validates one provider entry (after its preset is applied). `fields` is the raw object from
 * the config file or the API body, without any secret.
 */
export function validateProviderSettings(raw: Readonly<Record<string, unknown>>): ProviderSettings {
  for (const name of Object.keys(raw)) {
    if (!(PROVIDER_FIELDS as readonly string[]).includes(name)) throw new ProviderSettingsError(name, `unknown field (valid: ${PROVIDER_FIELDS.join(', ')})`);
  }
  const presetName = raw.preset;
  if (presetName !== undefined && presetName !== 'google' && presetName !== 'github') throw new ProviderSettingsError('preset', 'must be "google" or "github"');
  const preset = presetName === undefined ? {} : PRESETS[presetName];
  const value: Readonly<Record<string, unknown>> = { ...preset, ...withoutUndefined(raw) };

  const id = requireString(value, 'id', 32);
  if (!PROVIDER_ID.test(id)) throw new ProviderSettingsError('id', 'must be 1–32 characters: lower-case letters, digits and hyphens, starting with a letter or digit');
  const type = value.type;
  if (type !== 'oidc' && type !== 'oauth2') throw new ProviderSettingsError('type', 'must be "oidc" (OpenID Connect) or "oauth2" (plain OAuth 2.0), or give a preset');
  for (const field of URL_FIELDS) {
    const url = value[field];
    if (url === undefined) continue;
    if (typeof url !== 'string') throw new ProviderSettingsError(field, 'must be a string');
    const problem = upstreamUrlProblem(url);
    if (problem) throw new ProviderSettingsError(field, problem);
  }
  const settings: ProviderSettings = {
    id,
    type,
    name: requireString(value, 'name', 60),
    issuer: requireString(value, 'issuer', 2000),
    client_id: requireString(value, 'client_id', 500),
    token_endpoint_auth_method: authMethod(value.token_endpoint_auth_method ?? 'client_secret_basic'),
    scopes: scopes(value.scopes ?? (type === 'oidc' ? ['openid', 'email', 'profile'] : [])),
    id_token_signed_response_alg: idTokenAlg(value.id_token_signed_response_alg ?? 'RS256'),
    store_tokens: booleanField(value, 'store_tokens', false),
    enabled: booleanField(value, 'enabled', true),
  };
  for (const field of ['discovery_url', 'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'emails_endpoint'] as const) {
    if (typeof value[field] === 'string') settings[field] = value[field];
  }
  if (type === 'oidc') {
    if (!settings.scopes.includes('openid')) throw new ProviderSettingsError('scopes', 'must include "openid" for an OpenID Connect provider');
    if (value.claims !== undefined) throw new ProviderSettingsError('claims', 'only for type "oauth2": OpenID Connect providers use the standard claims');
  } else {
    for (const field of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'] as const) {
      if (settings[field] === undefined) throw new ProviderSettingsError(field, 'is required for an OAuth 2.0 provider');
    }
    if (value.discovery_url !== undefined) throw new ProviderSettingsError('discovery_url', 'only for type "oidc"');
    settings.claims = claimMapping(value.claims);
  }
  return settings;
}

/** The callback URL the upstream must have registered, exactly. */
export function callbackUrl(publicUrl: string, providerId: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/login/social/${providerId}/callback`;
}

/** The settings an API answer shows: everything but the secret. */
export function providerView(provider: Provider): ProviderSettings & { source: 'config' | 'api' } {
  const { clientSecret: _secret, ...settings } = provider;
  return settings;
}

function withoutUndefined(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(raw)) if (value !== undefined && name !== 'preset') out[name] = value;
  return out;
}

function requireString(value: Readonly<Record<string, unknown>>, field: string, max: number): string {
  const text = value[field];
  if (typeof text !== 'string' || text.trim() === '') throw new ProviderSettingsError(field, 'is required (a non-empty string)');
  if (text.length > max) throw new ProviderSettingsError(field, `must be at most ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new ProviderSettingsError(field, 'must not contain control characters');
  return text;
}

function booleanField(value: Readonly<Record<string, unknown>>, field: string, fallback: boolean): boolean {
  const flag = value[field] ?? fallback;
  if (typeof flag !== 'boolean') throw new ProviderSettingsError(field, 'must be true or false');
  return flag;
}

function authMethod(method: unknown): UpstreamAuthMethod {
  if (typeof method !== 'string' || !AUTH_METHODS.has(method as UpstreamAuthMethod)) throw new ProviderSettingsError('token_endpoint_auth_method', 'must be "client_secret_basic" or "client_secret_post"');
  return method as UpstreamAuthMethod;
}

function idTokenAlg(alg: unknown): string {
  if (typeof alg !== 'string' || !ASYMMETRIC_ALGS.has(alg)) throw new ProviderSettingsError('id_token_signed_response_alg', `must be one asymmetric JWS algorithm (${[...ASYMMETRIC_ALGS].join(', ')}); "none" and HMAC are refused`);
  return alg;
}

function scopes(list: unknown): string[] {
  if (!Array.isArray(list) || list.length > 30 || !list.every((item) => typeof item === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,200}$/.test(item))) {
    throw new ProviderSettingsError('scopes', 'must be an array of at most 30 scope tokens (RFC 6749 §3.3)');
  }
  return [...new Set(list as string[])];
}

function claimMapping(raw: unknown): ClaimMapping {
  const fallback = { subject: 'sub', email: 'email', email_verified: 'email_verified', name: 'name' };
  if (raw === undefined) return fallback;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ProviderSettingsError('claims', 'must be an object such as {"subject": "id", "email": "email", "name": "name"}');
  const mapping: Record<string, string> = {};
  for (const [name, path] of Object.entries(raw)) {
    if (!['subject', 'email', 'email_verified', 'name'].includes(name)) throw new ProviderSettingsError(`claims.${name}`, 'unknown (valid: subject, email, email_verified, name)');
    if (typeof path !== 'string' || !/^[A-Za-z0-9_.:-]{1,100}$/.test(path)) throw new ProviderSettingsError(`claims.${name}`, 'must be the name of a userinfo member');
    mapping[name] = path;
  }
  if (mapping.subject === undefined) throw new ProviderSettingsError('claims.subject', 'is required: the member that identifies the user for good (an id, never the email)');
  return mapping as unknown as ClaimMapping;
}
