import { escapeHtml, isHttpUrl } from './html.ts';
import type { OutgoingMail } from './mailer.ts';

/**
 * The mails the accounts feature sends. Links arrive fully built from the configured public URL
 * (never the Host header); every interpolated value is HTML-escaped in the HTML part.
 */

const PRODUCT = 'Gatehouse';

export function verificationMail(input: { to: string; link: string; ttlMinutes: number }): OutgoingMail {
  return compose(input.to, 'Confirm your email address', [
    { text: `Someone — hopefully you — created an account for ${input.to}.` },
    { text: 'Confirm this address by opening the link below:' },
    { link: requireHttpUrl(input.link), label: 'Confirm my email address' },
    { text: `The link works once and expires in ${minutes(input.ttlMinutes)}. If you did not sign up, ignore this mail.` },
  ]);
}

/** Sent instead of a verification mail when the address already has an account (no enumeration). */
export function alreadyRegisteredMail(input: { to: string; signInLink: string; resetLink: string }): OutgoingMail {
  return compose(input.to, 'Someone tried to sign up with your address', [
    { text: `Someone tried to create a new account for ${input.to}, but this address already has one.` },
    { text: 'If it was you, sign in instead:' },
    { link: requireHttpUrl(input.signInLink), label: 'Sign in' },
    { text: 'Forgot your password? Choose a new one:' },
    { link: requireHttpUrl(input.resetLink), label: 'Reset my password' },
    { text: 'If it was not you, you can ignore this mail: nothing was changed.' },
  ]);
}

export function passwordResetMail(input: { to: string; link: string; ttlMinutes: number }): OutgoingMail {
  return compose(input.to, 'Reset your password', [
    { text: `Someone asked to reset the password of the account ${input.to}.` },
    { text: 'Choose a new password by opening the link below:' },
    { link: requireHttpUrl(input.link), label: 'Choose a new password' },
    { text: `The link works once and expires in ${minutes(input.ttlMinutes)}. If you did not ask for it, ignore this mail: your password stays as it is.` },
  ]);
}

/** Proof of the address before an upstream identity is linked to its account (social login). */
export function linkIdentityMail(input: { to: string; providerName: string; link: string; ttlMinutes: number }): OutgoingMail {
  return compose(input.to, `Link your ${input.providerName} account`, [
    { text: `Someone — hopefully you — signed in with ${input.providerName} using the address ${input.to}, which already has an account.` },
    { text: `To link that ${input.providerName} account to yours, open the link below in the same browser:` },
    { link: requireHttpUrl(input.link), label: `Link my ${input.providerName} account` },
    { text: `The link works once and expires in ${minutes(input.ttlMinutes)}. If it was not you, ignore this mail: nothing is linked.` },
  ]);
}

/** A notification only: it carries no link that signs anyone in. */
export function passwordChangedMail(input: { to: string }): OutgoingMail {
  return compose(input.to, 'Your password was changed', [
    { text: `The password of the account ${input.to} was just changed, and its other sessions were signed out.` },
    { text: 'If you did this, there is nothing else to do.' },
    { text: 'If you did not, reset your password from the sign-in page right away and tell your administrator.' },
  ]);
}

/**
 * Sent once when sign-in to the account is paused after repeated wrong passwords (SEC-PWD-14,
 * SEC-PWD-17). A notification only: no link, nothing that signs anyone in.
 */
export function lockoutMail(input: { to: string; waitMinutes: number }): OutgoingMail {
  return compose(input.to, 'Sign-in to your account was paused', [
    { text: `Someone entered a wrong password for the account ${input.to} several times, so password sign-in was paused for ${minutes(input.waitMinutes)} on devices that have not signed in to it before.` },
    { text: 'Your password was not revealed and nothing was changed. Browsers where you have already signed in, or reset the password, can still sign in.' },
    { text: 'If it was you, wait and try again. If it was not you, you can reset your password from the sign-in page; choose one you use nowhere else.' },
    { text: 'We send this notice at most once a day, however many attempts follow.' },
  ]);
}

type Block = { text: string } | { link: string; label: string };

function compose(to: string, title: string, blocks: Block[]): OutgoingMail {
  const subject = `${PRODUCT}: ${title}`;
  const text = [...blocks.map((block) => ('text' in block ? block.text : block.link)), '', `— ${PRODUCT}`].join('\n\n').replace(/\n{3,}/g, '\n\n') + '\n';
  const body = blocks
    .map((block) => ('text' in block
      ? `<p>${escapeHtml(block.text)}</p>`
      : `<p><a href="${escapeHtml(block.link)}">${escapeHtml(block.label)}</a><br>${escapeHtml(block.link)}</p>`))
    .join('\n');
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>\n<body>\n${body}\n<p>— ${PRODUCT}</p>\n</body></html>\n`;
  return { to, subject, text, html };
}

function minutes(count: number): string {
  return count === 1 ? '1 minute' : `${count} minutes`;
}

/** Defence in depth: a mail link is an absolute http(s) URL, never `javascript:` or relative. */
function requireHttpUrl(link: string): string {
  if (!isHttpUrl(link)) throw new TypeError('mail links must be absolute http(s) URLs');
  return link;
}
