import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from './html.ts';
import { alreadyRegisteredMail, lockoutMail, passwordChangedMail, passwordResetMail, verificationMail } from './templates.ts';

const EVIL = '"><script>alert(1)</script>@example.com';
const LINK = 'https://auth.example.com/verify-email?token=abc&x="<b>"';

describe('mail templates', () => {
  it('escapeHtml escapes the five HTML-significant characters', () => {
    assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  const mails = {
    verification: verificationMail({ to: EVIL, link: LINK, ttlMinutes: 60 }),
    alreadyRegistered: alreadyRegisteredMail({ to: EVIL, signInLink: LINK, resetLink: LINK }),
    passwordReset: passwordResetMail({ to: EVIL, link: LINK, ttlMinutes: 30 }),
    passwordChanged: passwordChangedMail({ to: EVIL }),
    lockout: lockoutMail({ to: EVIL, waitMinutes: 1 }),
  };

  for (const [name, mail] of Object.entries(mails)) {
    it(`${name}: escapes <script> in the address and quotes in links; text and HTML both present`, () => {
      assert.equal(mail.to, EVIL);
      assert.ok(mail.text.length > 0);
      assert.ok(mail.html);
      assert.doesNotMatch(mail.html, /<script>|<b>|x="|@example\.com"/);
      assert.match(mail.html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
      assert.doesNotMatch(mail.subject, /[\r\n]/);
    });
  }

  it('links appear verbatim in the text part and escaped inside href', () => {
    const mail = mails.verification;
    assert.ok(mail.text.includes(LINK));
    assert.ok(mail.html?.includes(`href="${escapeHtml(LINK)}"`));
    assert.match(mail.text, /1 hour/);
  });

  it('the already-registered mail offers sign-in and reset, not a verification link', () => {
    const mail = alreadyRegisteredMail({ to: 'a@example.com', signInLink: 'https://auth.example.com/login', resetLink: 'https://auth.example.com/forgot-password' });
    assert.match(mail.subject, /tried to sign up/);
    assert.ok(mail.text.includes('https://auth.example.com/login'));
    assert.ok(mail.text.includes('https://auth.example.com/forgot-password'));
  });

  it('the password-changed notification carries no link', () => {
    const mail = passwordChangedMail({ to: 'a@example.com' });
    assert.doesNotMatch(mail.text, /https?:\/\//);
    assert.doesNotMatch(mail.html ?? '', /<a |https?:\/\//);
  });

  it('the lockout notification (SEC-PWD-14, SEC-PWD-17) says how long and carries no link', () => {
    const mail = lockoutMail({ to: 'a@example.com', waitMinutes: 15 });
    assert.match(mail.subject, /paused/);
    assert.match(mail.text, /15 minutes/);
    assert.doesNotMatch(mail.text, /https?:\/\//);
    assert.doesNotMatch(mail.html ?? '', /<a |https?:\/\//);
  });

  it('refuses links that are not absolute http(s) URLs', () => {
    assert.throws(() => verificationMail({ to: 'a@example.com', link: 'javascript:alert(1)', ttlMinutes: 5 }), TypeError);
    assert.throws(() => passwordResetMail({ to: 'a@example.com', link: '/reset-password?token=x', ttlMinutes: 5 }), TypeError);
  });
});
