/**
 * WCAG 2.1 contrast (success criteria 1.4.3 and 1.4.11): relative luminance of sRGB colours and
 * the ratio between two of them. Text needs 4.5:1, user-interface components 3:1.
 */

export const TEXT_CONTRAST = 4.5;
export const UI_CONTRAST = 3;

const HEX_COLOR = /^#[0-9a-f]{6}$/;

export function isHexColor(value: string): boolean {
  return HEX_COLOR.test(value);
}

/** WCAG 2.1 "relative luminance" of a #rrggbb colour. */
export function relativeLuminance(hex: string): number {
  if (!isHexColor(hex)) throw new RangeError(`not a #rrggbb colour: ${hex}`);
  const channel = (offset: number): number => {
    const value = Number.parseInt(hex.slice(offset, offset + 2), 16) / 255;
    return value <= 0.04045 ? value / 12.92 : ((value + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
}

/** (L1 + 0.05) / (L2 + 0.05), the lighter colour first: 1 to 21. */
export function contrastRatio(a: string, b: string): number {
  const [light, dark] = [relativeLuminance(a), relativeLuminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

/** The ratio rounded down to two decimals, for messages ("3.94:1"): never shown as passing when it does not. */
export function formatRatio(ratio: number): string {
  return `${(Math.floor(ratio * 100) / 100).toFixed(2)}:1`;
}
