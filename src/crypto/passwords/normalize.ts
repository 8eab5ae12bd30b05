/**
 * The one password normalisation of Gatehouse: Unicode NFKC (NIST SP 800-63B §5.1.1.2, SEC-PWD-05),
 * applied identically when a password is set, checked against the policy and verified.
 * Nothing else: no trimming, no whitespace collapsing, no case folding (SEC-PWD-03, SEC-PWD-04).
 *
 * Consequences, by design: `é` (U+00E9) and `e` + U+0301 are the same password; full-width
 * `１２３` equals ASCII `123`; the ligature `ﬀ` equals `ff`.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/**
 * The forms to try against a hash imported from a system that did not normalise: the password
 * exactly as typed first, then its NFKC form when that differs.
 */
export function importCandidates(password: string): string[] {
  const normalized = normalizePassword(password);
  return normalized === password ? [password] : [password, normalized];
}
