import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { apiError } from '../../errors/catalog.ts';
import { addVaryAccept, prefersHtml } from '../../http/accept.ts';
import { sendError } from '../../http/errors.ts';
import { html } from '../html.ts';
import { sendPage } from '../layout.ts';
import { PAGE_GET } from '../routes.ts';

/** Where the development outbox lives when it is mounted (src/features/email/dev-outbox-route.ts). */
const DEV_OUTBOX_PATH = '/dev/outbox';

/** Every word of the start page, in one place. */
const TEXT = {
  title: 'Gatehouse',
  pageTitle: 'Start',
  intro: 'This server signs people in for your applications.',
  signIn: 'Sign in',
  signUp: 'Create an account',
  account: 'Your account',
  accountHint: 'profile, email, password, sessions and the applications you allowed',
  development: 'Development',
  developmentHint: 'This section is shown only in development (GATEHOUSE_ENV=development).',
  outbox: 'Outbox',
  outboxHint: 'the mails Gatehouse would have sent: email confirmations and password-reset links.',
  smtp: 'Mail goes out through the SMTP server in GATEHOUSE_SMTP_URL.',
  firstAdmin: 'Create the first admin from the command line:',
  firstAdminHint: 'It prints a generated password once; add --password-stdin to type your own.',
  firstAdminCommand: 'npm run gatehouse -- users create --email you@example.com --admin',
  docs: 'Documentation:',
  docsHint: 'the guides are in the docs/ folder of the repository and of the npm package: configuration.md, oauth.md, clients.md, accounts-and-sessions.md.',
  openapi: 'HTTP API (OpenAPI)',
  discovery: 'OpenID Connect discovery',
} as const;

/**
 * `GET /`: the start page for browsers, and the JSON `not_found` for everyone else (an API
 * client that asks for `/` gets what it got before). Chosen by Accept (src/http/accept.ts).
 */
export function registerStartPage(app: FastifyInstance, deps: { config: Pick<Config, 'env'> }): void {
  const development = deps.config.env === 'development';
  let outboxMounted: boolean | undefined;

  app.get('/', PAGE_GET, async (request, reply) => {
    addVaryAccept(reply);
    if (!prefersHtml(request)) return sendError(request, reply, apiError('not_found', 'No such endpoint.'));
    // Asked here, not at registration: the outbox route is mounted after the pages.
    outboxMounted ??= app.hasRoute({ method: 'GET', url: DEV_OUTBOX_PATH });
    const devSection = development
      ? html`<h2>${TEXT.development}</h2>
<p class="hint">${TEXT.developmentHint}</p>
<p>${outboxMounted ? html`<a href="${DEV_OUTBOX_PATH}">${TEXT.outbox}</a>: ${TEXT.outboxHint}` : TEXT.smtp}</p>
<p>${TEXT.firstAdmin}</p>
<pre><code>${TEXT.firstAdminCommand}</code></pre>
<p class="hint">${TEXT.firstAdminHint}</p>
<p>${TEXT.docs} ${TEXT.docsHint}</p>
<ul class="start">
<li><a href="/openapi.json">${TEXT.openapi}</a></li>
<li><a href="/.well-known/openid-configuration">${TEXT.discovery}</a></li>
</ul>`
      : '';
    return sendPage(reply, {
      title: TEXT.pageTitle,
      body: html`<h1>${TEXT.title}</h1>
<p>${TEXT.intro}</p>
<ul class="start">
<li><a href="/login">${TEXT.signIn}</a></li>
<li><a href="/signup">${TEXT.signUp}</a></li>
<li><a href="/account">${TEXT.account}</a> <span class="hint">— ${TEXT.accountHint}</span></li>
</ul>
${devSection}`,
    });
  });
}
