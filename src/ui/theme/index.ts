/** The brand and theme of the hosted pages and mails (docs/branding.md). */
export { registerTheme, BRAND_ASSET_PREFIX, type ThemeConfig } from './register.ts';
export { brandFor, currentBrand, themeFor, DEFAULT_BRAND, DEFAULT_THEME, type Brand, type BrandImage, type Theme } from './brand.ts';
export { contrastRatio, relativeLuminance, TEXT_CONTRAST, UI_CONTRAST } from './contrast.ts';
export { LIGHT, DARK, contrastPairs, contrastProblems } from './palette.ts';
