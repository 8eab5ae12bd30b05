/** Tokens with `openid` are also for the issuer's own userinfo endpoint, so `aud` names it too. */
export function withUserinfoAudience(audience: readonly string[], scope: readonly string[], issuer: string): string[] {
  return scope.includes('openid') && !audience.includes(issuer) ? [...audience, issuer] : [...audience];
}
