import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';

/**
 * The brand's local files (logo, dark logo, favicon, extra stylesheet): read once at start-up,
 * checked, and served by this server (src/ui/theme/assets.ts) — never a remote URL, so the page
 * CSP keeps `img-src 'self' data:` for them. The config schema runs the same checks, so a bad
 * file stops the start-up with a config error naming the key.
 */

export type BrandFileKind = 'image' | 'stylesheet';

export interface BrandFile {
  bytes: Buffer;
  contentType: 'image/svg+xml' | 'image/png' | 'text/css; charset=utf-8';
  extension: 'svg' | 'png' | 'css';
  /** Intrinsic size of an image (CSS pixels); 0 for a stylesheet. */
  width: number;
  height: number;
  /** A short content hash: the URL changes when the file does, so it can be cached for a year. */
  version: string;
}

export const MAX_IMAGE_BYTES = 512 * 1024;
export const MAX_STYLESHEET_BYTES = 256 * 1024;

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A problem with a brand file, worded for a config error ("… must be …"). */
export class BrandFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BrandFileError';
  }
}

function read(path: string, limit: number): Buffer {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new BrandFileError(`${path} is not a file`);
    size = stat.size;
  } catch (error) {
    if (error instanceof BrandFileError) throw error;
    throw new BrandFileError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (size === 0) throw new BrandFileError(`${path} is empty`);
  if (size > limit) throw new BrandFileError(`${path} is ${Math.ceil(size / 1024)} KiB; at most ${limit / 1024} KiB`);
  return readFileSync(path);
}

function version(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64url').slice(0, 12);
}

/** An SVG's size from width/height (plain numbers or px), else its viewBox, else 1×1 (square). */
function svgSize(text: string): { width: number; height: number } {
  const root = /<svg\b[^>]*>/i.exec(text)?.[0] ?? '';
  const attribute = (name: string): number | undefined => {
    const value = new RegExp(`\\s${name}\\s*=\\s*["']\\s*([0-9]+(?:\\.[0-9]+)?)(?:px)?\\s*["']`, 'i').exec(root)?.[1];
    return value === undefined ? undefined : Number(value);
  };
  const width = attribute('width');
  const height = attribute('height');
  if (width && height) return { width, height };
  const box = /\sviewBox\s*=\s*["']\s*[-0-9.]+[\s,]+[-0-9.]+[\s,]+([0-9.]+)[\s,]+([0-9.]+)\s*["']/i.exec(root);
  if (box && Number(box[1]) > 0 && Number(box[2]) > 0) return { width: Number(box[1]), height: Number(box[2]) };
  return { width: 1, height: 1 };
}

function checkSvg(path: string, bytes: Buffer): { width: number; height: number } {
  const text = bytes.toString('utf8');
  if (!/<svg[\s>]/i.test(text)) throw new BrandFileError(`${path} is not an SVG image (no <svg> element)`);
  // Defence in depth: an image never needs script. (Served with a sandboxing CSP as well, so even
  // opened directly, an SVG cannot run script on this origin.)
  if (/<script|<foreignObject|<!ENTITY|\son[a-z]+\s*=|javascript:/i.test(text)) {
    throw new BrandFileError(`${path} contains script, event handlers, foreignObject or entities; export a plain SVG`);
  }
  return svgSize(text);
}

function checkPng(path: string, bytes: Buffer): { width: number; height: number } {
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(PNG_SIGNATURE) || bytes.toString('latin1', 12, 16) !== 'IHDR') {
    throw new BrandFileError(`${path} is not a PNG image`);
  }
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Reads and checks one brand file; throws BrandFileError with the reason. */
export function readBrandFile(path: string, kind: BrandFileKind): BrandFile {
  const extension = extname(path).toLowerCase();
  if (kind === 'stylesheet') {
    if (extension !== '.css') throw new BrandFileError(`${path} must be a .css file`);
    const bytes = read(path, MAX_STYLESHEET_BYTES);
    if (bytes.includes(0)) throw new BrandFileError(`${path} is not a text stylesheet`);
    return { bytes, contentType: 'text/css; charset=utf-8', extension: 'css', width: 0, height: 0, version: version(bytes) };
  }
  if (extension !== '.svg' && extension !== '.png') throw new BrandFileError(`${path} must be an .svg or .png file`);
  const bytes = read(path, MAX_IMAGE_BYTES);
  const size = extension === '.svg' ? checkSvg(path, bytes) : checkPng(path, bytes);
  return extension === '.svg'
    ? { bytes, contentType: 'image/svg+xml', extension: 'svg', ...size, version: version(bytes) }
    : { bytes, contentType: 'image/png', extension: 'png', ...size, version: version(bytes) };
}
