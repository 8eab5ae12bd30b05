import { composeMail } from '../email/compose.ts';
import type { OutgoingMail } from '../email/mailer.ts';
import type { MessageKey } from '../../ui/i18n/index.ts';

/** Notifications of factor changes (SEC-PWD-17): no secret, no link that signs anyone in. */
export type FactorChange = 'totp-added' | 'passkey-added' | 'factor-removed' | 'recovery-codes-regenerated' | 'recovery-code-used' | 'mfa-reset';

const TEXT: Readonly<Record<FactorChange, { title: MessageKey; line: MessageKey }>> = {
  'totp-added': { title: 'mail.factor.totpAdded.title', line: 'mail.factor.totpAdded.line' },
  'passkey-added': { title: 'mail.factor.passkeyAdded.title', line: 'mail.factor.passkeyAdded.line' },
  'factor-removed': { title: 'mail.factor.factorRemoved.title', line: 'mail.factor.factorRemoved.line' },
  'recovery-codes-regenerated': { title: 'mail.factor.recoveryCodesRegenerated.title', line: 'mail.factor.recoveryCodesRegenerated.line' },
  'recovery-code-used': { title: 'mail.factor.recoveryCodeUsed.title', line: 'mail.factor.recoveryCodeUsed.line' },
  'mfa-reset': { title: 'mail.factor.mfaReset.title', line: 'mail.factor.mfaReset.line' },
};

export function factorChangeMail(input: { to: string; change: FactorChange; name?: string | undefined }): OutgoingMail {
  const { title, line } = TEXT[input.change];
  // The factor's name is the user's own text: one line, escaped in HTML by the layout.
  const name = input.name ? input.name.replace(/[\r\n]/g, ' ') : '';
  return composeMail('factor-change', input.to, (tr) => {
    const sentence = tr.t(line, { to: input.to });
    return {
      subject: tr.t(title),
      blocks: [
        { text: sentence },
        ...(name ? [{ text: tr.t('mail.factor.named', { name }) }] : []),
        { text: tr.t('mail.factor.ok') },
        { text: tr.t('mail.factor.notYou') },
      ],
      values: { change: sentence, name },
    };
  });
}
