import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDevOutbox, isDevOutbox, createSmtpMailer, type MailLogger } from './mailer.ts';
import { passwordResetMail } from './templates.ts';

function capturingLogger(): MailLogger & { calls: { level: string; obj: object; msg: string }[] } {
  const calls: { level: string; obj: object; msg: string }[] = [];
  return {
    calls,
    info: (obj, msg) => void calls.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => void calls.push({ level: 'warn', obj, msg }),
  };
}

describe('dev outbox', () => {
  it('keeps the body for /dev/outbox but logs one line with recipient and subject only', async () => {
    const logger = capturingLogger();
    const outbox = createDevOutbox({ logger, now: () => 1_800_000_000_000 });
    const mail = passwordResetMail({ to: 'alice@example.com', link: 'https://auth.example.com/reset-password?token=SINGLE-USE-TOKEN', ttlMinutes: 30 });
    await outbox.send(mail);

    const [kept] = outbox.list();
    assert.ok(kept);
    assert.equal(kept.text, mail.text);
    assert.equal(kept.html, mail.html);
    assert.equal(kept.at, 1_800_000_000_000);
    assert.match(kept.id, /^[0-9a-f-]{36}$/);

    assert.equal(logger.calls.length, 1);
    const line = JSON.stringify(logger.calls[0]);
    assert.match(line, /alice@example\.com/);
    assert.match(line, /Reset your password/);
    assert.doesNotMatch(line, /SINGLE-USE-TOKEN|token=|reset-password/);
  });

  it('keeps only the newest `capacity` mails, newest first', async () => {
    const outbox = createDevOutbox({ capacity: 3 });
    for (let i = 1; i <= 5; i++) await outbox.send({ to: `user${i}@example.com`, subject: `mail ${i}`, text: `body ${i}` });
    assert.deepEqual(outbox.list().map((mail) => mail.subject), ['mail 5', 'mail 4', 'mail 3']);
  });

  it('holds 50 mails by default', async () => {
    const outbox = createDevOutbox();
    for (let i = 0; i < 60; i++) await outbox.send({ to: 'a@example.com', subject: `mail ${i}`, text: '' });
    assert.equal(outbox.list().length, 50);
    assert.equal(outbox.list()[0]?.subject, 'mail 59');
  });

  it('list() is a snapshot callers cannot use to alter the outbox', async () => {
    const outbox = createDevOutbox();
    await outbox.send({ to: 'a@example.com', subject: 'one', text: 'x' });
    const list = outbox.list() as unknown as { subject: string }[];
    list.pop();
    assert.equal(outbox.list().length, 1);
    assert.throws(() => {
      (outbox.list()[0] as { subject: string }).subject = 'changed';
    }, TypeError);
  });

  it('isDevOutbox tells the outbox from the SMTP mailer', async () => {
    const smtp = createSmtpMailer({ url: 'smtp://127.0.0.1:1', from: 'no-reply@example.com' });
    assert.equal(isDevOutbox(createDevOutbox()), true);
    assert.equal(isDevOutbox(smtp), false);
    assert.equal(isDevOutbox({ kind: 'dev-outbox', send: async () => {}, close: async () => {} }), false);
    await smtp.close();
  });
});
