/**
 * The one catalog of errors that leave the server. Every error response is JSON
 * `{ "error": code, "error_description": text }` (OAuth style) with the status listed here.
 *
 * `detail` is internal: logged with the request id, stripped before sending (never a secret).
 * `redirectable` says whether the authorization endpoint may deliver the error to the client's
 * redirect URI — never for errors about the client or the redirect URI itself.
 */

export const ERROR_STATUS = {
  // RFC 6749 §5.2 / §4.1.2.1, RFC 6750 §3.1, RFC 7009, RFC 7662
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  unsupported_response_type: 400,
  unsupported_token_type: 400,
  invalid_scope: 400,
  invalid_target: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  access_denied: 403,
  login_required: 400,
  consent_required: 400,
  interaction_required: 400,
  invalid_redirect_uri: 400,
  request_not_supported: 400,
  request_uri_not_supported: 400,
  invalid_client_metadata: 400,
  invalid_software_statement: 400,
  // RFC 9449 §5, §8 (DPoP)
  invalid_dpop_proof: 400,
  use_dpop_nonce: 400,
  // RFC 8628 §3.5 (device authorization grant, token endpoint)
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  // Gatehouse API errors
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  invalid_password: 400,
  invalid_credentials: 401,
  mfa_required: 401,
  invalid_mfa_code: 401,
  mfa_step_up_required: 403,
  email_not_verified: 403,
  invalid_link: 400,
  csrf_failed: 403,
  too_many_requests: 429,
  upstream_unavailable: 502,
  server_error: 500,
  temporarily_unavailable: 503,
  not_ready: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ApiErrorOptions {
  /** Internal detail for logs; never sent. */
  detail?: string;
  /** May be delivered to a registered redirect URI (authorization endpoint only). */
  redirectable?: boolean;
  /** Extra response headers (WWW-Authenticate, Retry-After, Allow). */
  headers?: Readonly<Record<string, string>>;
  cause?: unknown;
}

export class ApiError extends Error {
  readonly error: ErrorCode;
  readonly status: number;
  readonly description: string;
  readonly detail: string | undefined;
  readonly redirectable: boolean;
  readonly headers: Readonly<Record<string, string>>;

  constructor(error: ErrorCode, description: string, options: ApiErrorOptions = {}) {
    super(description, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.error = error;
    this.status = ERROR_STATUS[error];
    this.description = description;
    this.detail = options.detail;
    this.redirectable = options.redirectable ?? false;
    this.headers = options.headers ?? {};
  }

  /** The wire body: only the public code and description. */
  toJSON(): { error: ErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export function apiError(error: ErrorCode, description: string, options?: ApiErrorOptions): ApiError {
  return new ApiError(error, description, options);
}

/** The body sent for anything unexpected: no detail, no stack. */
export const SERVER_ERROR_BODY = Object.freeze({
  error: 'server_error',
  error_description: 'The server encountered an unexpected condition.',
});
