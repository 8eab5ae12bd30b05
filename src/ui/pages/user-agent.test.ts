/** The session list's short device names, on User-Agent strings real browsers send. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { translator } from '../i18n/index.ts';
import { classifyUserAgent, deviceName } from './user-agent.ts';

const REAL: readonly (readonly [string, string])[] = [
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on Windows'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on macOS'],
  ['Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Chrome on Android'],
  ['Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36', 'Chrome on ChromeOS'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1', 'Chrome on iPhone'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', 'Safari on iPhone'],
  ['Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1', 'Safari on iPad'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15', 'Safari on macOS'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Windows'],
  ['Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0', 'Firefox on Linux'],
  ['Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0', 'Firefox on Android'],
  ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15', 'Firefox on iPhone'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70', 'Edge on Windows'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 OPR/115.0.0.0', 'Opera on Windows'],
  ['Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36', 'Samsung Internet on Android'],
  ['curl/8.5.0', 'curl'],
  ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36', 'Chrome on Linux'],
];

describe('device names from User-Agent strings', () => {
  const en = translator('en');
  for (const [userAgent, expected] of REAL) {
    it(`${expected}`, () => assert.equal(deviceName(en, userAgent), expected));
  }

  it('unknown or missing → "Unknown device"; an OS without a known browser → "Browser on …"', () => {
    assert.equal(deviceName(en, null), 'Unknown device');
    assert.equal(deviceName(en, ''), 'Unknown device');
    assert.equal(deviceName(en, 'python-requests/2.32.3'), 'Unknown device');
    assert.equal(deviceName(en, 'Mozilla/5.0 (X11; Linux x86_64) SomeKiosk/1.0'), 'Browser on Linux');
    assert.deepEqual(classifyUserAgent('x'.repeat(100_000)), { browser: null, system: null, systemIsDevice: false });
  });

  it('the joining words are translated; the names are not', () => {
    const chrome = REAL[0]![0];
    assert.equal(deviceName(translator('de'), chrome), 'Chrome unter Linux');
    assert.equal(deviceName(translator('fr'), chrome), 'Chrome sur Linux');
    assert.equal(deviceName(translator('es'), chrome), 'Chrome en Linux');
    assert.equal(deviceName(translator('de'), null), 'Unbekanntes Gerät');
    assert.equal(deviceName(translator('de'), REAL[6]![0]), 'Safari auf dem iPhone', 'a device, not an operating system');
    assert.equal(deviceName(translator('fr'), REAL[6]![0]), 'Safari sur iPhone');
    assert.equal(deviceName(translator('fr'), null), 'Appareil inconnu');
    assert.equal(deviceName(translator('es'), null), 'Dispositivo desconocido');
  });
});
