import { currentTranslator } from '../../../ui/i18n/index.ts';
import { currentBrand } from '../../../ui/theme/brand.ts';
import { htmlLayout, textLayout } from '../../email/layout.ts';
import type { OutgoingMail } from '../../email/mailer.ts';

/**
 * To the OLD address after an administrator changed it: a notice, deliberately without the
 * self-service undo link — an admin may change the address precisely because the old mailbox
 * is no longer the user's, and an undo there would hand the account back to whoever holds it.
 * Built in the shared mail layout and the request's language (texts: `admin.mail.*`). Not yet
 * overridable by a template file: that needs an id in src/features/email/template-ids.ts.
 */
export function emailChangedByAdminMail(input: { to: string; newEmail: string }): OutgoingMail {
  const tr = currentTranslator();
  const brand = currentBrand();
  const content = {
    subject: tr.t('mail.subject', { product: brand.productName, title: tr.t('admin.mail.emailChanged.title') }),
    blocks: [
      { text: tr.t('admin.mail.emailChanged.intro', { oldEmail: input.to, newEmail: input.newEmail }) },
      { text: tr.t('admin.mail.emailChanged.notYou') },
    ],
  };
  return { to: input.to, subject: content.subject.replace(/[\r\n]+/g, ' ').trim(), text: textLayout(tr, brand, input.to, content), html: htmlLayout(tr, brand, input.to, content) };
}
