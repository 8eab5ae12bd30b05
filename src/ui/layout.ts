import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { FAVICON_PATH } from './favicon.ts';
import { html, toHtmlString, unsafeRaw, type SafeHtml } from './html.ts';

/**
 * The one page layout. Pages carry no script except where a passkey is offered (two same-origin
 * files); the only inline element, the stylesheet, is allowed (like those scripts) by a nonce that is new on every response (SEC-ASVS-10). The global headers
 * (X-Frame-Options DENY, nosniff, Referrer-Policy no-referrer, no-store) stay as set in
 * src/http/security-headers.ts; only the CSP is replaced.
 */

export function pageCsp(nonce: string, formAction: readonly string[] = [], options: { scripts?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `style-src 'nonce-${nonce}'`,
    // Only pages that offer a passkey load scripts (same origin, each tag carrying the nonce).
    ...(options.scripts ? [`script-src 'nonce-${nonce}'`] : []),
    "img-src 'self' data:",
    // Browsers apply form-action to the redirects that follow a submission: a form that ends at an
    // OAuth client's redirect URI (sign-in or consent during authorization) must name its origin.
    ["form-action 'self'", ...formAction].join(' '),
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
  ].join('; ');
}

// Constant, written here: the only use of unsafeRaw in the UI.
const STYLES = unsafeRaw(`
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4a4a4a; --line: #c8c8c8; --accent: #0b57d0; --danger: #a50e0e; --ok: #0d652d; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 36rem; margin: 0 auto; padding: 2rem 1rem 4rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; padding-top: 1rem; border-top: 1px solid var(--line); }
p { margin: 0 0 1rem; }
a { color: var(--accent); }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
input[type=email], input[type=password], input[type=text] { display: block; width: 100%; padding: .55rem .6rem; font: inherit; color: inherit; border: 1px solid #767676; border-radius: 4px; background: #fff; }
button { font: inherit; padding: .5rem 1rem; margin-top: 1rem; border: 1px solid var(--accent); border-radius: 4px; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.danger { background: #fff; color: var(--danger); border-color: var(--danger); }
a:focus-visible, input:focus-visible, button:focus-visible { outline: 3px solid #e8710a; outline-offset: 2px; }
.hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 0; }
.alert { border: 2px solid var(--danger); border-radius: 4px; padding: .75rem 1rem; margin: 0 0 1rem; color: var(--danger); background: #fdecea; }
.notice { border: 2px solid var(--ok); border-radius: 4px; padding: .75rem 1rem; margin: 0 0 1rem; color: var(--ok); background: #e6f4ea; }
.links { margin-top: 1.5rem; }
.sessions, .identities { list-style: none; padding: 0; margin: 0; }
.sessions li, .identities li { border: 1px solid var(--line); border-radius: 4px; padding: .75rem 1rem; margin: 0 0 .75rem; }
.sessions form, .identities form { display: inline; }
.tag { display: inline-block; font-size: .8rem; font-weight: 600; padding: 0 .4rem; border-radius: 4px; background: var(--ok); color: #fff; }
.ua { color: var(--muted); font-size: .85rem; word-break: break-all; }
.providers { list-style: none; padding: 0; margin: 0; }
.providers li { margin: 0 0 .5rem; }
.start { padding-left: 1.25rem; }
.start li { margin: 0 0 .5rem; }
pre { overflow-x: auto; padding: .75rem 1rem; border: 1px solid var(--line); border-radius: 4px; background: #f6f6f6; }
a.button { display: block; text-align: center; padding: .5rem 1rem; border: 1px solid var(--accent); border-radius: 4px; color: var(--accent); text-decoration: none; }
`);

export interface PageOptions {
  title: string;
  body: SafeHtml;
  /** HTTP status, default 200. */
  status?: number;
  /** Extra headers kept from an error (Retry-After …). */
  headers?: Readonly<Record<string, string>>;
  /** Extra form-action sources: where a form's redirect may end (a client's redirect URI origin). */
  formAction?: readonly string[];
  /** Same-origin scripts to load (passkey pages only), each allowed by the nonce. */
  scripts?: readonly string[];
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
  const document = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Gatehouse</title>
<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
<style nonce="${nonce}">${STYLES}</style>
</head>
<body>
<main>
${options.body}
</main>
${(options.scripts ?? []).map((src) => html`<script nonce="${nonce}" src="${src}"></script>
`)}</body>
</html>
`;
  return reply
    .code(options.status ?? 200)
    .headers(options.headers ?? {})
    .header('content-security-policy', pageCsp(nonce, options.formAction, { scripts: (options.scripts ?? []).length > 0 }))
    .header('cache-control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(toHtmlString(document));
}
