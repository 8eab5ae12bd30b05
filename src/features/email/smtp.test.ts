/**
 * The SMTP mailer against a real SMTP server on loopback (`smtp-server`), and the promise that
 * the SMTP URL's password shows up in no error and no log line (style rule 14).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { createSmtpMailer, MailDeliveryError, type MailLogger } from './mailer.ts';

const PASSWORD = 's3cret';

interface Captured {
  from: string | undefined;
  to: string[];
  raw: string;
}

async function startServer(options: { requireAuth: boolean }): Promise<{ port: number; messages: Captured[]; close: () => Promise<void> }> {
  const messages: Captured[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authOptional: !options.requireAuth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === 'mailer' && auth.password === PASSWORD) callback(null, { user: 'mailer' });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        messages.push({
          from: from === false ? undefined : from.address,
          to: session.envelope.rcptTo.map((address) => address.address),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, messages, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function capturingLogger(): MailLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (obj, msg) => void lines.push(JSON.stringify({ level: 'info', ...obj, msg })),
    warn: (obj, msg) => void lines.push(JSON.stringify({ level: 'warn', ...obj, msg })),
  };
}

const MAIL = { to: 'alice@example.com', subject: 'Hello from the test', text: 'The body text of the test mail.', html: '<p>The body text of the test mail.</p>' };

describe('SMTP mailer', () => {
  let open: Awaited<ReturnType<typeof startServer>>;
  let authenticated: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    open = await startServer({ requireAuth: false });
    authenticated = await startServer({ requireAuth: true });
  });
  after(async () => {
    await open.close();
    await authenticated.close();
  });

  it('delivers recipient, sender, subject and body to a real SMTP server', async () => {
    const mailer = createSmtpMailer({ url: `smtp://127.0.0.1:${open.port}`, from: 'Gatehouse <no-reply@example.com>' });
    try {
      assert.equal(mailer.kind, 'smtp');
      await mailer.send(MAIL);
    } finally {
      await mailer.close();
    }
    const message = open.messages.at(-1);
    assert.ok(message);
    assert.deepEqual(message.to, ['alice@example.com']);
    assert.equal(message.from, 'no-reply@example.com');
    assert.match(message.raw, /^To: alice@example\.com\r$/m);
    assert.match(message.raw, /^From: Gatehouse <no-reply@example\.com>\r$/m);
    assert.match(message.raw, /^Subject: Hello from the test\r$/m);
    assert.match(message.raw, /The body text of the test mail\./);
    assert.match(message.raw, /Content-Type: text\/html/);
  });

  it('authenticates with the credentials in the URL and logs neither them nor the body', async () => {
    const logger = capturingLogger();
    const mailer = createSmtpMailer({ url: `smtp://mailer:${PASSWORD}@127.0.0.1:${authenticated.port}`, from: 'no-reply@example.com', logger });
    try {
      await mailer.send(MAIL);
    } finally {
      await mailer.close();
    }
    assert.equal(authenticated.messages.length, 1);
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0] ?? '', /alice@example\.com/);
    assert.doesNotMatch(logger.lines.join('\n'), new RegExp(`${PASSWORD}|body text`));
  });

  it('a rejected login fails with EAUTH and without the password', async () => {
    const logger = capturingLogger();
    const mailer = createSmtpMailer({ url: `smtp://mailer:wrong-${PASSWORD}@127.0.0.1:${authenticated.port}`, from: 'no-reply@example.com', logger });
    try {
      const error = await mailer.send(MAIL).then(() => undefined, (caught: unknown) => caught);
      assert.ok(error instanceof MailDeliveryError);
      assert.equal(error.code, 'MAIL_DELIVERY_FAILED');
      assert.equal(error.reason, 'EAUTH');
      assert.equal(error.responseCode, 535);
      assert.equal(error.cause, undefined);
      assert.doesNotMatch(`${error.message} ${error.stack ?? ''}`, new RegExp(PASSWORD));
      assert.doesNotMatch(logger.lines.join('\n'), new RegExp(PASSWORD));
    } finally {
      await mailer.close();
    }
  });

  it('a closed port rejects with an error that does not contain the URL or its password', async () => {
    const logger = capturingLogger();
    const mailer = createSmtpMailer({ url: `smtp://user:${PASSWORD}@127.0.0.1:1`, from: 'no-reply@example.com', logger });
    try {
      const error = await mailer.send(MAIL).then(() => undefined, (caught: unknown) => caught);
      assert.ok(error instanceof MailDeliveryError, 'send rejects with a MailDeliveryError');
      assert.equal(error.reason, 'ESOCKET');
      for (const text of [error.message, error.stack ?? '', JSON.stringify(error), ...logger.lines]) {
        assert.doesNotMatch(text, new RegExp(`${PASSWORD}|smtp://|127\\.0\\.0\\.1:1`));
      }
    } finally {
      await mailer.close();
    }
  });

  it('debug/logger options in the URL cannot make nodemailer print the AUTH exchange', async (t) => {
    const printed: string[] = [];
    t.mock.method(console, 'log', (...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    const mailer = createSmtpMailer({ url: `smtp://mailer:${PASSWORD}@127.0.0.1:${authenticated.port}?debug=true&logger=true&transactionLog=true`, from: 'no-reply@example.com' });
    try {
      await mailer.send(MAIL);
    } finally {
      await mailer.close();
    }
    assert.deepEqual(printed, []);
  });

  it('an unparseable URL is refused without echoing it', () => {
    assert.throws(
      () => createSmtpMailer({ url: `smtp://user:${PASSWORD}@[bad`, from: 'no-reply@example.com' }),
      (error: Error) => error instanceof TypeError && !error.message.includes(PASSWORD) && !String(error.cause ?? '').includes(PASSWORD),
    );
    assert.throws(() => createSmtpMailer({ url: `http://user:${PASSWORD}@example.com`, from: 'no-reply@example.com' }), /smtp:\/\/ or smtps:\/\//);
  });
});
