import type { Translator } from '../i18n/index.ts';

/**
 * A short device name for a session ("Chrome on Linux", "Safari on iPhone") from its User-Agent
 * header. Only what the account page needs to tell sessions apart: the browser family and the
 * operating system, both proper names, so only the joining words are translated. The full string
 * stays available on the page. Order matters: Edge, Opera and Samsung Internet also say
 * "Chrome", Chrome also says "Safari", Android also says "Linux", iOS also says "Mac OS X".
 */

export interface DeviceParts {
  browser: string | null;
  system: string | null;
  /** The system names a device (iPhone, iPad) rather than an operating system: German says "auf dem iPhone" but "unter Linux". */
  systemIsDevice: boolean;
}

const BROWSERS: readonly (readonly [RegExp, string])[] = [
  [/\bEdg(e|A|iOS)?\//, 'Edge'],
  [/\bOPR\/|\bOPiOS\/|\bOpera\b/, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\bFirefox\/|\bFxiOS\//, 'Firefox'],
  [/(?:\b|Headless)Chrom(e|ium)\/|\bCriOS\//, 'Chrome'],
  [/\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
];

const SYSTEMS: readonly (readonly [RegExp, string])[] = [
  [/\biPhone\b|\biPod\b/, 'iPhone'],
  [/\biPad\b/, 'iPad'],
  [/\bAndroid\b/, 'Android'],
  [/\bWindows\b/, 'Windows'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bMacintosh\b|\bMac OS X\b/, 'macOS'],
  [/\bLinux\b|\bX11\b/, 'Linux'],
];

const DEVICES: ReadonlySet<string> = new Set(['iPhone', 'iPad']);

// Header values are bounded by the server's header limits; the patterns look at a prefix only.
const MAX_INSPECTED = 512;

export function classifyUserAgent(userAgent: string | null | undefined): DeviceParts {
  const text = (userAgent ?? '').slice(0, MAX_INSPECTED);
  const browser = BROWSERS.find(([pattern]) => pattern.test(text))?.[1] ?? null;
  const system = SYSTEMS.find(([pattern]) => pattern.test(text))?.[1] ?? null;
  return { browser, system, systemIsDevice: system !== null && DEVICES.has(system) };
}

/** "Chrome on Linux" in the page's language; "Unknown device" when nothing is recognised. */
export function deviceName(tr: Translator, userAgent: string | null | undefined): string {
  const { browser, system, systemIsDevice } = classifyUserAgent(userAgent);
  if (browser && system) return tr.t(systemIsDevice ? 'account.device.browserOnDevice' : 'account.device.browserOnSystem', { browser, system });
  if (browser) return browser;
  if (system) return tr.t(systemIsDevice ? 'account.device.browserOnlyDevice' : 'account.device.browserOnlySystem', { system });
  return tr.t('account.device.unknown');
}
