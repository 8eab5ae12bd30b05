import { currentTranslator, type Translator } from '../../ui/i18n/index.ts';
import { currentBrand } from '../../ui/theme/brand.ts';
import { isHttpUrl } from './html.ts';
import { htmlLayout, textLayout, type MailContent } from './layout.ts';
import type { OutgoingMail } from './mailer.ts';
import { overrideFor, substitute } from './overrides.ts';
import type { MailTemplateId } from './template-ids.ts';

/**
 * Builds one mail in the language of the request being handled (`currentTranslator()`) with the
 * configured brand: the override files of `mailTemplateDir` for this template and locale when
 * present, else the built-in content in the shared layout (text + HTML).
 */
/** A built-in mail plus the values its override files may use as `{{placeholders}}`. */
export interface BuiltMail extends MailContent {
  values: Readonly<Record<string, string>>;
}

export function composeMail(id: MailTemplateId, to: string, build: (tr: Translator, product: string) => BuiltMail): OutgoingMail {
  const tr = currentTranslator();
  const brand = currentBrand();
  const content = build(tr, brand.productName);
  const subject = tr.t('mail.subject', { product: brand.productName, title: content.subject });
  const builtIn = { subject, blocks: content.blocks };
  const override = overrideFor(id, tr.locale);
  const all = { ...content.values, productName: brand.productName, to };
  return {
    to,
    // A header line: never a line break from a value or an override.
    subject: oneLine(override?.subject !== undefined ? substitute(override.subject, all, 'text') : subject),
    text: override?.text !== undefined ? substitute(override.text, all, 'text') : textLayout(tr, brand, to, builtIn),
    html: override?.html !== undefined ? substitute(override.html, all, 'html') : htmlLayout(tr, brand, to, builtIn),
  };
}

function oneLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ').trim();
}

/** Defence in depth: a mail link is an absolute http(s) URL, never `javascript:` or relative. */
export function requireHttpUrl(link: string): string {
  if (!isHttpUrl(link)) throw new TypeError('mail links must be absolute http(s) URLs');
  return link;
}
