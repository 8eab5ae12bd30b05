import type { MessageKey, Translator } from './i18n/index.ts';

/**
 * Plain words for what a scope lets an application do — the consent page, the device page and
 * the account page's list of applications say "See your email address", never `email`.
 * Unknown (resource or custom) scopes get a generic "Access: <scope>" so nothing is hidden.
 */
const KNOWN: Readonly<Record<string, MessageKey>> = {
  openid: 'oauth.scope.openid',
  profile: 'oauth.scope.profile',
  email: 'oauth.scope.email',
  roles: 'oauth.scope.roles',
  offline_access: 'oauth.scope.offlineAccess',
  'admin:users': 'oauth.scope.adminUsers',
  'admin:roles': 'oauth.scope.adminRoles',
  'admin:audit': 'oauth.scope.adminAudit',
  'admin:keys': 'oauth.scope.adminKeys',
  'admin:clients': 'oauth.scope.adminClients',
  'admin:identity-providers': 'oauth.scope.adminIdentityProviders',
  'admin:branding': 'oauth.scope.adminBranding',
};

/** One description per scope, in the order given. */
export function scopeDescriptions(tr: Translator, scopes: readonly string[]): string[] {
  return scopes.map((scope) => scopeDescription(tr, scope));
}

export function scopeDescription(tr: Translator, scope: string): string {
  const key = Object.hasOwn(KNOWN, scope) ? KNOWN[scope] : undefined;
  if (key) return tr.t(key);
  // An admin scope added later still reads as administration, not as a custom scope.
  if (scope.startsWith('admin:')) return tr.t('oauth.scope.adminOther', { area: scope.slice('admin:'.length) });
  return tr.t('oauth.scope.custom', { scope });
}
