import type { AuthFailure } from './failures.ts';
import type { Authenticator, Guard, HeadersInput, Principal, RequestTarget } from './types.ts';

export type Admission = { ok: true; principal: Principal | null } | AuthFailure;

/**
 * What every adapter does for one middleware on one request: authenticate once per request
 * (remembered in `seen`, keyed by the framework's request object — never by whatever another
 * library may have put on `req.auth`), then check the guard. `optional` lets a request without
 * any credentials through with a null principal; a request with bad credentials never passes.
 */
export async function admit(authenticator: Authenticator, seen: WeakMap<object, Principal | null>, request: object, headers: HeadersInput, guard: Guard | undefined, target?: RequestTarget): Promise<Admission> {
  let principal = seen.get(request);
  if (principal === undefined) {
    const result = await authenticator.authenticate(headers, target);
    if (!result.ok) {
      if (guard !== undefined || result.code !== 'missing_credentials') return result;
      principal = null;
    } else {
      principal = result.principal;
    }
    seen.set(request, principal);
  }
  if (guard === undefined) return { ok: true, principal };
  if (principal === null) return authenticator.unauthenticated;
  return authenticator.authorize(principal, guard) ?? { ok: true, principal };
}

/** The JSON text of a failure's body. */
export function failureBody(failure: AuthFailure): string {
  return JSON.stringify(failure.body);
}
