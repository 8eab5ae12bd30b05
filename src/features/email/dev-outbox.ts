import { randomUUID } from 'node:crypto';
import type { DevOutbox, Mailer, MailLogger, OutgoingMail } from './mailer.ts';

const DEFAULT_CAPACITY = 50;

/**
 * Development mail: the last `capacity` mails stay in memory for `/dev/outbox`. The log gets
 * one line per mail with recipient and subject only — bodies hold single-use links, and no
 * log line may carry a token (style rule 14).
 */
export function createDevOutbox(options: { capacity?: number; logger?: MailLogger; now?: () => number } = {}): Mailer & DevOutbox {
  const capacity = Math.max(1, Math.floor(options.capacity ?? DEFAULT_CAPACITY));
  const now = options.now ?? Date.now;
  const mails: (OutgoingMail & { id: string; at: number })[] = [];

  return {
    kind: 'dev-outbox',
    async send(mail: OutgoingMail): Promise<void> {
      const stored = Object.freeze({ ...mail, id: randomUUID(), at: now() });
      mails.push(stored);
      if (mails.length > capacity) mails.splice(0, mails.length - capacity);
      options.logger?.info({ to: mail.to, subject: mail.subject, mailId: stored.id }, 'mail kept in the dev outbox (GET /dev/outbox)');
    },
    async close(): Promise<void> {},
    list() {
      return mails.toReversed();
    },
  };
}
