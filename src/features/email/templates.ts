import { composeMail, requireHttpUrl } from './compose.ts';
import type { OutgoingMail } from './mailer.ts';

/**
 * The mails the accounts and social-login features send, translated (`mail.*`,
 * src/ui/i18n/messages/mail.ts) and branded (compose.ts). Links arrive fully built from the
 * configured public URL (never the Host header); every value is escaped in HTML.
 */

export function verificationMail(input: { to: string; link: string; ttlMinutes: number }): OutgoingMail {
  const link = requireHttpUrl(input.link);
  return composeMail('verification', input.to, (tr) => {
    const ttl = tr.duration(input.ttlMinutes * 60);
    return {
      subject: tr.t('mail.verification.title'),
      blocks: [
        { text: tr.t('mail.verification.intro', { to: input.to }) },
        { text: tr.t('mail.verification.action') },
        { link, label: tr.t('mail.verification.button') },
        { text: tr.t('mail.verification.expiry', { ttl }) },
      ],
      values: { link, ttl },
    };
  });
}

/** Sent instead of a verification mail when the address already has an account (no enumeration). */
export function alreadyRegisteredMail(input: { to: string; signInLink: string; resetLink: string }): OutgoingMail {
  const signInLink = requireHttpUrl(input.signInLink);
  const resetLink = requireHttpUrl(input.resetLink);
  return composeMail('already-registered', input.to, (tr) => ({
    subject: tr.t('mail.alreadyRegistered.title'),
    blocks: [
      { text: tr.t('mail.alreadyRegistered.intro', { to: input.to }) },
      { text: tr.t('mail.alreadyRegistered.signInHint') },
      { link: signInLink, label: tr.t('mail.alreadyRegistered.signInButton') },
      { text: tr.t('mail.alreadyRegistered.resetHint') },
      { link: resetLink, label: tr.t('mail.alreadyRegistered.resetButton') },
      { text: tr.t('mail.alreadyRegistered.ignore') },
    ],
    values: { signInLink, resetLink },
  }));
}

export function passwordResetMail(input: { to: string; link: string; ttlMinutes: number }): OutgoingMail {
  const link = requireHttpUrl(input.link);
  return composeMail('password-reset', input.to, (tr) => {
    const ttl = tr.duration(input.ttlMinutes * 60);
    return {
      subject: tr.t('mail.passwordReset.title'),
      blocks: [
        { text: tr.t('mail.passwordReset.intro', { to: input.to }) },
        { text: tr.t('mail.passwordReset.action') },
        { link, label: tr.t('mail.passwordReset.button') },
        { text: tr.t('mail.passwordReset.expiry', { ttl }) },
      ],
      values: { link, ttl },
    };
  });
}

/** Proof of the address before an upstream identity is linked to its account (social login). */
export function linkIdentityMail(input: { to: string; providerName: string; link: string; ttlMinutes: number }): OutgoingMail {
  const link = requireHttpUrl(input.link);
  const provider = input.providerName;
  return composeMail('link-identity', input.to, (tr) => {
    const ttl = tr.duration(input.ttlMinutes * 60);
    return {
      subject: tr.t('mail.linkIdentity.title', { provider }),
      blocks: [
        { text: tr.t('mail.linkIdentity.intro', { provider, to: input.to }) },
        { text: tr.t('mail.linkIdentity.action', { provider }) },
        { link, label: tr.t('mail.linkIdentity.button', { provider }) },
        { text: tr.t('mail.linkIdentity.expiry', { ttl }) },
      ],
      values: { providerName: provider, link, ttl },
    };
  });
}

/** A notification only: it carries no link that signs anyone in. */
export function passwordChangedMail(input: { to: string }): OutgoingMail {
  return composeMail('password-changed', input.to, (tr) => ({
    subject: tr.t('mail.passwordChanged.title'),
    blocks: [
      { text: tr.t('mail.passwordChanged.intro', { to: input.to }) },
      { text: tr.t('mail.passwordChanged.ok') },
      { text: tr.t('mail.passwordChanged.notYou') },
    ],
    values: {},
  }));
}

/**
 * Sent once when sign-in to the account is paused after repeated wrong passwords (SEC-PWD-14,
 * SEC-PWD-17). A notification only: no link, nothing that signs anyone in.
 */
export function lockoutMail(input: { to: string; waitMinutes: number }): OutgoingMail {
  return composeMail('lockout', input.to, (tr) => {
    const wait = tr.duration(input.waitMinutes * 60);
    return {
      subject: tr.t('mail.lockout.title'),
      blocks: [
        { text: tr.t('mail.lockout.intro', { to: input.to, wait }) },
        { text: tr.t('mail.lockout.safe') },
        { text: tr.t('mail.lockout.advice') },
        { text: tr.t('mail.lockout.once') },
      ],
      values: { wait },
    };
  });
}

export { emailChangeConfirmMail, emailChangedMail, accountDeletedMail } from './self-service-mails.ts';
