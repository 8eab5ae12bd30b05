import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { isLocale, type Locale } from '../../ui/i18n/index.ts';
import { escapeHtml } from './html.ts';
import { MAIL_TEMPLATES, isMailTemplateId, placeholdersOf, type MailTemplateId } from './template-ids.ts';

/**
 * Mail template overrides from `mailTemplateDir` (docs/branding.md, "Mail templates"): files
 * `<template>.<locale>.txt` and `<template>.<locale>.html` with `{{placeholder}}` substitution.
 * A `.txt` file may start with a `Subject: …` line. Values are substituted as they are in the
 * text part and always HTML-escaped in the HTML part. A missing file falls back to the built-in
 * mail; an unknown file name, template, locale or placeholder stops the start-up.
 */
export interface MailOverride {
  subject?: string;
  text?: string;
  html?: string;
}

export type MailOverrides = ReadonlyMap<string, MailOverride>;

const FILE = /^([a-z][a-z-]*)\.([a-z]{2})\.(txt|html)$/;
const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;
const SUBJECT_LINE = /^Subject:[ \t]*(.*)\r?\n/;

/** Thrown at start-up: names the file and what to fix. */
export class MailTemplateError extends Error {
  override name = 'MailTemplateError';
}

function key(id: MailTemplateId, locale: Locale): string {
  return `${id}.${locale}`;
}

/** Reads and validates every override in `dir` (synchronously: start-up only). */
export function loadMailTemplateOverrides(dir: string): MailOverrides {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new MailTemplateError(`mailTemplateDir: ${dir} is not a directory.`);
    names = readdirSync(dir).sort();
  } catch (error) {
    if (error instanceof MailTemplateError) throw error;
    throw new MailTemplateError(`mailTemplateDir: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'}). Create it or unset the key.`);
  }
  const found = new Map<string, MailOverride>();
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const match = FILE.exec(name);
    if (!match) throw new MailTemplateError(`mailTemplateDir: ${name} is not named <template>.<locale>.txt or .html.`);
    const [, template = '', locale = '', kind] = match;
    if (!isMailTemplateId(template)) throw new MailTemplateError(`mailTemplateDir: ${name}: no mail template "${template}" (known: ${Object.keys(MAIL_TEMPLATES).join(', ')}).`);
    if (!isLocale(locale)) throw new MailTemplateError(`mailTemplateDir: ${name}: "${locale}" is not a supported locale.`);
    let content = readFileSync(join(dir, name), 'utf8');
    const allowed = placeholdersOf(template);
    for (const placeholder of content.matchAll(PLACEHOLDER)) {
      if (!allowed.includes(placeholder[1]!)) throw new MailTemplateError(`mailTemplateDir: ${name}: unknown placeholder {{${placeholder[1]}}} (this template knows ${allowed.map((item) => `{{${item}}}`).join(', ')}).`);
    }
    const entry = found.get(key(template, locale)) ?? {};
    if (kind === 'txt') {
      const subject = SUBJECT_LINE.exec(content);
      if (subject) {
        entry.subject = subject[1]!.trim();
        content = content.slice(subject[0].length).replace(/^\r?\n/, '');
      }
      entry.text = content;
    } else {
      entry.html = content;
    }
    found.set(key(template, locale), entry);
  }
  return found;
}

const current = new AsyncLocalStorage<MailOverrides>();
let lastConfigured: MailOverrides = new Map();

/**
 * Start-up: loads `config.mailTemplateDir` when set (throws MailTemplateError when it is
 * invalid) and keeps the overrides for this app — tests run several apps in one process, so
 * like the brand they travel with each request (a preHandler context) rather than a global.
 */
export function registerMailTemplates(app: FastifyInstance, config: { readonly mailTemplateDir?: string | null | undefined }): MailOverrides {
  const dir = config.mailTemplateDir;
  const loaded = typeof dir === 'string' && dir !== '' ? loadMailTemplateOverrides(dir) : new Map<string, MailOverride>();
  lastConfigured = loaded;
  app.addHook('preHandler', (_request, _reply, done) => {
    current.run(loaded, done);
  });
  return loaded;
}

/** Runs `work` with these overrides (background jobs, the CLI, tests). */
export function withMailTemplates<T>(overrides: MailOverrides, work: () => T): T {
  return current.run(overrides, work);
}

export function overrideFor(id: MailTemplateId, locale: Locale): MailOverride | undefined {
  return (current.getStore() ?? lastConfigured).get(key(id, locale));
}

/** `{{name}}` → the value; in HTML always escaped. Only validated names reach here. */
export function substitute(template: string, values: Readonly<Record<string, string>>, mode: 'text' | 'html'): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = values[name] ?? '';
    return mode === 'html' ? escapeHtml(value) : value;
  });
}
