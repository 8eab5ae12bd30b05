import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { MAIL_TEMPLATES } from '../../src/features/email/template-ids.ts';
import { escapeHtml } from '../../src/features/email/html.ts';
import { EVIL, LINK, composeApp, composed } from './compose-app.ts';

describe('mails: translated, branded, escaped, no remote content', () => {
  let plain: FastifyInstance;
  let branded: FastifyInstance;
  before(async () => {
    plain = await composeApp();
    branded = await composeApp({ brand: { productName: 'Acme <Notes>', accentColor: '#8a1538', supportUrl: 'https://help.acme.example/' } });
  });
  after(async () => {
    await plain.close();
    await branded.close();
  });

  it('every template has a text and an HTML part, escapes every value, and loads nothing remote', async () => {
    const mails = await composed(plain);
    assert.deepEqual(Object.keys(mails).sort(), Object.keys(MAIL_TEMPLATES).sort());
    for (const [name, mail] of Object.entries(mails)) {
      assert.ok(mail.text.length > 0 && mail.html, name);
      assert.doesNotMatch(mail.html, /<script|<b>|<i>|<Evil>|<img|url\(|@import|src=/i, `${name}: escaped, no images or remote styles`);
      assert.doesNotMatch(mail.subject, /[\r\n]/, name);
      assert.match(mail.subject, /^Gatehouse: /, name);
      assert.match(mail.text, /— Gatehouse\n/, `${name}: signed`);
      if (mail.html.includes('<a ')) assert.ok(mail.html.includes(`href="${escapeHtml(LINK)}"`), `${name}: links escaped in href`);
      assert.ok(mail.html.includes(escapeHtml(EVIL)), `${name}: the address escaped in the footer`);
    }
  });

  it('German, French and Spanish readers get their language in subject, text and <html lang>', async () => {
    const expected = { de: /Bestätigen Sie Ihre E-Mail-Adresse/, fr: /Confirmez votre adresse e-mail/, es: /Confirme su dirección de correo electrónico/ } as const;
    for (const [language, title] of Object.entries(expected)) {
      const mails = await composed(plain, language, 'a@example.com');
      assert.match(mails.verification!.subject, title, language);
      assert.match(mails.verification!.html!, new RegExp(`<html lang="${language}"`), language);
      assert.doesNotMatch(mails.verification!.text, /Confirm this address/, `${language}: no English left`);
      assert.doesNotMatch(mails['factor-change']!.text, /If this was you/, `${language}: MFA notices too`);
    }
    const german = await composed(plain, 'de', 'a@example.com');
    assert.match(german.verification!.text, /1 Stunde/, 'durations through Intl');
    assert.match(german.lockout!.text, /15 Minuten/);
  });

  it('carries the brand: product name in subject and signature, accent colour in the HTML part, support link', async () => {
    const mails = await composed(branded, 'en', 'a@example.com');
    for (const [name, mail] of Object.entries(mails)) {
      assert.match(mail.subject, /^Acme <Notes>: /, name);
      assert.match(mail.text, /— Acme <Notes>/, name);
      assert.ok(mail.html!.includes('Acme &lt;Notes&gt;'), `${name}: escaped product name`);
      assert.ok(mail.html!.includes('#8a1538'), `${name}: accent colour`);
      assert.doesNotMatch(mail.html!, /Gatehouse/, name);
      assert.ok(mail.html!.includes('href="https://help.acme.example/"'), `${name}: support link`);
    }
    assert.match((await composed(branded, 'en', 'a@example.com'))['email-change-confirm']!.text, /Acme <Notes> account/);
  });

  it('two apps in one process keep their own brand', async () => {
    assert.match((await composed(plain)).verification!.subject, /^Gatehouse: /);
    assert.match((await composed(branded)).verification!.subject, /^Acme <Notes>: /);
  });
});
