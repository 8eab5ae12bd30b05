import { isHexColor } from './contrast.ts';
import type { Brand } from './brand.ts';
import { DARK, DEFAULT_ACCENT, DEFAULT_ACCENT_DARK, LIGHT, type Palette } from './palette.ts';

/**
 * The built-in stylesheet: every colour and the radius are CSS custom properties (`--gh-*`), so
 * the brand (accent, radius) and an extra stylesheet (brandStylesheetFile) can change them; a
 * dark scheme follows `prefers-color-scheme`. The colours come from palette.ts, where their
 * contrast is checked.
 */

/** A CSS length as the config accepts it (src/config/schema-branding.ts). */
export const RADIUS_PATTERN = /^(0|[0-9]{1,2}(\.[0-9]{1,3})?(px|rem|em))$/;

function variables(palette: Palette): string {
  return [
    `--gh-page: ${palette.page}`,
    `--gh-surface: ${palette.surface}`,
    `--gh-ink: ${palette.ink}`,
    `--gh-muted: ${palette.muted}`,
    `--gh-line: ${palette.line}`,
    `--gh-control: ${palette.control}`,
    `--gh-on-accent: ${palette.onAccent}`,
    `--gh-danger: ${palette.danger}`,
    `--gh-danger-bg: ${palette.dangerBackground}`,
    `--gh-ok: ${palette.ok}`,
    `--gh-ok-bg: ${palette.okBackground}`,
    `--gh-focus: ${palette.focus}`,
    `--gh-code: ${palette.code}`,
  ].join('; ');
}

const BASE = `
:root { color-scheme: light dark; ${variables(LIGHT)}; --gh-accent: var(--gh-accent-light); }
@media (prefers-color-scheme: dark) { :root { ${variables(DARK)}; --gh-accent: var(--gh-accent-dark); } }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { background: var(--gh-page); }
body { margin: 0; min-height: 100vh; display: flex; flex-direction: column; font: 1rem/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--gh-ink); background: var(--gh-page); }
.skip-link { position: absolute; left: .5rem; top: -4rem; z-index: 10; padding: .5rem 1rem; background: var(--gh-surface); color: var(--gh-accent); border: 1px solid var(--gh-control); border-radius: var(--gh-radius); }
.skip-link:focus { top: .5rem; }
.site-header { width: 100%; max-width: 28rem; margin: 0 auto; padding: 2rem 1rem .75rem; display: flex; justify-content: center; }
.layout-wide .site-header { max-width: 62rem; justify-content: flex-start; padding-top: 1.25rem; }
.brand { display: inline-flex; align-items: center; gap: .6rem; font-weight: 700; font-size: 1.2rem; color: var(--gh-ink); }
.brand img { display: block; height: 2rem; width: auto; max-width: 12rem; }
main { flex: 1 0 auto; width: 100%; padding: .75rem 1rem 3rem; }
#content:focus { outline: none; }
.card { max-width: 28rem; margin: 0 auto; padding: 2rem; background: var(--gh-surface); border: 1px solid var(--gh-line); border-radius: calc(var(--gh-radius) * 2); box-shadow: 0 1px 3px rgb(0 0 0 / .08); }
.wide { max-width: 62rem; margin: 0 auto; }
.wide > section, .wide > .section { background: var(--gh-surface); border: 1px solid var(--gh-line); border-radius: calc(var(--gh-radius) * 2); padding: 1.25rem 1.5rem; margin: 0 0 1.25rem; }
.wide > section > h2:first-child, .wide > .section > h2:first-child { margin-top: 0; padding-top: 0; border-top: 0; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0 0 1rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; padding-top: 1rem; border-top: 1px solid var(--gh-line); }
h3 { font-size: 1.05rem; margin: 1.25rem 0 .5rem; }
p { margin: 0 0 1rem; }
a { color: var(--gh-accent); text-underline-offset: .15em; }
label { display: block; font-weight: 600; margin: 1rem 0 .25rem; }
.field { margin: 0 0 .25rem; }
input[type=email], input[type=password], input[type=text], input[type=url], input[type=tel], input[type=number], input[type=search], select, textarea { display: block; width: 100%; padding: .6rem .65rem; font: inherit; color: var(--gh-ink); border: 1px solid var(--gh-control); border-radius: var(--gh-radius); background: var(--gh-surface); }
input[type=checkbox], input[type=radio] { accent-color: var(--gh-accent); width: 1.1rem; height: 1.1rem; }
[aria-invalid=true] { border: 2px solid var(--gh-danger) !important; }
.field-error { color: var(--gh-danger); font-weight: 600; margin: .25rem 0; }
button, a.button { display: inline-block; font: inherit; font-weight: 600; line-height: 1.25; padding: .65rem 1.1rem; margin-top: 1rem; border: 1px solid var(--gh-accent); border-radius: var(--gh-radius); background: var(--gh-accent); color: var(--gh-on-accent); cursor: pointer; text-align: center; text-decoration: none; }
.card button[type=submit]:not(.secondary):not(.danger) { width: 100%; }
a.button { display: block; background: var(--gh-surface); color: var(--gh-accent); }
button.secondary, a.button.secondary { background: var(--gh-surface); color: var(--gh-accent); border-color: var(--gh-control); }
button.danger, a.button.danger { background: var(--gh-surface); color: var(--gh-danger); border-color: var(--gh-danger); }
button.password-toggle { margin-top: .5rem; padding: .3rem .75rem; font-size: .9rem; font-weight: 500; background: var(--gh-surface); color: var(--gh-accent); border-color: var(--gh-control); }
button.password-toggle[aria-pressed=true] { background: var(--gh-code); }
a:focus-visible, input:focus-visible, button:focus-visible, select:focus-visible, textarea:focus-visible, summary:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--gh-focus); outline-offset: 2px; }
.hint { color: var(--gh-muted); font-size: .9rem; margin: .25rem 0 0; }
.alert { border: 2px solid var(--gh-danger); border-radius: var(--gh-radius); padding: .75rem 1rem; margin: 0 0 1rem; color: var(--gh-danger); background: var(--gh-danger-bg); }
.alert p:last-child, .notice p:last-child { margin-bottom: 0; }
.error-summary h2 { font-size: 1.05rem; margin: 0 0 .5rem; padding: 0; border: 0; color: var(--gh-danger); }
.error-summary ul { margin: 0; padding-left: 1.25rem; }
.error-summary a { color: var(--gh-danger); font-weight: 600; }
.error-summary:focus { outline: 3px solid var(--gh-focus); outline-offset: 2px; }
.notice { border: 2px solid var(--gh-ok); border-radius: var(--gh-radius); padding: .75rem 1rem; margin: 0 0 1rem; color: var(--gh-ok); background: var(--gh-ok-bg); }
.client { display: flex; align-items: center; gap: .75rem; margin: 0 0 1.25rem; padding: 0 0 1rem; border-bottom: 1px solid var(--gh-line); font-weight: 600; font-size: 1.05rem; overflow-wrap: anywhere; }
.client img { flex: none; width: 40px; height: 40px; object-fit: contain; border-radius: var(--gh-radius); }
.links { margin-top: 1.5rem; }
.account-nav ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; padding: 0; margin: 0 0 1.25rem; }
.sessions, .identities, .providers, .scopes { list-style: none; padding: 0; margin: 0; }
.sessions li, .identities li { border: 1px solid var(--gh-line); border-radius: var(--gh-radius); padding: .75rem 1rem; margin: 0 0 .75rem; }
.sessions form, .identities form { display: inline; }
.scopes li { padding: .35rem 0; border-bottom: 1px solid var(--gh-line); }
.providers li { margin: 0 0 .5rem; }
.tag { display: inline-block; font-size: .8rem; font-weight: 600; padding: 0 .4rem; border: 1px solid var(--gh-ok); border-radius: var(--gh-radius); background: var(--gh-ok-bg); color: var(--gh-ok); }
.ua { color: var(--gh-muted); font-size: .85rem; word-break: break-all; }
.start { padding-left: 1.25rem; }
.start li { margin: 0 0 .5rem; }
details { margin: 0 0 1rem; }
summary { cursor: pointer; color: var(--gh-accent); }
pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
/* The language picker: the four languages side by side, no bullets. */
.languages { list-style: none; padding: 0; margin: .5rem 0 0; display: flex; flex-wrap: wrap; gap: .5rem; }
.languages li { margin: 0; }
.languages button { margin-top: 0; }
/* Wrapped, not scrolled: a scrolling region would need keyboard focus (axe scrollable-region-focusable). */
pre { white-space: pre-wrap; overflow-wrap: anywhere; padding: .75rem 1rem; border: 1px solid var(--gh-line); border-radius: var(--gh-radius); background: var(--gh-code); color: var(--gh-ink); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: start; padding: .4rem .5rem; border-bottom: 1px solid var(--gh-line); }
.site-footer { padding: 1rem 1rem 2rem; font-size: .875rem; color: var(--gh-muted); }
.site-footer ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; justify-content: center; gap: .25rem 1.25rem; }
.site-footer a { color: var(--gh-muted); }
@media (max-width: 30rem) {
  .site-header { padding-top: 1rem; }
  main { padding: .5rem 0 2rem; }
  .card { padding: 1.25rem 1rem; border-left: 0; border-right: 0; border-radius: 0; box-shadow: none; }
  .wide { padding: 0 .75rem; }
}
`;

const cache = new WeakMap<Brand, string>();

/**
 * The stylesheet for `brand`. The brand's values land inside a <style> element, so they are
 * checked again here (the config already refuses bad ones): anything else falls back to the default.
 */
export function stylesheetFor(brand: Brand): string {
  let css = cache.get(brand);
  if (css === undefined) {
    const light = isHexColor(brand.accentColor) ? brand.accentColor : DEFAULT_ACCENT;
    const dark = isHexColor(brand.accentColorDark) ? brand.accentColorDark : DEFAULT_ACCENT_DARK;
    const radius = RADIUS_PATTERN.test(brand.radius) ? brand.radius : '6px';
    css = `:root { --gh-accent-light: ${light}; --gh-accent-dark: ${dark}; --gh-radius: ${radius}; }${BASE}`;
    cache.set(brand, css);
  }
  return css;
}
