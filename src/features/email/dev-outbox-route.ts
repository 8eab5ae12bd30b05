import type { FastifyInstance } from 'fastify';
import { html, unsafeRaw, type SafeHtml } from '../../ui/html.ts';
import { translatorFor } from '../../ui/i18n/index.ts';
import { sendPage } from '../../ui/layout.ts';
import { escapeHtml } from './html.ts';
import type { DevOutbox } from './mailer.ts';

/**
 * The HTML part of a kept mail, alone: the outbox page frames it. It is served under a CSP of its
 * own — no script, no fetch, inline styles only (mails carry them), a sandbox that gives it an
 * opaque origin — and may be framed by this origin only. The outbox page itself keeps the nonce
 * CSP of every page, plus `frame-src 'self'` for these frames.
 */
const MAIL_PART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox";
const ID = /^[0-9a-f-]{36}$/;

/**
 * `GET /dev/outbox` (a page), `GET /dev/outbox/:id/html` (one HTML part) and
 * `GET /dev/outbox.json`: the mails the development outbox kept. Development mode only — the
 * caller registers it only there; the bodies hold live links.
 */
export function registerDevOutboxRoute(app: FastifyInstance, outbox: DevOutbox): void {
  app.get('/dev/outbox.json', { schema: { hide: true } }, async () => ({ mails: outbox.list() }));

  app.get<{ Params: { id: string } }>('/dev/outbox/:id/html', { schema: { hide: true } }, async (request, reply) => {
    const mail = ID.test(request.params.id) ? outbox.list().find((item) => item.id === request.params.id) : undefined;
    if (!mail?.html) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
    return reply
      .header('content-security-policy', MAIL_PART_CSP)
      .header('x-frame-options', 'SAMEORIGIN')
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(mail.html);
  });

  app.get('/dev/outbox', {
    schema: { hide: true },
    // The page's own CSP (set by sendPage) plus the frames of the HTML parts above.
    onSend: async (_request, reply, payload) => {
      const csp = reply.getHeader('content-security-policy');
      if (typeof csp === 'string' && !csp.includes('frame-src')) reply.header('content-security-policy', `${csp}; frame-src 'self'`);
      return payload;
    },
  }, async (request, reply) => {
    const tr = translatorFor(request);
    const mails = outbox.list();
    const items = mails.map((mail) => html`<article class="outbox-mail">
<h2>${mail.subject}</h2>
<dl>
<dt>${tr.t('mail.outbox.to')}</dt><dd>${mail.to}</dd>
<dt>${tr.t('mail.outbox.at')}</dt><dd><time datetime="${new Date(mail.at).toISOString()}">${tr.dateTime(mail.at)}</time></dd>
</dl>
<h3>${tr.t('mail.outbox.textPart')}</h3>
<pre>${linkified(mail.text)}</pre>
<h3>${tr.t('mail.outbox.htmlPart')}</h3>
${mail.html
    ? html`<iframe src="/dev/outbox/${mail.id}/html" sandbox="" title="${tr.t('mail.outbox.frameTitle', { subject: mail.subject })}" width="100%" height="520" loading="lazy"></iframe>
<details><summary>${tr.t('mail.outbox.htmlSource')}</summary><pre>${mail.html}</pre></details>`
    : html`<p>${tr.t('mail.outbox.noHtml')}</p>`}
</article>`);
    return sendPage(reply, {
      title: tr.t('mail.outbox.title'),
      width: 'wide',
      body: html`<h1>${tr.t('mail.outbox.title')}</h1>
<p>${tr.t('mail.outbox.intro')}</p>
<p>${mails.length === 0 ? tr.t('mail.outbox.empty') : tr.t('mail.outbox.count', { count: mails.length })}</p>
${items}`,
    });
  });
}

/** `linkify` as SafeHtml: its output escapes everything but the links it makes. */
function linkified(text: string): SafeHtml {
  return unsafeRaw(linkify(text));
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
