import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, html, isSafeHtml, toHtmlString, unsafeRaw } from './html.ts';

describe('html template', () => {
  it('escapes & < > " \' and backtick in interpolated strings', () => {
    assert.equal(escapeHtml(`&<>"'\``), '&amp;&lt;&gt;&quot;&#39;&#96;');
    const out = toHtmlString(html`<p title="${'" onmouseover="x'}">${'<script>alert(1)</script>'}</p>`);
    assert.equal(out, '<p title="&quot; onmouseover=&quot;x">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('escapes each value once: an already-escaped string is escaped again, not trusted', () => {
    assert.equal(toHtmlString(html`${'&amp;'}`), '&amp;amp;');
  });

  it('inserts nested templates as markup and joins arrays of them', () => {
    const items = ['a<b', 'c&d'].map((text) => html`<li>${text}</li>`);
    assert.equal(toHtmlString(html`<ul>${items}</ul>`), '<ul><li>a&lt;b</li><li>c&amp;d</li></ul>');
  });

  it('renders null, undefined and false as nothing; numbers and true as text', () => {
    assert.equal(toHtmlString(html`[${null}${undefined}${false}]`), '[]');
    assert.equal(toHtmlString(html`${0} ${42} ${true}`), '0 42 true');
  });

  it('does not trust look-alike objects: only branded values count as markup', () => {
    const forged = { value: '<img src=x onerror=alert(1)>' } as unknown as string;
    assert.equal(isSafeHtml(forged), false);
    assert.equal(toHtmlString(html`${forged}`), '[object Object]');
    const alsoForged = JSON.parse(JSON.stringify(html`<b>x</b>`)) as unknown;
    assert.equal(isSafeHtml(alsoForged), false, 'a SafeHtml that went through JSON loses its brand');
  });

  it('keeps literal template text unescaped and unsafeRaw as-is', () => {
    assert.equal(toHtmlString(html`<b>${unsafeRaw('<i>ok</i>')}</b>`), '<b><i>ok</i></b>');
  });

  it('escapes strings inside nested arrays', () => {
    assert.equal(toHtmlString(html`${[['<'], [html`<br>`, '>']]}`), '&lt;<br>&gt;');
  });
});
