/**
 * Outgoing mail: the port the accounts feature sends through, and its two adapters —
 * SMTP (production) and the in-memory development outbox (`/dev/outbox`).
 */

/** One message. `text` is always sent; `html` is the optional alternative part. */
export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html?: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'dev-outbox';
  /** Delivers one mail; rejects with a {@link MailDeliveryError} that never carries the SMTP URL. */
  send(mail: OutgoingMail): Promise<void>;
  close(): Promise<void>;
}

export interface DevOutbox {
  /** The mails kept in memory, newest first. */
  list(): readonly (OutgoingMail & { id: string; at: number })[];
}

/** Tells the dev outbox apart from other mailers (`'list' in mailer` narrows to `Record<'list', unknown>` only). */
export function isDevOutbox(mailer: Mailer): mailer is Mailer & DevOutbox {
  return mailer.kind === 'dev-outbox' && typeof (mailer as Partial<DevOutbox>).list === 'function';
}

/** The subset of a pino / Fastify logger the mailers write to. */
export interface MailLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export { MailDeliveryError } from './delivery-error.ts';
export { createSmtpMailer } from './smtp.ts';
export { createDevOutbox } from './dev-outbox.ts';
