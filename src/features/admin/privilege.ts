import { ApiError } from '../../errors/catalog.ts';

/**
 * What an admin actor holds (docs/admin.md, "No privilege escalation"): `all` (an admin session,
 * the CLI) or the permission strings and admin scopes of its roles or token.
 */
export type HeldPermissions = ReadonlySet<string> | 'all';

/** Which rule refused: a role given or taken, an account acted on, a catalog role's permissions. */
export type PrivilegeRefusal = 'role' | 'account' | 'role-permissions';

/** A 403 of the no-privilege-escalation rule; the console words it per `refusal`. */
export class PrivilegeError extends ApiError {
  readonly refusal: PrivilegeRefusal;
  constructor(refusal: PrivilegeRefusal, description: string) {
    super('forbidden', description);
    this.name = 'PrivilegeError';
    this.refusal = refusal;
  }
}

/** The permissions of `needed` that `held` lacks (none for `all`); no holdings at all: every one. */
export function missingPermissions(held: HeldPermissions | undefined, needed: Iterable<string>): string[] {
  if (held === 'all') return [];
  const have = held ?? new Set<string>();
  return [...new Set(needed)].filter((permission) => !have.has(permission)).sort();
}

/** Throws a PrivilegeError: `rule`, then (at most five of) the missing permissions. */
export function requirePermissions(held: HeldPermissions | undefined, needed: Iterable<string>, refusal: PrivilegeRefusal, rule: string): void {
  const missing = missingPermissions(held, needed);
  if (missing.length > 0) throw new PrivilegeError(refusal, `${rule}; you lack ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}.`);
}
