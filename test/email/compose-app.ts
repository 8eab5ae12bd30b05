/** A small Fastify app whose one route composes every mail inside a real request (language, brand, overrides). */
import Fastify, { type FastifyInstance } from 'fastify';
import { registerI18n } from '../../src/ui/i18n/index.ts';
import { DEFAULT_THEME, setTheme, type Brand } from '../../src/ui/theme/brand.ts';
import { registerMailTemplates } from '../../src/features/email/overrides.ts';
import type { OutgoingMail } from '../../src/features/email/mailer.ts';
import { accountDeletedMail, alreadyRegisteredMail, emailChangeConfirmMail, emailChangedMail, linkIdentityMail, lockoutMail, passwordChangedMail, passwordResetMail, verificationMail } from '../../src/features/email/templates.ts';
import { factorChangeMail } from '../../src/features/mfa/mails.ts';

export const EVIL = '"><script>alert(1)</script>@example.com';
export const LINK = 'https://auth.example.com/x?token=abc&y="<b>"';

export function allMails(to: string): Record<string, OutgoingMail> {
  return {
    verification: verificationMail({ to, link: LINK, ttlMinutes: 60 }),
    'already-registered': alreadyRegisteredMail({ to, signInLink: LINK, resetLink: LINK }),
    'password-reset': passwordResetMail({ to, link: LINK, ttlMinutes: 30 }),
    'link-identity': linkIdentityMail({ to, providerName: '<Evil> Corp', link: LINK, ttlMinutes: 15 }),
    'password-changed': passwordChangedMail({ to }),
    lockout: lockoutMail({ to, waitMinutes: 15 }),
    'email-change-confirm': emailChangeConfirmMail({ to, link: LINK, ttlMinutes: 1440 }),
    'email-changed': emailChangedMail({ to, newEmail: 'new<i>@example.com', undoLink: LINK, ttlMinutes: 7 * 1440 }),
    'account-deleted': accountDeletedMail({ to }),
    'factor-change': factorChangeMail({ to, change: 'totp-added', name: '<b>phone</b>' }),
  };
}

export async function composeApp(options: { brand?: Partial<Brand>; mailTemplateDir?: string } = {}): Promise<FastifyInstance> {
  const app = Fastify();
  setTheme(app, { ...DEFAULT_THEME, brand: { ...DEFAULT_THEME.brand, ...options.brand } });
  registerI18n(app, { defaultLocale: 'en' });
  registerMailTemplates(app, { mailTemplateDir: options.mailTemplateDir });
  app.get<{ Querystring: { to?: string } }>('/compose', async (request) => allMails(request.query.to ?? EVIL));
  await app.ready();
  return app;
}

export async function composed(app: FastifyInstance, language = 'en', to?: string): Promise<Record<string, OutgoingMail>> {
  const response = await app.inject({ url: `/compose${to ? `?to=${encodeURIComponent(to)}` : ''}`, headers: { 'accept-language': language } });
  if (response.statusCode !== 200) throw new Error(response.body);
  return response.json() as Record<string, OutgoingMail>;
}
