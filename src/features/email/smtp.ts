import { createTransport } from 'nodemailer';
import { MailDeliveryError } from './delivery-error.ts';
import type { Mailer, MailLogger, OutgoingMail } from './mailer.ts';

// Fail fast instead of nodemailer's defaults (2 min connect, 30 s greeting, 10 min idle): a
// request that sends mail in the background must not hold a socket for minutes.
const CONNECTION_TIMEOUT_MS = 5_000;
const GREETING_TIMEOUT_MS = 5_000;
const SOCKET_TIMEOUT_MS = 15_000;

// URL query options that would make nodemailer write the SMTP conversation — including the
// AUTH exchange, i.e. the password in base64 — to a log (style rule 14).
const LOGGING_OPTIONS = ['debug', 'logger', 'transactionLog'];

/**
 * Sends through an SMTP server given as `smtp://user:pass@host:port` (STARTTLS when offered;
 * add `?requireTLS=true` to insist on it) or `smtps://…` (implicit TLS). The URL carries a
 * password, so it appears in no log line and no error message.
 */
export function createSmtpMailer(options: { url: string; from: string; logger?: MailLogger }): Mailer {
  const transport = createTransport(
    {
      url: withoutLoggingOptions(options.url),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: GREETING_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      logger: false,
      debug: false,
    },
    { from: options.from },
  );
  const logger = options.logger;
  // nodemailer re-emits transport-level failures (a pooled connection dropping, an OAuth2
  // refresh failing) as 'error' on the transport: without a listener that would crash the
  // process (SEC-REL). Sends still fail through their own promise; this only logs, by code.
  transport.on('error', (error: unknown) => {
    logger?.warn({ reason: deliveryError(error).reason }, 'SMTP transport error');
  });

  return {
    kind: 'smtp',
    async send(mail: OutgoingMail): Promise<void> {
      try {
        await transport.sendMail({ to: mail.to, subject: mail.subject, text: mail.text, ...(mail.html === undefined ? {} : { html: mail.html }) });
      } catch (error) {
        const failure = deliveryError(error);
        logger?.warn({ to: mail.to, subject: mail.subject, reason: failure.reason, responseCode: failure.responseCode }, 'mail delivery failed');
        throw failure;
      }
      logger?.info({ to: mail.to, subject: mail.subject }, 'mail sent');
    },
    async close(): Promise<void> {
      transport.close();
    },
  };
}

function withoutLoggingOptions(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not `error.message`: Node's URL error carries the input, password included.
    throw new TypeError('the SMTP URL is not a valid URL (expected smtp://user:pass@host:port or smtps://…)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new TypeError('the SMTP URL must start with smtp:// or smtps://');
  for (const name of LOGGING_OPTIONS) url.searchParams.delete(name);
  return url.toString();
}

function deliveryError(error: unknown): MailDeliveryError {
  const source = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; responseCode?: unknown; permanent?: unknown };
  return new MailDeliveryError({
    reason: typeof source.code === 'string' && /^[A-Z_]{2,32}$/.test(source.code) ? source.code : undefined,
    responseCode: typeof source.responseCode === 'number' ? source.responseCode : undefined,
    permanent: source.permanent === true,
  });
}
