/**
 * Pictures for reviewers (issue 18): every hosted page in every state of the page tour
 * (test/support/page-tour.ts) at 1280 px and 390 px, light and dark, with the default theme and
 * with a sample brand ("Acme": logo, accent colours, links, German as the default language).
 * Starts its own Gatehouse per theme (development mode, embedded SQLite in a temp dir) and
 * Debian's Chromium (/usr/bin/chromium; nothing is downloaded), writes PNGs and an index.html,
 * prints the folder and stops.
 *
 *   npm run screenshots                  into ./screenshots/
 *   npm run screenshots -- --out DIR     into DIR
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../test/support/oidc.ts';
import { newTourRun, startTourServer, walkTour, type TourStop } from '../test/support/page-tour.ts';

const WIDTHS = [1280, 390] as const;
const SCHEMES = ['light', 'dark'] as const;
const HEIGHT = 900;

// A mark only: the layout shows the brand name beside the logo.
const ACME_LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="32" height="32" viewBox="0 0 32 32"><rect width="32" height="32" rx="8" fill="#7a1fa2"/><path d="M9 24 16 8l7 16M12 18h8" stroke="#fff" stroke-width="3" fill="none"/></svg>';
const ACME_LOGO_DARK = ACME_LOGO.replace('fill="#7a1fa2"', 'fill="#e1bee7"').replace('stroke="#fff"', 'stroke="#3b0a4f"');

interface Theme {
  name: string;
  description: string;
  /** Server settings, given the theme's temp dir (for its files). */
  env(directory: string): Record<string, string>;
  /** Headers the browser sends: the brand's pages come in its default language. */
  headers: Record<string, string>;
}

const THEMES: readonly Theme[] = [
  { name: 'default', description: 'default theme, English', env: () => ({}), headers: {} },
  {
    name: 'acme',
    description: 'sample brand "Acme": logo (light/dark), accent colours, links; German as the default language',
    env: (directory) => {
      writeFileSync(join(directory, 'acme-logo.svg'), ACME_LOGO);
      writeFileSync(join(directory, 'acme-logo-dark.svg'), ACME_LOGO_DARK);
      return {
        GATEHOUSE_BRAND_NAME: 'Acme',
        GATEHOUSE_BRAND_LOGO_FILE: join(directory, 'acme-logo.svg'),
        GATEHOUSE_BRAND_LOGO_DARK_FILE: join(directory, 'acme-logo-dark.svg'),
        GATEHOUSE_BRAND_ACCENT_COLOR: '#7a1fa2',
        GATEHOUSE_BRAND_ACCENT_COLOR_DARK: '#e1bee7',
        GATEHOUSE_BRAND_RADIUS: '12px',
        GATEHOUSE_BRAND_SUPPORT_URL: 'https://acme.example/help',
        GATEHOUSE_BRAND_PRIVACY_URL: 'https://acme.example/privacy',
        GATEHOUSE_BRAND_TERMS_URL: 'https://acme.example/terms',
        GATEHOUSE_DEFAULT_LOCALE: 'de',
      };
    },
    // No Accept-Language, as from a browser that names none: the configured default applies.
    headers: { 'accept-language': '' },
  },
];

const slug = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

interface Shot { theme: string; stop: string; scheme: string; width: number; file: string }

/** The page as it is now, in both schemes and both widths. */
async function photograph(page: Page, folder: string, theme: string, stop: TourStop, index: number): Promise<Shot[]> {
  const shots: Shot[] = [];
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme });
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: HEIGHT });
      // The logo follows the scheme (<picture>): wait for every image to be decoded.
      await page.waitForFunction(() => Array.from((globalThis as unknown as { document: { images: Iterable<{ complete: boolean }> } }).document.images).every((image) => image.complete));
      const file = `${theme}/${String(index + 1).padStart(2, '0')}-${slug(stop.page)}-${slug(stop.state)}-${colorScheme}-${width}.png`;
      await page.screenshot({ path: join(folder, file), fullPage: true, animations: 'disabled', caret: 'hide' });
      shots.push({ theme, stop: `${stop.page} — ${stop.state}`, scheme: colorScheme, width, file });
    }
  }
  return shots;
}

async function photographTheme(browser: Browser, folder: string, theme: Theme): Promise<Shot[]> {
  const directory = mkdtempSync(join(tmpdir(), `gatehouse-screenshots-${theme.name}-`));
  const server = await startTourServer({ directory, env: theme.env(directory) });
  const context = await browser.newContext({ viewport: { width: WIDTHS[0], height: HEIGHT }, extraHTTPHeaders: theme.headers });
  try {
    context.setDefaultTimeout(15_000);
    const page = await context.newPage();
    const run = newTourRun(server, page, `screenshots-${theme.name}`);
    const shots: Shot[] = [];
    mkdirSync(join(folder, theme.name), { recursive: true });
    await walkTour(run, async (stop, index) => {
      shots.push(...(await photograph(page, folder, theme.name, stop, index)));
      // Back to the walk's own viewport and scheme before the next stop.
      await page.setViewportSize({ width: WIDTHS[0], height: HEIGHT });
      await page.emulateMedia({ colorScheme: 'light' });
    });
    const lang = await page.locator('html').getAttribute('lang');
    console.log(`${theme.name}: ${shots.length} screenshots (${theme.description}; pages in lang=${lang})`);
    return shots;
  } finally {
    await context.close();
    await server.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

function indexPage(shots: readonly Shot[]): string {
  const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  const rows = new Map<string, Shot[]>();
  for (const shot of shots) rows.set(`${shot.theme}: ${shot.stop}`, [...(rows.get(`${shot.theme}: ${shot.stop}`) ?? []), shot]);
  const sections = [...rows].map(([title, row]) => `<section><h2>${escape(title)}</h2><div class="row">${row.map((shot) => `<figure><a href="${escape(shot.file)}"><img src="${escape(shot.file)}" alt="${escape(`${title}, ${shot.scheme}, ${shot.width} px`)}" loading="lazy"></a><figcaption>${shot.scheme}, ${shot.width} px</figcaption></figure>`).join('')}</div></section>`);
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>Gatehouse pages</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}.row{display:flex;gap:1rem;align-items:flex-start;overflow-x:auto}figure{margin:0}img{width:320px;border:1px solid #ccc}</style>
<h1>Gatehouse hosted pages (${shots.length} screenshots)</h1>${sections.join('\n')}</html>\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: 'screenshots' } } });
  const folder = resolve(values.out);
  for (const theme of THEMES) rmSync(join(folder, theme.name), { recursive: true, force: true });
  mkdirSync(folder, { recursive: true });
  const browser = await launchChromium();
  try {
    const shots: Shot[] = [];
    for (const theme of THEMES) shots.push(...(await photographTheme(browser, folder, theme)));
    writeFileSync(join(folder, 'index.html'), indexPage(shots));
    console.log(`${shots.length} screenshots in ${folder} (open ${join(folder, 'index.html')})`);
  } finally {
    await browser.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
