import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { addVaryAccept, prefersHtml } from './accept.ts';

const CHROMIUM_NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';
const FIREFOX_NAVIGATION = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('prefersHtml', () => {
  for (const [accept, expected] of [
    [CHROMIUM_NAVIGATION, true],
    [FIREFOX_NAVIGATION, true],
    ['text/html', true],
    ['application/xhtml+xml', true],
    ['application/json;q=0.5, text/html', true],
    [undefined, false],
    ['', false],
    ['*/*', false], // fetch() and curl
    ['application/json', false],
    ['application/json, text/plain, */*', false], // axios
    ['text/*', false], // a wildcard never selects HTML
    ['text/html, application/json', false], // a tie keeps JSON
    ['text/html;q=0.5, application/json', false],
    ['text/html;q=0, */*', false],
    ['text/html;q=0.9, */*;q=1', false], // */* covers JSON at a higher quality
    ['TEXT/HTML', true],
  ] as const) {
    it(`${accept === undefined ? '(no Accept)' : JSON.stringify(accept)} → ${expected ? 'HTML' : 'JSON'}`, () => {
      assert.equal(prefersHtml({ headers: accept === undefined ? {} : { accept } }), expected);
    });
  }
});

describe('addVaryAccept', () => {
  function reply(initial?: string): { headers: Record<string, string>; getHeader(name: string): unknown; header(name: string, value: string): void } {
    const headers: Record<string, string> = initial === undefined ? {} : { vary: initial };
    return { headers, getHeader: (name) => headers[name], header: (name, value) => void (headers[name] = value) };
  }

  it('sets Vary: Accept, keeps an existing Vary and does not repeat itself', () => {
    const empty = reply();
    addVaryAccept(empty);
    assert.equal(empty.headers.vary, 'Accept');
    const withOrigin = reply('Origin');
    addVaryAccept(withOrigin);
    addVaryAccept(withOrigin);
    assert.equal(withOrigin.headers.vary, 'Origin, Accept');
  });
});
