/**
 * A real SMTP server on loopback (`smtp-server`) that keeps every message, for tests that
 * follow a mailed link the way a person would.
 */
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer } from 'smtp-server';
import { plainText } from './mime.ts';

export interface CapturedMail {
  to: string[];
  raw: string;
  /** The decoded text/plain part. */
  text: string;
}

export interface SmtpCapture {
  readonly port: number;
  readonly messages: readonly CapturedMail[];
  /** Waits (bounded) for a message to `to` whose text matches `pattern`; returns the match. */
  waitFor(to: string, pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  close(): Promise<void>;
}

export async function startSmtpCapture(): Promise<SmtpCapture> {
  const messages: CapturedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({ to: session.envelope.rcptTo.map((address) => address.address), raw, text: plainText(raw) });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    messages,
    async waitFor(to, pattern, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        for (const message of messages) {
          const match = message.to.includes(to) ? pattern.exec(message.text) : null;
          if (match) return match;
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${pattern} within ${timeoutMs} ms (${messages.length} captured)`);
        await sleep(50);
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
