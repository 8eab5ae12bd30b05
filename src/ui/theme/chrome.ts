import { html, type SafeHtml } from '../html.ts';
import type { Translator } from '../i18n/translate.ts';
import type { BrandImage, Theme } from './brand.ts';

/**
 * The parts of the layout around a page's body: the brand header, the OAuth client the page acts
 * for, and the footer links. Pure markup; src/ui/layout.ts puts them together.
 */

/** What a page shows of an OAuth client (src/features/clients/model.ts: name, logoUri, clientUri, policyUri, tosUri). */
export interface ClientBrand {
  name: string;
  logoUri?: string | null;
  clientUri?: string | null;
  policyUri?: string | null;
  tosUri?: string | null;
}

const HEADER_LOGO_HEIGHT = 32;
export const CLIENT_LOGO_SIZE = 40;

/**
 * A client-supplied URL a browser may load or follow: https, or http to a loopback host (what
 * the clients feature accepts in development). Anything else is left out, never rendered.
 */
export function clientUrl(value: string | null | undefined): URL | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    if (url.username || url.password) return undefined;
    if (url.protocol === 'https:') return url;
    if (url.protocol === 'http:' && ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) return url;
  } catch {
    // not a URL: nothing rendered
  }
  return undefined;
}

/** The origin the page's `img-src` must allow for the client's logo, if it has one. */
export function clientLogoSource(client: ClientBrand | undefined): string | undefined {
  const origin = clientUrl(client?.logoUri)?.origin;
  // Belt and braces (clients/branding.ts validates hosts): a CSP source is never more than an origin.
  return origin !== undefined && /^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(origin) ? origin : undefined;
}

function scaled(image: BrandImage): { width: number; height: number } {
  const ratio = image.width > 0 && image.height > 0 ? image.width / image.height : 1;
  return { width: Math.max(1, Math.round(HEADER_LOGO_HEIGHT * ratio)), height: HEADER_LOGO_HEIGHT };
}

/** The product name, after its logo (light, and dark through `prefers-color-scheme`) when one is configured. */
export function brandHeader(theme: Theme): SafeHtml {
  const light = theme.logo ?? theme.logoDark;
  const dark = theme.logo && theme.logoDark ? theme.logoDark : null;
  // The name follows as text, so the logo itself is decorative (alt="").
  const logo = light
    ? html`<picture>${dark ? html`<source srcset="${dark.path}" media="(prefers-color-scheme: dark)" width="${scaled(dark).width}" height="${scaled(dark).height}">` : ''}<img src="${light.path}" alt="" width="${scaled(light).width}" height="${scaled(light).height}"></picture>`
    : '';
  return html`<header class="site-header"><span class="brand">${logo}<span class="brand-name">${theme.brand.productName}</span></span></header>`;
}

/** "<logo> Acme Notes" at the top of the card. The logo is remote: no referrer, fixed size. */
export function clientHeader(tr: Translator, client: ClientBrand | undefined): SafeHtml {
  if (!client) return html``;
  const logo = clientUrl(client.logoUri);
  return html`<div class="client">${logo ? html`<img src="${logo.href}" alt="${tr.t('common.clientLogo', { name: client.name })}" width="${CLIENT_LOGO_SIZE}" height="${CLIENT_LOGO_SIZE}" referrerpolicy="no-referrer">` : ''}<span class="client-name">${client.name}</span></div>`;
}

/** The brand's support, privacy and terms links, then the client's policy and terms. */
export function footer(tr: Translator, theme: Theme, client: ClientBrand | undefined): SafeHtml {
  const { brand } = theme;
  const links: SafeHtml[] = [];
  const add = (href: string | null | undefined, label: string, external: boolean): void => {
    if (href) links.push(html`<li><a href="${href}"${external ? html` rel="noopener noreferrer"` : ''}>${label}</a></li>`);
  };
  add(brand.supportUrl, tr.t('common.support'), false);
  add(brand.privacyUrl, tr.t('common.privacy'), false);
  add(brand.termsUrl, tr.t('common.terms'), false);
  if (client) {
    add(clientUrl(client.policyUri)?.href, tr.t('common.clientPrivacy', { name: client.name }), true);
    add(clientUrl(client.tosUri)?.href, tr.t('common.clientTerms', { name: client.name }), true);
  }
  if (links.length === 0) return html``;
  return html`<footer class="site-footer"><ul>${links}</ul></footer>`;
}
