import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { apiError } from '../../errors/catalog.ts';
import type { Csrf } from '../../http/csrf.ts';
import { addVaryAccept, prefersHtml } from '../../http/accept.ts';
import { sendError } from '../../http/errors.ts';
import { html } from '../html.ts';
import { translatorFor } from '../i18n/index.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET } from '../routes.ts';
import { currentBrand } from '../theme/brand.ts';
import { languagePicker } from './language.ts';

/** Where the development outbox lives when it is mounted (src/features/email/dev-outbox-route.ts). */
const DEV_OUTBOX_PATH = '/dev/outbox';

/** Commands, settings and file names the start page quotes: code, the same in every language. */
const CODE = {
  firstAdminCommand: 'npm run gatehouse -- users create --email you@example.com --admin',
  passwordStdin: '--password-stdin',
  envSetting: 'GATEHOUSE_ENV=development',
  smtpSetting: 'GATEHOUSE_SMTP_URL',
  docsFolder: 'docs/',
  docsFiles: ['configuration.md', 'oauth.md', 'clients.md', 'accounts-and-sessions.md'],
} as const;

/**
 * `GET /`: the start page for browsers, and the JSON `not_found` for everyone else (an API
 * client that asks for `/` gets what it got before). Chosen by Accept (src/http/accept.ts).
 */
export function registerStartPage(app: FastifyInstance, deps: { config: Pick<Config, 'env'>; csrf: Csrf }): void {
  const development = deps.config.env === 'development';
  let outboxMounted: boolean | undefined;

  app.get('/', PAGE_GET, async (request, reply) => {
    addVaryAccept(reply);
    if (!prefersHtml(request)) return sendError(request, reply, apiError('not_found', 'No such endpoint.'));
    const tr = translatorFor(request);
    // Asked here, not at registration: the outbox route is mounted after the pages.
    outboxMounted ??= app.hasRoute({ method: 'GET', url: DEV_OUTBOX_PATH });
    const code = (text: string) => html`<code>${text}</code>`;
    const devSection = development
      ? html`<h2>${tr.t('signIn.start.development')}</h2>
<p class="hint">${tr.tHtml('signIn.start.developmentHint', { setting: code(CODE.envSetting) })}</p>
<p>${outboxMounted ? html`<a href="${DEV_OUTBOX_PATH}">${tr.t('signIn.start.outbox')}</a>: ${tr.t('signIn.start.outboxHint')}` : tr.tHtml('signIn.start.smtp', { setting: code(CODE.smtpSetting) })}</p>
<p>${tr.t('signIn.start.firstAdmin')}</p>
<pre><code>${CODE.firstAdminCommand}</code></pre>
<p class="hint">${tr.tHtml('signIn.start.firstAdminHint', { option: code(CODE.passwordStdin) })}</p>
<p>${tr.tHtml('signIn.start.docs', { folder: code(CODE.docsFolder), files: tr.list(CODE.docsFiles) })}</p>
<ul class="start">
<li><a href="/openapi.json">${tr.t('signIn.start.openapi')}</a></li>
<li><a href="/.well-known/openid-configuration">${tr.t('signIn.start.discovery')}</a></li>
</ul>`
      : '';
    return sendPage(reply, {
      title: tr.t('signIn.start.title'),
      body: html`<h1>${currentBrand().productName}</h1>
<p>${tr.t('signIn.start.intro')}</p>
<ul class="start">
<li><a href="/login">${tr.t('signIn.title')}</a></li>
<li><a href="/signup">${tr.t('signIn.signUp.title')}</a></li>
<li><a href="/account">${tr.t('signIn.start.account')}</a> <span class="hint">— ${tr.t('signIn.start.accountHint')}</span></li>
</ul>
${devSection}
${languagePicker(tr, { csrfToken: deps.csrf.formToken(request, reply), back: '/' })}`,
    });
  });
}
