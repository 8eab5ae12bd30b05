import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { MailTemplateError, loadMailTemplateOverrides, registerMailTemplates } from '../../src/features/email/overrides.ts';
import { composeApp, composed } from './compose-app.ts';

function directory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mail-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

describe('mail template overrides (mailTemplateDir)', () => {
  const dirs: string[] = [];
  const make = (files: Record<string, string>) => {
    const dir = directory(files);
    dirs.push(dir);
    return dir;
  };
  let app: FastifyInstance;
  before(async () => {
    app = await composeApp({
      mailTemplateDir: make({
        'verification.en.txt': 'Subject: Welcome to {{productName}}\n\nHi {{to}}, confirm here: {{link}} (valid {{ttl}}).\n',
        'verification.en.html': '<p>Hi {{to}}, <a href="{{link}}">confirm</a> within {{ttl}}.</p>\n',
        'password-changed.de.txt': 'Passwort von {{ to }} geändert.\n',
      }),
    });
  });
  after(async () => {
    await app.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('replaces subject, text and HTML; substitutes raw in text and always escaped in HTML', async () => {
    const mail = (await composed(app, 'en'))['verification']!;
    assert.equal(mail.subject, 'Welcome to Gatehouse');
    assert.ok(mail.text.startsWith('Hi "><script>alert(1)</script>@example.com, confirm here: https://auth.example.com/x?token=abc&y="<b>" (valid 1 hour).'), mail.text);
    assert.equal(mail.html, '<p>Hi &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.com, <a href="https://auth.example.com/x?token=abc&amp;y=&quot;&lt;b&gt;&quot;">confirm</a> within 1 hour.</p>\n');
  });

  it('a missing file falls back to the built-in mail: other templates, other languages, the other part', async () => {
    const english = await composed(app, 'en', 'a@example.com');
    assert.match(english['password-reset']!.subject, /^Gatehouse: Reset your password$/);
    const german = await composed(app, 'de', 'a@example.com');
    assert.match(german.verification!.subject, /Bestätigen Sie/, 'no German override: the built-in German mail');
    assert.equal(german['password-changed']!.text, 'Passwort von a@example.com geändert.\n');
    assert.match(german['password-changed']!.html!, /Ihr Passwort wurde geändert/, 'no .html override: the built-in HTML part');
    assert.match(german['password-changed']!.subject, /Ihr Passwort wurde geändert/);
  });

  it('refuses at start-up: unknown placeholder, template, locale or file name, and a missing directory — naming the file', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 'verification.en.txt': 'Hello {{firstName}}' }, /verification\.en\.txt: unknown placeholder \{\{firstName\}\}/],
      [{ 'lockout.en.html': 'Your link: {{link}}' }, /lockout\.en\.html: unknown placeholder \{\{link\}\}/],
      [{ 'welcome.en.txt': 'Hi' }, /welcome\.en\.txt: no mail template "welcome"/],
      [{ 'verification.it.txt': 'Ciao' }, /"it" is not a supported locale/],
      [{ 'README.md': 'notes' }, /README\.md is not named <template>\.<locale>\.txt or \.html/],
    ];
    for (const [files, message] of cases) assert.throws(() => loadMailTemplateOverrides(make(files)), (error: unknown) => error instanceof MailTemplateError && message.test(error.message));
    assert.throws(() => loadMailTemplateOverrides(join(tmpdir(), 'no-such-gatehouse-dir')), MailTemplateError);
    assert.throws(() => registerMailTemplates(Fastify(), { mailTemplateDir: make({ 'verification.en.txt': '{{nope}}' }) }), MailTemplateError);
  });

  it('without the key, nothing is loaded and the built-in mails are used', async () => {
    const plain = await composeApp();
    try {
      assert.match((await composed(plain)).verification!.subject, /^Gatehouse: Confirm your email address$/);
    } finally {
      await plain.close();
    }
  });
});
