import { failure, isScopeToken, type AuthFailure } from './failures.ts';
import type { Guard, Principal } from './types.ts';

/** Any authenticated principal. */
export function requireAuth(): Guard {
  return Object.freeze({ scopes: Object.freeze([]), anyRole: Object.freeze([]) });
}

/** Every one of `scopes` must have been granted (RFC 6750 §3.1: else 403 insufficient_scope). */
export function requireScope(...scopes: string[]): Guard {
  if (scopes.length === 0) throw new TypeError('requireScope needs at least one scope');
  // RFC 6749 §3.3 scope-token: the names go into the challenge's quoted scope="…".
  for (const scope of scopes) if (typeof scope !== 'string' || !isScopeToken(scope)) throw new TypeError(`requireScope: not a scope name: ${JSON.stringify(scope)}`);
  return Object.freeze({ scopes: Object.freeze([...scopes]), anyRole: Object.freeze([]) });
}

/** At least one of `roles` (any of them, not all): else 403 insufficient_scope. */
export function requireRole(...roles: string[]): Guard {
  if (roles.length === 0) throw new TypeError('requireRole needs at least one role');
  for (const role of roles) if (typeof role !== 'string' || role.length === 0 || !isScopeToken(role)) throw new TypeError(`requireRole: not a role name: ${JSON.stringify(role)}`);
  return Object.freeze({ scopes: Object.freeze([]), anyRole: Object.freeze([...roles]) });
}

/**
 * Every one of `permissions` (not any: a permission is one fine-grained right): else 403
 * insufficient_scope. Permissions come from Gatehouse's role catalog (`permissions` claim, or the
 * session's user) and follow role changes at the next refresh or session check.
 */
export function requirePermission(...permissions: string[]): Guard {
  if (permissions.length === 0) throw new TypeError('requirePermission needs at least one permission');
  for (const permission of permissions) if (typeof permission !== 'string' || permission.length === 0 || !isScopeToken(permission)) throw new TypeError(`requirePermission: not a permission string: ${JSON.stringify(permission)}`);
  return Object.freeze({ scopes: Object.freeze([]), anyRole: Object.freeze([]), permissions: Object.freeze([...permissions]) });
}

/** The failure a principal meets at `guard`, or undefined when it passes. */
export function authorize(realm: string, principal: Principal, guard: Guard): AuthFailure | undefined {
  if (guard.scopes.length > 0 && !guard.scopes.every((scope) => principal.scopes.includes(scope))) {
    return failure(realm, 'insufficient_scope', 'insufficient_scope', 'The access token does not grant the required scope.', { scope: guard.scopes.join(' ') });
  }
  if (guard.anyRole.length > 0 && !guard.anyRole.some((role) => principal.roles.includes(role))) {
    // RFC 6750 §3.1 insufficient_scope: "requires higher privileges than provided by the access token".
    return failure(realm, 'insufficient_scope', 'insufficient_role', `This needs one of the roles: ${guard.anyRole.join(', ')}.`);
  }
  const permissions = guard.permissions ?? [];
  if (permissions.length > 0 && !permissions.every((permission) => principal.permissions.includes(permission))) {
    return failure(realm, 'insufficient_scope', 'insufficient_permission', `This needs the permissions: ${permissions.join(', ')}.`);
  }
  return undefined;
}
