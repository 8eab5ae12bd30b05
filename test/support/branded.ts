/**
 * A Gatehouse with a sample brand (issue 18, first "done when"): "Acme Cloud", a light and a
 * dark SVG logo, accent colours, help/privacy/terms links, German as `defaultLocale`, the OAuth
 * clients of the OIDC tests plus `acme-notes` (logo_uri, policy_uri, tos_uri), a device client,
 * a scripted upstream identity provider (for the link-identity mail) — and the checks every page
 * and every mail of it must pass: German, the brand everywhere, no English left, no remote image.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import type { OutgoingMail } from '../../src/features/email/mailer.ts';
import { CATALOGS } from '../../src/ui/i18n/messages/index.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import type { PageBrowser } from '../../src/ui/test-browser.ts';
import { createTestApp, type TestApp } from './app.ts';
import { deviceClients } from './device.ts';
import { clientsEnv } from './oauth.ts';
import { callbackFor, UPSTREAM_CLIENT_ID } from './social.ts';
import { startScriptedIdp, type ScriptedIdp } from './upstream/scripted-idp.ts';

export const BRAND = {
  name: 'Acme Cloud',
  accent: '#7a1fa2',
  accentDark: '#e1bee7',
  support: 'https://acme.example/help',
  privacy: 'https://acme.example/privacy',
  terms: 'https://acme.example/terms',
} as const;

/** The registered client with its own branding (RFC 7591 §2 metadata). */
export const NOTES = {
  client_id: 'acme-notes', name: 'Acme Notes', type: 'public', token_endpoint_auth_method: 'none',
  grant_types: ['authorization_code', 'refresh_token'], redirect_uris: ['https://notes.acme.example/callback'],
  post_logout_redirect_uris: ['https://notes.acme.example/bye'], scopes: ['openid', 'profile', 'email', 'offline_access'], audiences: [],
  logo_uri: 'https://cdn.notes.acme.example/logo.png', client_uri: 'https://notes.acme.example',
  policy_uri: 'https://notes.acme.example/privacy', tos_uri: 'https://notes.acme.example/terms',
} as const;

const LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32" viewBox="0 0 64 32"><rect width="64" height="32" rx="6" fill="#7a1fa2"/></svg>';
const LOGO_DARK = '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32" viewBox="0 0 64 32"><rect width="64" height="32" rx="6" fill="#e1bee7"/></svg>';
const UPSTREAM_SECRET = 'upstream-client-secret-for-branded-tests';

export interface BrandedApp {
  t: TestApp;
  /** An OpenID Connect provider on loopback, enabled as `acmeid` ("Acme ID"). */
  idp: ScriptedIdp;
  close(): Promise<void>;
}

export async function createBrandedApp(): Promise<BrandedApp> {
  const directory = mkdtempSync(join(tmpdir(), 'gatehouse-branded-'));
  writeFileSync(join(directory, 'logo.svg'), LOGO);
  writeFileSync(join(directory, 'logo-dark.svg'), LOGO_DARK);
  const idp = await startScriptedIdp({ mode: 'oidc', client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_SECRET, redirect_uri: callbackFor('acmeid') });
  const t = await createTestApp({
    env: {
      ...clientsEnv(deviceClients([{ ...NOTES, redirect_uris: [...NOTES.redirect_uris], post_logout_redirect_uris: [...NOTES.post_logout_redirect_uris], scopes: [...NOTES.scopes] }])),
      GATEHOUSE_BRAND_NAME: BRAND.name,
      GATEHOUSE_BRAND_LOGO_FILE: join(directory, 'logo.svg'),
      GATEHOUSE_BRAND_LOGO_DARK_FILE: join(directory, 'logo-dark.svg'),
      GATEHOUSE_BRAND_ACCENT_COLOR: BRAND.accent,
      GATEHOUSE_BRAND_ACCENT_COLOR_DARK: BRAND.accentDark,
      GATEHOUSE_BRAND_SUPPORT_URL: BRAND.support,
      GATEHOUSE_BRAND_PRIVACY_URL: BRAND.privacy,
      GATEHOUSE_BRAND_TERMS_URL: BRAND.terms,
      GATEHOUSE_DEFAULT_LOCALE: 'de',
      GATEHOUSE_LOCKOUT_THRESHOLD: '2',
      UPSTREAM_SECRET,
      GATEHOUSE_SOCIAL_PROVIDERS: JSON.stringify([{ id: 'acmeid', type: 'oidc', name: 'Acme ID', issuer: idp.issuer, client_id: UPSTREAM_CLIENT_ID, client_secret_env: 'UPSTREAM_SECRET' }]),
    },
  });
  return {
    t,
    idp,
    close: async () => {
      await t.close();
      await idp.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&nbsp;': ' ' };

/** What a reader sees or hears of a page: text nodes, the title, alt/aria-label/title/placeholder attributes. */
export function visibleText(body: string): string {
  const attributes = [...body.matchAll(/\s(?:alt|aria-label|title|placeholder|data-show-password)="([^"]*)"/g)].map((match) => match[1]);
  const text = body
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1>/g, ' ')
    // Commands, identifiers and secrets (a CLI line, a TOTP secret, recovery codes) are not language.
    .replace(/<(code|pre)\b[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ');
  return [text, ...attributes].join(' ').replace(/&[#a-z0-9]+;/gi, (entity) => ENTITIES[entity] ?? ' ').replace(/\s+/g, ' ');
}

/** Fragments of English catalog text (between placeholders) that German says differently. */
const ENGLISH_FRAGMENTS: readonly string[] = (() => {
  const german = CATALOGS.de;
  const fragments = new Set<string>();
  const forms = (message: unknown): string[] => (typeof message === 'string' ? [message] : Object.values(message as Record<string, string>));
  for (const [key, message] of CATALOGS.en) {
    const germanForms = forms(german.get(key));
    for (const form of forms(message)) {
      for (const piece of form.split(/\{[a-zA-Z]+\}/)) {
        const fragment = piece.trim();
        // Long enough to be a phrase, and not also German (product-neutral words such as "E-Mail").
        if (fragment.length >= 12 && /\s/.test(fragment) && !germanForms.some((text) => text.includes(fragment))) fragments.add(fragment);
      }
    }
  }
  return [...fragments];
})();

/** Common English words no German page has (word-bounded, case-insensitive). */
const ENGLISH_WORDS = /\b(the|your|you|and|please|sign in|sign up|sign out|with|this|that|password|passwords|enter|continue|cancel|delete|remove|email address|here|been|will be|could not|try again|back to|go to|settings|sessions|account|save|send|confirm|allow|deny|yes|no longer|success|failure|confidential|public|every|built in)\b/i;

/** English found on a page: catalog phrases, then common English words; `data` is the user's own text to skip. */
export function englishOn(body: string, data: readonly string[] = []): string[] {
  // File names (the start page lists docs/*.md) are not language either.
  let text = visibleText(body).replace(/[\w.-]+\.(md|json|yaml|txt)\b/g, ' ');
  for (const value of data) text = text.split(value).join(' ');
  const found = ENGLISH_FRAGMENTS.filter((fragment) => text.includes(fragment));
  const word = ENGLISH_WORDS.exec(text);
  if (word) found.push(`word "${word[0]}" in "…${text.slice(Math.max(0, word.index - 60), word.index + 60)}…"`);
  return found;
}

/** Data a page may show that is not UI text: the users' addresses, client and provider names, codes. */
export const PAGE_DATA: string[] = ['Acme Notes', 'Acme Cloud', 'Acme ID', 'Living Room TV', 'Web App', 'lightMyRequest'];

const de = translator('de');

/** A page of the sample brand: German, the brand in title and header, the logos, the footer links, no English. */
export function assertBrandedPage(response: LightMyRequestResponse, what: string, options: { client?: boolean; status?: number } = {}): void {
  const { body } = response;
  if (options.status !== undefined) assert.equal(response.statusCode, options.status, `${what}: status (${body.slice(0, 300)})`);
  assert.match(String(response.headers['content-type']), /text\/html/, `${what}: an HTML page (${response.statusCode})`);
  assert.match(body, /<html lang="de" dir="ltr">/, `${what}: <html lang="de">`);
  assert.match(body, /<title>[^<]+ · Acme Cloud<\/title>/, `${what}: the brand in the title`);
  assert.match(body, /<span class="brand-name">Acme Cloud<\/span>/, `${what}: the brand in the header`);
  assert.match(body, /<img src="\/assets\/brand\/logo\.svg\?v=[^"]+" alt=""/, `${what}: the logo`);
  assert.match(body, /<source srcset="\/assets\/brand\/logo-dark\.svg\?v=[^"]+" media="\(prefers-color-scheme: dark\)"/, `${what}: the dark logo`);
  for (const [href, label] of [[BRAND.support, de.t('common.support')], [BRAND.privacy, de.t('common.privacy')], [BRAND.terms, de.t('common.terms')]]) {
    assert.ok(body.includes(`<a href="${href}">${label}</a>`), `${what}: the footer link ${label}`);
  }
  if (options.client) {
    assert.match(body, /<span class="client-name">Acme Notes<\/span>/, `${what}: the client's name`);
    assert.ok(body.includes(`<img src="${NOTES.logo_uri}" alt="${de.t('common.clientLogo', { name: NOTES.name })}"`), `${what}: the client's logo`);
    assert.ok(body.includes(`href="${NOTES.policy_uri}"`) && body.includes(`href="${NOTES.tos_uri}"`), `${what}: the client's policy and terms`);
  }
  assert.deepEqual(englishOn(body, PAGE_DATA), [], `${what}: no English on the page`);
}

/** A mail of the sample brand: German, "Acme Cloud" in subject and signature, the accent in HTML, no remote image. */
export function assertBrandedMail(mail: OutgoingMail, what: string, data: readonly string[] = []): void {
  assert.match(mail.subject, /Acme Cloud/, `${what}: the brand in the subject`);
  const signature = de.t('mail.signature', { product: BRAND.name });
  assert.ok(mail.text.includes(signature), `${what}: the German signature in the text part`);
  assert.ok(mail.html, `${what}: an HTML part`);
  assert.ok(mail.html.includes(signature), `${what}: the German signature in the HTML part`);
  assert.ok(mail.html.includes(BRAND.accent), `${what}: the accent colour in the HTML part`);
  assert.match(mail.html, /<html lang="de"/, `${what}: the HTML part is German`);
  assert.doesNotMatch(mail.html, /<img\b|url\(|<link\b|<script\b|background=/i, `${what}: no image or remote resource`);
  assert.ok(mail.text.includes(`${de.t('mail.support')}: ${BRAND.support}`), `${what}: the support link`);
  const skip = [mail.to, ...data, 'Acme Cloud', 'Acme ID'];
  const links = [...mail.text.matchAll(/https?:\/\/\S+/g)].map((match) => match[0]);
  const strip = (text: string) => [...skip, ...links].reduce((rest, value) => rest.split(value).join(' '), text);
  assert.deepEqual(englishOn(strip(`<p>${mail.subject}</p>\n${mail.text}`)), [], `${what}: no English in subject and text`);
  assert.deepEqual(englishOn(strip(mail.html)), [], `${what}: no English in the HTML part`);
}

/** The hidden fields of the form posting to `action` on `body` (csrf, interaction …), HTML-unescaped. */
export function formFields(body: string, action: string): Record<string, string> {
  const start = body.indexOf(`action="${action}"`);
  assert.ok(start >= 0, `a form posting to ${action}`);
  const form = body.slice(start, body.indexOf('</form>', start));
  const fields: Record<string, string> = {};
  for (const match of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) fields[match[1]!] = match[2]!.replace(/&[#a-z0-9]+;/gi, (entity) => ENTITIES[entity] ?? entity);
  return fields;
}

/** Posts the form to `action` found on `page` with its hidden fields plus `fields`. */
export function submitForm(b: PageBrowser, page: LightMyRequestResponse, action: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return b.post(action, { ...formFields(page.body, action), ...fields });
}
