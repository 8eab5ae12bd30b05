/**
 * Every mail template and the `{{placeholders}}` an override file may use (docs/branding.md,
 * "Mail templates"). `productName` and `to` are available in all of them. A name outside a
 * template's list is a start-up error (overrides.ts), so a typo never reaches a customer.
 */
export const MAIL_TEMPLATES = {
  verification: ['link', 'ttl'],
  'already-registered': ['signInLink', 'resetLink'],
  'password-reset': ['link', 'ttl'],
  'link-identity': ['providerName', 'link', 'ttl'],
  'password-changed': [],
  lockout: ['wait'],
  'email-change-confirm': ['link', 'ttl'],
  'email-changed': ['oldEmail', 'newEmail', 'undoLink', 'ttl'],
  'account-deleted': [],
  'factor-change': ['change', 'name'],
} as const satisfies Record<string, readonly string[]>;

export type MailTemplateId = keyof typeof MAIL_TEMPLATES;

export const COMMON_PLACEHOLDERS = ['productName', 'to'] as const;

export function isMailTemplateId(value: string): value is MailTemplateId {
  return Object.hasOwn(MAIL_TEMPLATES, value);
}

export function placeholdersOf(id: MailTemplateId): readonly string[] {
  return [...COMMON_PLACEHOLDERS, ...MAIL_TEMPLATES[id]];
}
