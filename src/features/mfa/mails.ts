import type { OutgoingMail } from '../email/mailer.ts';

/** Notifications of factor changes (SEC-PWD-17): no secret, no link that signs anyone in. */
export type FactorChange = 'totp-added' | 'passkey-added' | 'factor-removed' | 'recovery-codes-regenerated' | 'recovery-code-used' | 'mfa-reset';

const TEXT: Readonly<Record<FactorChange, { subject: string; line: string }>> = {
  'totp-added': { subject: 'An authenticator app was added', line: 'An authenticator app was added as a second factor to your account' },
  'passkey-added': { subject: 'A passkey was added', line: 'A passkey was added to your account' },
  'factor-removed': { subject: 'A second factor was removed', line: 'A second factor was removed from your account' },
  'recovery-codes-regenerated': { subject: 'New recovery codes were created', line: 'New recovery codes were created for your account; the old ones no longer work' },
  'recovery-code-used': { subject: 'A recovery code was used', line: 'One of your recovery codes was just used to sign in to your account' },
  'mfa-reset': { subject: 'Your second factors were reset', line: 'An administrator removed every second factor and recovery code of your account' },
};

export function factorChangeMail(input: { to: string; change: FactorChange; name?: string | undefined }): OutgoingMail {
  const { subject, line } = TEXT[input.change];
  const named = input.name ? ` (“${input.name.replace(/[\r\n]/g, ' ')}”)` : '';
  const text = [
    `${line}${named}: ${input.to}.`,
    'If this was you, there is nothing else to do.',
    'If it was not you, change your password from the sign-in page right away, review the second factors on your account page, and tell your administrator.',
    '— Gatehouse',
  ].join('\n\n') + '\n';
  return { to: input.to, subject: `Gatehouse: ${subject}`, text };
}
