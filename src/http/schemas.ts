/** JSON-schema pieces shared by routes (they also feed the OpenAPI document). */

export const errorResponse = {
  type: 'object',
  properties: { error: { type: 'string' }, error_description: { type: 'string' } },
  required: ['error', 'error_description'],
} as const;

export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    email_verified: { type: 'boolean' },
    roles: { type: 'array', items: { type: 'string' } },
  },
  required: ['id', 'email', 'name', 'email_verified', 'roles'],
} as const;

export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    last_seen_at: { type: 'string', format: 'date-time' },
    expires_at: { type: 'string', format: 'date-time' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
    current: { type: 'boolean' },
  },
  required: ['id', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent', 'current'],
} as const;

/** Passwords: strings only (no arrays or objects: SEC-ASVS-16), bounded before hashing. */
export const passwordField = { type: 'string', minLength: 1, maxLength: 4096 } as const;
export const emailField = { type: 'string', minLength: 1, maxLength: 320 } as const;
export const tokenField = { type: 'string', minLength: 1, maxLength: 128 } as const;

export const emptyBody = { type: 'object', additionalProperties: false, properties: {} } as const;

export const authTag = ['auth'];
