import type { FastifyInstance } from 'fastify';
import { escapeHtml } from './html.ts';
import type { DevOutbox } from './mailer.ts';

/**
 * `GET /dev/outbox` (HTML) and `GET /dev/outbox.json`: the mails the development outbox kept.
 * Development mode only — the caller registers it only there; the bodies hold live links.
 */
export function registerDevOutboxRoute(app: FastifyInstance, outbox: DevOutbox): void {
  app.get('/dev/outbox.json', { schema: { hide: true } }, async () => ({ mails: outbox.list() }));

  app.get('/dev/outbox', { schema: { hide: true } }, async (_request, reply) => {
    const mails = outbox.list();
    const items = mails.map((mail) => [
      '<article>',
      `<h2>${escapeHtml(mail.subject)}</h2>`,
      `<p>To: ${escapeHtml(mail.to)}<br>At: ${escapeHtml(new Date(mail.at).toISOString())}</p>`,
      `<pre>${linkify(mail.text)}</pre>`,
      '</article>',
    ].join('\n'));
    const page = [
      '<!doctype html>',
      '<html lang="en"><head><meta charset="utf-8"><title>Dev outbox</title></head><body>',
      '<h1>Dev outbox</h1>',
      `<p>${mails.length === 0 ? 'No mail yet.' : `${mails.length} mail(s), newest first.`} Development mode only.</p>`,
      ...items,
      '</body></html>',
    ].join('\n');
    return reply.type('text/html; charset=utf-8').send(page);
  });
}

const HTTP_URL = /https?:\/\/[^\s<>"']+/g;

/** Escapes mail text and turns its http(s) URLs into links. */
export function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const match of text.matchAll(HTTP_URL)) {
    const url = match[0];
    out += escapeHtml(text.slice(last, match.index));
    out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = match.index + url.length;
  }
  return out + escapeHtml(text.slice(last));
}
