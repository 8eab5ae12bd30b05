import { statSync } from 'node:fs';
import { ValueError } from './types.ts';
import * as p from './parsers.ts';
import { key } from './key.ts';
import { LOCALES, type Locale } from '../ui/i18n/locales.ts';
import { isHexColor } from '../ui/theme/contrast.ts';
import { RADIUS_PATTERN } from '../ui/theme/styles.ts';
import { BrandFileError, readBrandFile, type BrandFileKind } from '../ui/theme/files.ts';
import { accentPairs, contrastProblems, DARK, DEFAULT_ACCENT, DEFAULT_ACCENT_DARK, LIGHT, type Palette } from '../ui/theme/palette.ts';

/** A path to a local file, read and checked now so a bad file stops the start-up naming its key. */
function brandFile(kind: BrandFileKind): (raw: unknown) => string {
  return (raw) => {
    const path = p.nonEmptyString(raw);
    try {
      readBrandFile(path, kind);
    } catch (error) {
      if (error instanceof BrandFileError) throw new ValueError(error.message);
      throw error;
    }
    return path;
  };
}

/** #rrggbb (lower-cased) with WCAG AA contrast where the accent lands in `palette`'s scheme. Also checks stored settings (src/ui/theme/settings.ts). */
export function accentColor(palette: Palette, scheme: string): (raw: unknown) => string {
  return (raw) => {
    const value = p.nonEmptyString(raw).toLowerCase();
    if (!isHexColor(value)) throw new ValueError('must be a colour written #rrggbb, e.g. #0b57d0');
    const problems = contrastProblems(accentPairs(value, palette));
    // WCAG 2.1 SC 1.4.3: links and the primary button's label are text; refused rather than shipped unreadable.
    if (problems.length > 0) {
      throw new ValueError(`${value} has too little contrast in the ${scheme} theme (${problems.join('; ')}); choose a ${scheme === 'light' ? 'darker' : 'lighter'} shade`);
    }
    return value;
  };
}

/** A CSS length that lands in the stylesheet as-is: so only a plain number with px, rem or em, or 0. */
export function cssRadius(raw: unknown): string {
  const value = p.nonEmptyString(raw);
  const match = RADIUS_PATTERN.exec(value);
  if (!match) throw new ValueError('must be a CSS length such as 6px, 0.5rem or 0 (px, rem or em)');
  const unit = match[3];
  const limit = unit === 'px' ? 48 : 3;
  if (Number.parseFloat(value) > limit) throw new ValueError(`must be at most ${limit}${unit ?? ''}`);
  return value;
}

/** The longest link accepted (the admin API's body limit too): a footer link, not a payload in every page and mail. */
export const MAX_LINK_LENGTH = 2048;
/** The longest product name: it is in every title and mail subject. */
export const MAX_PRODUCT_NAME_LENGTH = 60;

/** An absolute https URL for a link in the footer and in mails, at most 2048 characters (config file, API and console alike). */
export function httpsLink(raw: unknown): string {
  const value = p.nonEmptyString(raw);
  // Checked before parsing and after (the WHATWG parser percent-encodes, so href can be longer).
  if (value.length > MAX_LINK_LENGTH) throw new ValueError(`must be at most ${MAX_LINK_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValueError('must be an absolute https:// URL, e.g. https://example.com/privacy');
  }
  if (url.protocol !== 'https:') throw new ValueError('must be an https:// URL');
  if (url.username || url.password) throw new ValueError('must not contain credentials');
  if (url.href.length > MAX_LINK_LENGTH) throw new ValueError(`must be at most ${MAX_LINK_LENGTH} characters once percent-encoded`);
  return url.href;
}

/**
 * Characters a product name may not hold: C0 and C1 controls (U+0000–U+001F, U+007F–U+009F),
 * the line and paragraph separators (U+2028, U+2029: a line break in a mail subject or a
 * script string) and the bidirectional formatting characters (U+061C, U+200E, U+200F,
 * U+202A–U+202E, U+2066–U+2069), which reorder the text around them so a name reads as
 * something else, in our pages and in the mail clients that show it (CVE-2021-42574, "Trojan
 * Source"). A name in a right-to-left script needs none of them.
 */
const FORBIDDEN_IN_NAME = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

export function productName(raw: unknown): string {
  const value = p.nonEmptyString(raw);
  if (value.length > MAX_PRODUCT_NAME_LENGTH) throw new ValueError(`must be at most ${MAX_PRODUCT_NAME_LENGTH} characters`);
  const bad = FORBIDDEN_IN_NAME.exec(value);
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new ValueError(`must not contain control characters, line separators or text-direction marks (found ${code}; refused: U+0000–U+001F, U+007F–U+009F, U+061C, U+200E, U+200F, U+2028, U+2029, U+202A–U+202E, U+2066–U+2069)`);
  }
  return value;
}

function directory(raw: unknown): string {
  const path = p.nonEmptyString(raw);
  let isDirectory = false;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (error) {
    throw new ValueError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!isDirectory) throw new ValueError(`${path} is not a directory`);
  return path;
}

/** The keys of the hosted pages' brand, language and mail templates (docs/branding.md). Spread into `configSchema` (schema.ts) at their place in docs/configuration.md. */
export const brandingKeys = {
  brandName: key({
    env: 'GATEHOUSE_BRAND_NAME',
    doc: 'Product name on every page (header, titles "<page> · <name>") and in mails — see docs/branding.md. At most 60 characters; no control characters, line separators or text-direction marks.',
    default: 'Gatehouse',
    parse: productName,
  }),
  brandLogoFile: key({
    env: 'GATEHOUSE_BRAND_LOGO_FILE',
    doc: 'Local SVG or PNG file (≤ 512 KiB; relative paths from the working directory) shown in the page header; served by this server under /assets/brand/.',
    default: undefined as string | undefined,
    parse: brandFile('image'),
  }),
  brandLogoDarkFile: key({
    env: 'GATEHOUSE_BRAND_LOGO_DARK_FILE',
    doc: 'Local SVG or PNG logo for the dark theme (prefers-color-scheme: dark); default: the light logo.',
    default: undefined as string | undefined,
    parse: brandFile('image'),
  }),
  brandFaviconFile: key({
    env: 'GATEHOUSE_BRAND_FAVICON_FILE',
    doc: 'Local SVG or PNG favicon (≤ 512 KiB); default: the built-in Gatehouse mark.',
    default: undefined as string | undefined,
    parse: brandFile('image'),
  }),
  brandAccentColor: key({
    env: 'GATEHOUSE_BRAND_ACCENT_COLOR',
    doc: 'Accent colour (#rrggbb) of links and primary buttons in the light theme; refused unless it has 4.5:1 contrast with the page, the card and white button text.',
    default: DEFAULT_ACCENT,
    parse: accentColor(LIGHT, 'light'),
  }),
  brandAccentColorDark: key({
    env: 'GATEHOUSE_BRAND_ACCENT_COLOR_DARK',
    doc: `Accent colour (#rrggbb) in the dark theme; refused unless it has 4.5:1 contrast with the dark page and card (${DARK.surface}) and the dark button text.`,
    default: DEFAULT_ACCENT_DARK,
    parse: accentColor(DARK, 'dark'),
  }),
  brandRadius: key({
    env: 'GATEHOUSE_BRAND_RADIUS',
    doc: 'Corner radius of cards, inputs and buttons: a CSS length in px (≤ 48), rem or em (≤ 3), or 0.',
    default: '6px',
    parse: cssRadius,
  }),
  brandStylesheetFile: key({
    env: 'GATEHOUSE_BRAND_STYLESHEET_FILE',
    doc: 'Local CSS file (≤ 256 KiB) served at /assets/brand/custom.css and linked after the built-in styles (override the --gh-* custom properties or any rule).',
    default: undefined as string | undefined,
    parse: brandFile('stylesheet'),
  }),
  brandSupportUrl: key({
    env: 'GATEHOUSE_BRAND_SUPPORT_URL',
    doc: 'https URL (at most 2048 characters) of your help or contact page, linked in the page footer and in mails.',
    default: undefined as string | undefined,
    parse: httpsLink,
  }),
  brandPrivacyUrl: key({
    env: 'GATEHOUSE_BRAND_PRIVACY_URL',
    doc: 'https URL (at most 2048 characters) of your privacy policy, linked in the page footer and in mails.',
    default: undefined as string | undefined,
    parse: httpsLink,
  }),
  brandTermsUrl: key({
    env: 'GATEHOUSE_BRAND_TERMS_URL',
    doc: 'https URL (at most 2048 characters) of your terms of service, linked in the page footer and in mails.',
    default: undefined as string | undefined,
    parse: httpsLink,
  }),
  defaultLocale: key({
    env: 'GATEHOUSE_DEFAULT_LOCALE',
    doc: `Language of pages and mails when neither ui_locales, the language cookie nor Accept-Language names a supported one: ${LOCALES.join(', ')}.`,
    default: 'en' as Locale,
    parse: p.oneOf(LOCALES),
  }),
  mailTemplateDir: key({
    env: 'GATEHOUSE_MAIL_TEMPLATE_DIR',
    doc: 'Directory of mail template overrides, see docs/branding.md.',
    default: undefined as string | undefined,
    parse: directory,
  }),
} as const;
