import { ApiError } from '../../errors/catalog.ts';
import { errorResponse } from '../../http/schemas.ts';

/** The 401 of the sign-in APIs: `invalid_credentials`, or `mfa_required` with how to finish. */
export const MFA_REQUIRED_RESPONSE = {
  ...errorResponse,
  properties: {
    ...errorResponse.properties,
    mfa_token: { type: 'string' },
    mfa_methods: { type: 'array', items: { type: 'string' } },
    enrolment_required: { type: 'boolean' },
    expires_in: { type: 'integer' },
    complete_with: { type: 'string' },
    passkey_options: { type: 'string' },
    passkey_complete_with: { type: 'string' },
  },
} as const;

/**
 * The first factor was right, a second one is due (or, under policy, must first be enrolled).
 * Carries the pending token for the edge to hand over (cookie or `mfa_token`); nothing else.
 */
export class MfaRequiredError extends ApiError {
  readonly pendingToken: string;
  readonly methods: readonly string[];
  readonly enrol: boolean;
  readonly expiresInSeconds: number;

  constructor(input: { pendingToken: string; methods: readonly string[]; enrol: boolean; expiresInSeconds: number }) {
    super('mfa_required', input.enrol ? 'Set up a second factor to finish signing in.' : 'Enter a code from your second factor to finish signing in.');
    this.name = 'MfaRequiredError';
    this.pendingToken = input.pendingToken;
    this.methods = input.methods;
    this.enrol = input.enrol;
    this.expiresInSeconds = input.expiresInSeconds;
  }

  /** The JSON answer of the sign-in APIs: what is needed and how to complete it (docs/mfa.md). */
  body(options: { includeToken: boolean }): Record<string, unknown> {
    return {
      error: this.error,
      error_description: this.description,
      mfa_methods: [...this.methods],
      enrolment_required: this.enrol,
      expires_in: this.expiresInSeconds,
      complete_with: this.enrol ? '/api/auth/mfa/enrol/totp' : '/api/auth/mfa/verify',
      // Where a passkey's ceremony starts and where its answer goes: the second step (verify, method
      // passkey), or — for a required enrolment — the registration of a new passkey.
      ...(this.methods.includes('passkey') ? {
        passkey_options: this.enrol ? '/api/auth/mfa/enrol/passkey/options' : '/api/auth/mfa/passkey/options',
        passkey_complete_with: this.enrol ? '/api/auth/mfa/enrol/passkey' : '/api/auth/mfa/verify',
      } : {}),
      ...(options.includeToken ? { mfa_token: this.pendingToken } : {}),
    };
  }
}
