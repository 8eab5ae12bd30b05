import type { FastifyReply, FastifyRequest } from 'fastify';
import { csrfInput, hiddenInput } from '../../../ui/forms.ts';
import { html } from '../../../ui/html.ts';
import { translatorFor } from '../../../ui/i18n/index.ts';
import { formActionSource, sendPage, type ClientBrand } from '../../../ui/layout.ts';
import { scopeDescriptions } from '../../../ui/scopes.ts';
import type { Client } from '../../clients/model.ts';

/** What the pages show of a registered client: its name, logo and links (RFC 7591 §2). */
export function clientBrand(client: Client): ClientBrand {
  return { name: client.name, logoUri: client.logoUri, clientUri: client.clientUri, policyUri: client.policyUri, tosUri: client.tosUri };
}

/** The host a redirect URI leads to ("app.example"), or the URI itself for private-use schemes. */
function redirectHost(redirectUri: string): string {
  try {
    return new URL(redirectUri).host || redirectUri;
  } catch {
    return redirectUri;
  }
}

export interface ConsentView {
  interactionId: string;
  client: Client;
  email: string;
  scope: readonly string[];
  redirectUri: string;
  csrfToken: string;
  /** The authorization request's `ui_locales`, resolved: the answer (and its error pages) keep the language. */
  locale: string | undefined;
}

/**
 * The consent page (OAuth 2.1 §4.1.1 "obtain authorization"): the client by name, the signed-in
 * user, what each scope lets it do in plain words (src/ui/scopes.ts), where the answer goes.
 */
export function sendConsentPage(request: FastifyRequest, reply: FastifyReply, view: ConsentView): FastifyReply {
  const tr = translatorFor(request);
  const client = view.client;
  const name = html`<strong>${client.name}</strong>`;
  const source = formActionSource(view.redirectUri);
  return sendPage(reply, {
    title: tr.t('oauth.consent.title', { client: client.name }),
    client: clientBrand(client),
    formAction: source ? [source] : [],
    body: html`<h1>${tr.tHtml('oauth.consent.heading', { client: name })}</h1>
<p>${tr.tHtml('oauth.consent.signedInAs', { email: html`<strong>${view.email}</strong>` })}</p>
<p>${tr.tHtml('oauth.consent.wantsTo', { client: name, clientId: html`<code>${client.clientId}</code>` })}</p>
<ul>${scopeDescriptions(tr, view.scope).map((text) => html`<li>${text}</li>`)}</ul>
<p>${tr.tHtml('oauth.consent.redirectNote', { host: html`<strong>${redirectHost(view.redirectUri)}</strong>` })}</p>
<form method="post" action="/oauth/authorize/consent">
${csrfInput(view.csrfToken)}
${hiddenInput('interaction', view.interactionId)}
${view.locale ? hiddenInput('ui_locales', view.locale) : ''}
<button type="submit" name="decision" value="allow">${tr.t('oauth.consent.allow')}</button>
<button type="submit" name="decision" value="deny" class="secondary">${tr.t('oauth.consent.deny')}</button>
</form>`,
  });
}
