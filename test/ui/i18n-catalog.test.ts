import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAMESPACES } from '../../src/ui/i18n/messages/index.ts';
import type { Message } from '../../src/ui/i18n/catalog.ts';
import { LOCALES } from '../../src/ui/i18n/locales.ts';
import { fromAcceptLanguage, fromUiLocales, negotiateLocale } from '../../src/ui/i18n/negotiate.ts';
import { translator } from '../../src/ui/i18n/translate.ts';
import { html, toHtmlString } from '../../src/ui/html.ts';

function placeholders(message: Message): string[] {
  const texts = typeof message === 'string' ? [message] : Object.values(message);
  const names = new Set<string>();
  for (const text of texts) for (const match of text.matchAll(/\{([a-zA-Z0-9_]+)\}/g)) names.add(match[1]!);
  return [...names].sort();
}

/** Every missing key and placeholder mismatch, as messages (empty: the catalogs agree). */
function catalogProblems(namespaces: Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, Message>>>>>>): string[] {
  const problems: string[] = [];
  for (const [name, namespace] of Object.entries(namespaces)) {
    const keys = new Set<string>();
    for (const locale of LOCALES) for (const key of Object.keys(namespace[locale] ?? {})) keys.add(key);
    for (const locale of LOCALES) {
      const messages = namespace[locale] ?? {};
      for (const key of keys) {
        const english = namespace.en?.[key];
        const message = messages[key];
        if (english === undefined) problems.push(`${key} is in ${locale} but not in English (namespace ${name})`);
        if (message === undefined) { problems.push(`${locale} misses ${key} (namespace ${name})`); continue; }
        if (english === undefined) continue;
        // {count} may be implied by a plural form ("one" without the number), so it is not required.
        const expected = placeholders(english).filter((p) => p !== 'count').join(',');
        const actual = placeholders(message).filter((p) => p !== 'count').join(',');
        if (actual !== expected) problems.push(`${locale} ${key}: placeholders {${actual}} differ from English {${expected}}`);
      }
    }
  }
  return problems;
}

test('every catalog has every key another language has, with the same placeholders', () => {
  assert.deepEqual(catalogProblems(NAMESPACES), []);
});

test('the check refuses a catalog that misses a key or a placeholder', () => {
  const broken = {
    x: { en: { 'x.a': 'A {name}', 'x.b': 'B' }, de: { 'x.a': 'A' }, fr: { 'x.a': 'A {name}', 'x.b': 'B' }, es: { 'x.a': 'A {name}', 'x.b': 'B', 'x.c': 'C' } },
  };
  assert.deepEqual(catalogProblems(broken).sort(), [
    'de misses x.b (namespace x)',
    'de misses x.c (namespace x)',
    'de x.a: placeholders {} differ from English {name}',
    'en misses x.c (namespace x)',
    'fr misses x.c (namespace x)',
    'x.c is in de but not in English (namespace x)',
    'x.c is in en but not in English (namespace x)',
    'x.c is in es but not in English (namespace x)',
    'x.c is in fr but not in English (namespace x)',
  ].sort());
});

test('every key carries its namespace as prefix, and no message is empty', () => {
  for (const [name, namespace] of Object.entries(NAMESPACES)) {
    for (const locale of LOCALES) {
      for (const [key, message] of Object.entries(namespace[locale] as Readonly<Record<string, Message>>)) {
        assert.ok(key.startsWith(`${name}.`), `${key} is not under ${name}.`);
        const texts = typeof message === 'string' ? [message] : Object.values(message);
        assert.ok(typeof message === 'string' || typeof message.other === 'string', `${locale} ${key}: a plural needs "other"`);
        for (const text of texts) assert.ok(text.trim().length > 0, `${locale} ${key} is empty`);
      }
    }
  }
});

test('ui_locales: the first supported tag, by primary language; junk ignored', () => {
  assert.equal(fromUiLocales('fr-CA en'), 'fr');
  assert.equal(fromUiLocales('ja de'), 'de');
  assert.equal(fromUiLocales('<script> es'), 'es');
  assert.equal(fromUiLocales('ja zh'), undefined);
  assert.equal(fromUiLocales(undefined), undefined);
});

test('Accept-Language: highest q wins, q=0 never, ties by order', () => {
  assert.equal(fromAcceptLanguage('de-DE,de;q=0.9,en;q=0.8'), 'de');
  assert.equal(fromAcceptLanguage('ja, fr;q=0.5, es;q=0.7'), 'es');
  assert.equal(fromAcceptLanguage('fr;q=0, en;q=0.1'), 'en');
  assert.equal(fromAcceptLanguage('es, fr'), 'es');
  assert.equal(fromAcceptLanguage('*'), undefined);
  assert.equal(fromAcceptLanguage('x'.repeat(5000)), undefined);
});

test('negotiation order: ui_locales, cookie, Accept-Language, default', () => {
  assert.equal(negotiateLocale({ uiLocales: 'fr', cookie: 'de', acceptLanguage: 'es', defaultLocale: 'en' }), 'fr');
  assert.equal(negotiateLocale({ cookie: 'de', acceptLanguage: 'es', defaultLocale: 'en' }), 'de');
  assert.equal(negotiateLocale({ cookie: 'xx', acceptLanguage: 'es', defaultLocale: 'en' }), 'es');
  assert.equal(negotiateLocale({ acceptLanguage: 'ja', defaultLocale: 'de' }), 'de');
});

test('plurals, placeholders, markup params escaped, durations and dates through Intl', () => {
  const en = translator('en');
  const de = translator('de');
  assert.equal(en.t('common.errorSummary', { count: 1 }), 'There is a problem');
  assert.equal(en.t('common.errorSummary', { count: 3 }), 'There are 3 problems');
  assert.equal(de.t('common.errorSummary', { count: 2 }), 'Es gibt 2 Probleme');
  assert.equal(en.duration(61), '2 minutes');
  assert.equal(en.duration(3600), '1 hour');
  assert.equal(de.duration(30), '30 Sekunden');
  assert.equal(translator('fr').list(['a', 'b', 'c']), 'a, b et c');
  assert.match(de.dateTime(Date.UTC(2026, 11, 4, 9, 5)), /4\.12\.2026|04\.12\.2026/);
  // tHtml escapes the message and string params, and keeps SafeHtml params as markup.
  const sentence = en.tHtml('common.errorSummary', { count: 2 });
  assert.equal(toHtmlString(sentence), 'There are 2 problems');
  const withMarkup = toHtmlString(html`${en.t('common.language')}<b>${'<x>'}</b>`);
  assert.equal(withMarkup, 'Language<b>&lt;x&gt;</b>');
});
