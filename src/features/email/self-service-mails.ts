import { composeMail, requireHttpUrl } from './compose.ts';
import type { OutgoingMail } from './mailer.ts';

/** Mails of the account self-service (src/features/accounts/self-service/). */

/** To the NEW address: the one-time link that makes the change happen. */
export function emailChangeConfirmMail(input: { to: string; link: string; ttlMinutes: number }): OutgoingMail {
  const link = requireHttpUrl(input.link);
  return composeMail('email-change-confirm', input.to, (tr, product) => {
    const ttl = tr.duration(input.ttlMinutes * 60);
    return {
      subject: tr.t('mail.emailChangeConfirm.title'),
      blocks: [
        { text: tr.t('mail.emailChangeConfirm.intro', { to: input.to, product }) },
        { text: tr.t('mail.emailChangeConfirm.action') },
        { link, label: tr.t('mail.emailChangeConfirm.button') },
        { text: tr.t('mail.emailChangeConfirm.expiry', { ttl }) },
      ],
      values: { link, ttl },
    };
  });
}

/** To the OLD address once the change is done: the undo link for a hijacked account. */
export function emailChangedMail(input: { to: string; newEmail: string; undoLink: string; ttlMinutes: number }): OutgoingMail {
  const undoLink = requireHttpUrl(input.undoLink);
  return composeMail('email-changed', input.to, (tr) => {
    const ttl = tr.duration(input.ttlMinutes * 60);
    return {
      subject: tr.t('mail.emailChanged.title'),
      blocks: [
        { text: tr.t('mail.emailChanged.intro', { oldEmail: input.to, newEmail: input.newEmail }) },
        { text: tr.t('mail.emailChanged.ok') },
        { text: tr.t('mail.emailChanged.notYou', { oldEmail: input.to }) },
        { link: undoLink, label: tr.t('mail.emailChanged.button') },
        { text: tr.t('mail.emailChanged.expiry', { ttl }) },
      ],
      values: { oldEmail: input.to, newEmail: input.newEmail, undoLink, ttl },
    };
  });
}

/** After "delete my account": a notification only, no link. */
export function accountDeletedMail(input: { to: string }): OutgoingMail {
  return composeMail('account-deleted', input.to, (tr) => ({
    subject: tr.t('mail.accountDeleted.title'),
    blocks: [
      { text: tr.t('mail.accountDeleted.intro', { to: input.to }) },
      { text: tr.t('mail.accountDeleted.done') },
      { text: tr.t('mail.accountDeleted.notYou') },
    ],
    values: {},
  }));
}
