/**
 * Delivery failed. The message names the step that failed (`ECONNECTION`, `EAUTH`, an SMTP reply
 * code) but never the SMTP URL or its credentials, and the library error is not kept as `cause`
 * (its properties may include the server conversation).
 */
export class MailDeliveryError extends Error {
  readonly code = 'MAIL_DELIVERY_FAILED';
  /** Nodemailer's error code (`ECONNECTION`, `EAUTH`, `ETIMEDOUT`, `EENVELOPE` …) when known. */
  readonly reason: string | undefined;
  /** The SMTP reply code when the server answered with an error. */
  readonly responseCode: number | undefined;
  /** True when the server rejected the message for good (5xx): retrying will not help. */
  readonly permanent: boolean;

  constructor(details: { reason?: string | undefined; responseCode?: number | undefined; permanent?: boolean | undefined }) {
    const parts = [details.reason, details.responseCode].filter((part) => part !== undefined);
    super(`mail delivery failed${parts.length > 0 ? ` (${parts.join(' ')})` : ''}`);
    this.name = 'MailDeliveryError';
    this.reason = details.reason;
    this.responseCode = details.responseCode;
    this.permanent = details.permanent ?? false;
  }
}
