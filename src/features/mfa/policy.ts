import type { Config } from '../../config/schema.ts';

export type MfaPolicyConfig = Pick<Config, 'mfaRequiredForAll' | 'mfaRequiredRoles'>;

/** Whether policy requires a second factor of this user (SEC-ASVS-08: admins by default in production). */
export function mfaRequiredFor(user: { roles: readonly string[] }, config: MfaPolicyConfig): boolean {
  return config.mfaRequiredForAll || user.roles.some((role) => config.mfaRequiredRoles.includes(role));
}

/** `acr` values (OIDC Core §2): `1` one factor, `2` more than one (amr contains `mfa`). */
export const ACR_SINGLE_FACTOR = '1';
export const ACR_MULTI_FACTOR = '2';
export const ACR_VALUES_SUPPORTED = [ACR_SINGLE_FACTOR, ACR_MULTI_FACTOR] as const;

export function acrOf(amr: readonly string[]): string {
  return amr.includes('mfa') ? ACR_MULTI_FACTOR : ACR_SINGLE_FACTOR;
}

/**
 * The `acr` to put in the ID token for `acr_values` (space-separated, in order of preference):
 * the first requested value the session satisfies; undefined when none is (a step-up is due).
 * Without `acr_values`, the session's own level.
 */
export function acrFor(requested: readonly string[] | undefined, amr: readonly string[]): string | undefined {
  const level = acrOf(amr);
  const known = (requested ?? []).filter((value) => (ACR_VALUES_SUPPORTED as readonly string[]).includes(value));
  if (known.length === 0) return level;
  return known.find((value) => value === ACR_SINGLE_FACTOR || level === ACR_MULTI_FACTOR);
}

/** A second factor this recent counts for sensitive account actions. */
export const RECENT_SECOND_FACTOR_MS = 15 * 60_000;

/** Whether the session proved a second factor within RECENT_SECOND_FACTOR_MS. */
export function recentSecondFactor(session: { authMethods: readonly string[]; authTime: number }, now: number): boolean {
  return session.authMethods.includes('mfa') && now - session.authTime <= RECENT_SECOND_FACTOR_MS;
}
