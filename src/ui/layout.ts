import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { faviconLink } from './favicon.ts';
import { html, toHtmlString, unsafeRaw, type SafeHtml } from './html.ts';
import { translatorFor } from './i18n/request.ts';
import { themeFor } from './theme/brand.ts';
import { brandHeader, clientHeader, clientLogoSource, footer, type ClientBrand } from './theme/chrome.ts';
import { PAGE_SCRIPT_PATH } from './theme/page-script.ts';
import { stylesheetFor } from './theme/styles.ts';

export type { ClientBrand } from './theme/chrome.ts';

/**
 * The one page layout (docs/branding.md): the brand header, a centred card (or the wide layout
 * of the account and admin pages) with the OAuth client the page acts for, the footer links.
 * Scripts and styles are same-origin files or the one inline <style>, each allowed by a nonce
 * that is new on every response (SEC-ASVS-10); pages never carry inline scripts or style
 * attributes. The global headers (X-Frame-Options DENY, nosniff, Referrer-Policy no-referrer,
 * no-store) stay as set in src/http/security-headers.ts; only the CSP is replaced.
 */

export interface CspOptions {
  /** Extra `img-src` sources for this response only (a client's remote logo: its origin). */
  images?: readonly string[];
}

export function pageCsp(nonce: string, formAction: readonly string[] = [], options: CspOptions = {}): string {
  return [
    "default-src 'none'",
    // The built-in <style> and the brand's extra stylesheet <link>, both carrying the nonce.
    `style-src 'nonce-${nonce}'`,
    // The page script (every page) and the passkey scripts: same-origin files carrying the nonce.
    `script-src 'nonce-${nonce}'`,
    // The passkey ceremonies and progressive enhancement call our own JSON API, nothing else.
    "connect-src 'self'",
    // The brand's images are served by this server; a client logo adds its origin here only.
    ["img-src 'self' data:", ...(options.images ?? [])].join(' '),
    // Browsers apply form-action to the redirects that follow a submission: a form that ends at an
    // OAuth client's redirect URI (sign-in or consent during authorization) must name its origin.
    ["form-action 'self'", ...formAction].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

export interface PageOptions {
  /** Already translated; the layout appends " · <product name>". */
  title: string;
  body: SafeHtml;
  /** HTTP status, default 200. */
  status?: number;
  /** Extra headers kept from an error (Retry-After …). */
  headers?: Readonly<Record<string, string>>;
  /** Extra form-action sources: where a form's redirect may end (a client's redirect URI origin). */
  formAction?: readonly string[];
  /** Same-origin scripts to load besides the page script (passkey pages), each allowed by the nonce. */
  scripts?: readonly string[];
  /** Same-origin stylesheets to link after the built-in one (the admin console's), each allowed by the nonce. */
  styles?: readonly string[];
  /** The OAuth client the page acts for (sign-in, consent, sign-out): its name, logo and links. */
  client?: ClientBrand | undefined;
  /** `card`: a centred card (sign-in, consent, errors — the default); `wide`: account and admin pages. */
  width?: 'card' | 'wide';
}

/** The CSP source for a redirect URI: its origin, or its scheme for private-use schemes. */
export function formActionSource(redirectUri: string): string | undefined {
  try {
    const url = new URL(redirectUri);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
    return /^[a-z][a-z0-9+.-]*:$/.test(url.protocol) ? url.protocol : undefined;
  } catch {
    return undefined;
  }
}

/** Renders `body` in the layout and sends it with a fresh nonce-based CSP. */
export function sendPage(reply: FastifyReply, options: PageOptions): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const tr = translatorFor(reply.request);
  const theme = themeFor(reply.request);
  const width = options.width ?? 'card';
  const icon = faviconLink(theme);
  const logoSource = clientLogoSource(options.client);
  const scripts = [PAGE_SCRIPT_PATH, ...(options.scripts ?? []).filter((src) => src !== PAGE_SCRIPT_PATH)];
  const document = html`<!doctype html>
<html lang="${tr.locale}" dir="${tr.dir}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>${options.title} · ${theme.brand.productName}</title>
<link rel="icon" href="${icon.href}" type="${icon.type}">
<style nonce="${nonce}">${unsafeRaw(stylesheetFor(theme.brand))}</style>
${(options.styles ?? []).map((href) => html`<link rel="stylesheet" href="${href}" nonce="${nonce}">
`)}${theme.stylesheetPath ? html`<link rel="stylesheet" href="${theme.stylesheetPath}" nonce="${nonce}">
` : ''}</head>
<body class="layout-${width}" data-show-password="${tr.t('common.showPassword')}">
<a class="skip-link" href="#content">${tr.t('common.skipToContent')}</a>
${brandHeader(theme)}
<main>
<div class="${width === 'wide' ? 'wide' : 'card'}" id="content" tabindex="-1">
${clientHeader(tr, options.client)}
${options.body}
</div>
</main>
${footer(tr, theme, options.client)}
${scripts.map((src) => html`<script nonce="${nonce}" src="${src}"></script>
`)}</body>
</html>
`;
  return reply
    .code(options.status ?? 200)
    .headers(options.headers ?? {})
    .header('content-security-policy', pageCsp(nonce, options.formAction, { images: logoSource ? [logoSource] : [] }))
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(toHtmlString(document));
}
