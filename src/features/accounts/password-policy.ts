import { apiError } from '../../errors/catalog.ts';
import { checkPassword, type PasswordContext } from '../../crypto/passwords/policy.ts';
import type { Config } from '../../config/schema.ts';

/**
 * The one password-policy check (SEC-PWD-01…06) for every path that sets a password — sign-up,
 * change, reset (which is also how a social-only account gets a password) and the CLI — with all
 * the context that path knows: the account's email and name, and the old password where it is
 * known in clear. A path that skipped it (reset did) let users set their own address.
 */
export function passwordProblem(password: string, config: Pick<Config, 'passwordMinLength' | 'passwordMaxLength'>, context: PasswordContext): string | undefined {
  // A lone UTF-16 surrogate would be hashed as U+FFFD: two different inputs, one password.
  if (!password.isWellFormed()) return 'The password contains characters that are not valid Unicode text.';
  const verdict = checkPassword(password, { minLength: config.passwordMinLength, maxLength: config.passwordMaxLength }, context);
  return verdict.ok ? undefined : verdict.message;
}

/** `passwordProblem` as the API's `invalid_password` error. */
export function requireAcceptablePassword(password: string, config: Pick<Config, 'passwordMinLength' | 'passwordMaxLength'>, context: PasswordContext): void {
  const problem = passwordProblem(password, config, context);
  if (problem !== undefined) throw apiError('invalid_password', problem);
}

/** The policy context of a stored account. */
export function accountContext(user: { email: string; name: string | null }, previous?: string): PasswordContext {
  return { email: user.email, ...(user.name ? { name: user.name } : {}), ...(previous !== undefined ? { previous } : {}) };
}
