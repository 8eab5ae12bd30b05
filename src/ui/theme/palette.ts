import { contrastRatio, formatRatio, TEXT_CONTRAST, UI_CONTRAST } from './contrast.ts';

/**
 * The two built-in colour schemes (light, and dark for `prefers-color-scheme: dark`). Only the
 * accent comes from the brand; every other colour is fixed here so the contrast of each pair
 * the stylesheet uses can be checked once (test/ui/theme.test.ts) and a configured accent can be
 * checked against the backgrounds it lands on at start-up (src/config/schema-branding.ts).
 */
export interface Palette {
  /** Behind the card. */
  page: string;
  /** The card, inputs, secondary buttons. */
  surface: string;
  ink: string;
  muted: string;
  /** Decorative separators only (no contrast requirement: never the only cue). */
  line: string;
  /** Input and control borders (WCAG 1.4.11: 3:1). */
  control: string;
  /** Text on an accent-coloured (primary) button. */
  onAccent: string;
  danger: string;
  dangerBackground: string;
  ok: string;
  okBackground: string;
  focus: string;
  code: string;
}

export const LIGHT: Palette = Object.freeze({
  page: '#f3f4f6',
  surface: '#ffffff',
  ink: '#1a1a1a',
  muted: '#4a4a4a',
  line: '#d0d0d0',
  control: '#767676',
  onAccent: '#ffffff',
  danger: '#a50e0e',
  dangerBackground: '#fdecea',
  ok: '#0d652d',
  okBackground: '#e6f4ea',
  focus: '#b45309',
  code: '#f6f6f6',
});

export const DARK: Palette = Object.freeze({
  page: '#131416',
  surface: '#1e1f22',
  ink: '#e3e3e3',
  muted: '#b4b4b4',
  line: '#3c3f44',
  control: '#8e8e8e',
  onAccent: '#111111',
  danger: '#f2b8b5',
  dangerBackground: '#3b1614',
  ok: '#6dd58c',
  okBackground: '#10301c',
  focus: '#fdba74',
  code: '#26282c',
});

export const DEFAULT_ACCENT = '#0b57d0';
export const DEFAULT_ACCENT_DARK = '#a8c7fa';

export interface ContrastPair {
  what: string;
  foreground: string;
  background: string;
  /** 4.5 for text, 3 for user-interface components. */
  minimum: number;
}

/** Where the accent lands: links on the page and the card, and behind the primary button's label. */
export function accentPairs(accent: string, palette: Palette): ContrastPair[] {
  return [
    { what: 'links on the card', foreground: accent, background: palette.surface, minimum: TEXT_CONTRAST },
    { what: 'links on the page', foreground: accent, background: palette.page, minimum: TEXT_CONTRAST },
    { what: 'primary button label', foreground: palette.onAccent, background: accent, minimum: TEXT_CONTRAST },
  ];
}

/** Every colour pair the stylesheet puts text or a control on, for one scheme and accent. */
export function contrastPairs(accent: string, palette: Palette): ContrastPair[] {
  const text = (what: string, foreground: string, background: string): ContrastPair => ({ what, foreground, background, minimum: TEXT_CONTRAST });
  const ui = (what: string, foreground: string, background: string): ContrastPair => ({ what, foreground, background, minimum: UI_CONTRAST });
  return [
    ...accentPairs(accent, palette),
    text('text on the card', palette.ink, palette.surface),
    text('text on the page', palette.ink, palette.page),
    text('muted text on the card', palette.muted, palette.surface),
    text('muted text on the page', palette.muted, palette.page),
    text('text in code blocks', palette.ink, palette.code),
    text('errors on the card', palette.danger, palette.surface),
    text('error box text', palette.danger, palette.dangerBackground),
    text('notice box text', palette.ok, palette.okBackground),
    text('success tag', palette.ok, palette.okBackground),
    ui('input borders', palette.control, palette.surface),
    ui('focus ring on the card', palette.focus, palette.surface),
    ui('focus ring on the page', palette.focus, palette.page),
    ui('danger button border', palette.danger, palette.surface),
  ];
}

/** The pairs below their minimum, as "links on the card: 3.21:1 (needs 4.5:1)". */
export function contrastProblems(pairs: readonly ContrastPair[]): string[] {
  return pairs.flatMap((pair) => {
    const ratio = contrastRatio(pair.foreground, pair.background);
    return ratio >= pair.minimum ? [] : [`${pair.what}: ${formatRatio(ratio)} (needs ${pair.minimum}:1)`];
  });
}
