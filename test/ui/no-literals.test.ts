/**
 * Issue 18, "no string literals left in page code": a static check of the page-rendering source
 * files. Every user-visible text (text nodes, titles, labels, hints, aria-labels, alt text) must
 * come from the message catalog (src/ui/i18n/messages/), so a page cannot show English to a
 * German user because someone typed `<p>Hello</p>`. The scanner reads each file's template
 * literals (only their literal parts: `${…}` interpolations are replaced by a marker) and string
 * literals after `title:`, `label:`, `hint:`; the self-test below proves it catches literals.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CATALOGS } from '../../src/ui/i18n/messages/index.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const MARK = '\u0000';

interface Finding {
  file: string;
  line: number;
  text: string;
}

/**
 * Texts that may stand in page code, each with its reason. Matched against the whole finding
 * (trimmed). Keep it short: anything a person reads in a language belongs in the catalog.
 */
const ALLOWED: readonly { text: RegExp; reason: string }[] = [
  { text: /^[^\p{L}]*$/u, reason: 'no letter at all: separators and symbols such as "·", "—", "→", "×"' },
  { text: /^(Google|GitHub|OpenID Connect|OAuth 2\.0)$/, reason: 'names of identity-provider types (admin console): proper names, the same in every language' },
  { text: /^(CSV|NDJSON)$/, reason: 'file format names of the audit export links: the same in every language' },
];

/** A message key (`'account.profile.title'`) passed as a title or label is translated where it is shown. */
const isMessageKey = (text: string) => CATALOGS.en.has(text.trim());

/** The template literals of `source` (literal text with `${…}` as MARK, and where each starts), and the code outside them. */
export function scanSource(source: string): { templates: { text: string; line: number }[]; code: { text: string; line: number }[] } {
  const templates: { text: string; line: number }[] = [];
  const code: { text: string; line: number }[] = [];
  let index = 0;
  const lineAt = (position: number) => source.slice(0, position).split('\n').length;

  /** Skips a quoted string starting at `index` (on the quote); returns its content. */
  function quoted(quote: string): string {
    const start = ++index;
    while (index < source.length && source[index] !== quote) index += source[index] === '\\' ? 2 : 1;
    return source.slice(start, index++);
  }
  function regexLiteral(): void {
    let inClass = false;
    for (index++; index < source.length; index++) {
      const char = source[index];
      if (char === '\\') index++;
      else if (char === '[') inClass = true;
      else if (char === ']') inClass = false;
      else if (char === '/' && !inClass) break;
      else if (char === '\n') break;
    }
    index++;
  }
  /** Code until the `}` closing depth 0 (for `${…}`), or the end of the file. */
  function codeUntilBrace(topLevel: boolean): void {
    let depth = 0;
    let previous = '';
    while (index < source.length) {
      const char = source[index]!;
      const next = source[index + 1];
      if (char === '/' && next === '/') { index = source.indexOf('\n', index); if (index < 0) index = source.length; continue; }
      if (char === '/' && next === '*') { index = source.indexOf('*/', index) + 2; continue; }
      if (char === "'" || char === '"') {
        const start = index;
        const text = quoted(char);
        code.push({ text: source.slice(Math.max(0, start - 40), start) + MARK + text, line: lineAt(start) });
        previous = 'a';
        continue;
      }
      if (char === '`') {
        const start = index;
        template();
        // A template without interpolation is a string literal too (`title: \`Sign in\``).
        const last = templates.at(-1)!;
        if (!last.text.includes(MARK)) code.push({ text: source.slice(Math.max(0, start - 40), start) + MARK + last.text, line: last.line });
        previous = 'a';
        continue;
      }
      if (char === '/' && (previous === '' || /[(,=:[!&|?{};+\-*%<>~^]/.test(previous))) { regexLiteral(); previous = 'a'; continue; }
      if (char === '{') depth++;
      if (char === '}') {
        if (depth === 0 && !topLevel) { index++; return; }
        depth--;
      }
      if (!/\s/.test(char)) previous = char;
      index++;
    }
  }
  function template(): void {
    const start = index++;
    let text = '';
    while (index < source.length && source[index] !== '`') {
      if (source[index] === '\\') { text += source.slice(index, index + 2); index += 2; continue; }
      if (source[index] === '$' && source[index + 1] === '{') {
        index += 2;
        codeUntilBrace(false);
        text += MARK;
        continue;
      }
      text += source[index++];
    }
    index++;
    templates.push({ text, line: lineAt(start) });
  }
  codeUntilBrace(true);
  return { templates, code };
}

const allowed = (text: string) => isMessageKey(text) || ALLOWED.some((entry) => entry.text.test(text.trim()));

/** User-visible literals in one source file. */
export function findLiterals(file: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const { templates, code } = scanSource(source);
  for (const template of templates) {
    // Markup only: a template with no tag is a URL, a log line, CSS or a message.
    if (!/<\/?[a-z]/i.test(template.text)) continue;
    const markup = template.text.replace(/<(style|script)\b[^>]*>[\s\S]*?<\/\1>/g, '');
    for (const match of markup.matchAll(/>([^<>]*)</g)) {
      const text = match[1]!.replaceAll(MARK, ' ').replace(/&[#a-z0-9]+;/gi, ' ');
      if (/\p{L}/u.test(text) && !allowed(text)) findings.push({ file, line: template.line, text: text.trim() });
    }
    for (const match of markup.matchAll(/\b(aria-label|alt|title|placeholder)="([^"]*)"/g)) {
      const text = match[2]!.replaceAll(MARK, ' ');
      if (/\p{L}/u.test(text) && !allowed(text)) findings.push({ file, line: template.line, text: `${match[1]}="${match[2]}"` });
    }
  }
  for (const literal of code) {
    const [before = '', text = ''] = literal.text.split(MARK);
    if (/\b(title|label|hint|aria-label|alt|placeholder)\s*:\s*$/.test(before) && /\p{L}/u.test(text) && !allowed(text)) {
      findings.push({ file, line: literal.line, text: `${/(\w[\w-]*)\s*:\s*$/.exec(before)?.[1]}: '${text}'` });
    }
  }
  return findings;
}

function filesUnder(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The page-rendering sources (issue 18): pages, layout, theme, the console, the OAuth pages, the mails. */
export function pageSources(): string[] {
  const source = (path: string) => path.endsWith('.ts') && !path.endsWith('.test.ts') && !path.endsWith('.d.ts');
  const ui = filesUnder(join(ROOT, 'src/ui')).filter((path) => source(path)
    && !path.includes('/i18n/messages/')
    // Test-only: a cookie jar over app.inject(), imported by tests and never by the server.
    && !path.endsWith('/ui/test-browser.ts'));
  const consoleFiles = filesUnder(join(ROOT, 'src/features/admin/console')).filter(source);
  const authorize = filesUnder(join(ROOT, 'src/features/oauth/authorize')).filter((path) => source(path) && (/page/.test(path) || /sendPage|html`/.test(readFileSync(path, 'utf8'))));
  const email = filesUnder(join(ROOT, 'src/features/email')).filter(source);
  return [...ui, ...consoleFiles, ...authorize, join(ROOT, 'src/features/oauth/end-session/route.ts'), ...email].sort();
}

describe('no literals in page code (static check)', () => {
  it('self-test: finds a literal text node, title, label, hint, aria-label and alt; passes translated markup', () => {
    const sample = [
      "const a = html`<p>Hello</p>`;",
      "const b = html`<h1>${tr.t('signIn.title')}</h1><p>${tr.t('x')} · ${name}</p>`;",
      "sendPage(reply, { title: 'Sign in', body });",
      "input({ name: 'email', label: \"Email address\", hint: `We never share it` });",
      "const c = html`<nav aria-label=\"Main\"><img src=\"/x.svg\" alt=\"Company logo\"><img alt=\"\" src=\"/y.svg\"></nav>`;",
      "const d = html`<ul>${items.map((item) => html`<li>Item ${item}</li>`)}</ul>`;",
      "const e = `<p style=\"margin:0\">${escapeHtml(text)}</p>`; const r = /[<>\"']/g; const s = 'it\\'s';",
      "// <p>in a comment</p>\nconst f = html`<button type=\"submit\">${tr.t('common.continue')}</button>`;",
    ].join('\n');
    const found = findLiterals('sample.ts', sample).map((finding) => `${finding.line}: ${finding.text}`);
    assert.deepEqual(found, [
      '1: Hello',
      '5: aria-label="Main"',
      '5: alt="Company logo"',
      '6: Item',
      '3: title: \'Sign in\'',
      '4: label: \'Email address\'',
      '4: hint: \'We never share it\'',
    ]);
    assert.deepEqual(findLiterals('hint.ts', "input({ hint: 'Eight characters or more' })").map((finding) => finding.text), ["hint: 'Eight characters or more'"]);
  });

  it('the page-rendering sources carry no user-visible English', () => {
    const files = pageSources();
    assert.ok(files.length > 40, `scanned ${files.length} files`);
    const findings = files.flatMap((path) => findLiterals(relative(ROOT, path), readFileSync(path, 'utf8')));
    assert.deepEqual(findings.map((finding) => `${finding.file}:${finding.line}: ${finding.text}`), []);
  });
});
