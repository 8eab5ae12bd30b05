import { contrastRatio, isHexColor } from '../../ui/theme/contrast.ts';
import type { Brand } from '../../ui/theme/brand.ts';
import type { Translator } from '../../ui/i18n/index.ts';
import { escapeHtml, isHttpUrl } from './html.ts';

/** One paragraph of a built-in mail, or a call to action (a button in HTML, the bare URL in text). */
export type MailBlock = { text: string } | { link: string; label: string };

export interface MailContent {
  subject: string;
  blocks: readonly MailBlock[];
}

const FONT = "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";
const FALLBACK_ACCENT = '#0b57d0';

/** The accent as a safe CSS colour: only `#rrggbb` reaches a style attribute. */
function accentOf(brand: Brand): string {
  return isHexColor(brand.accentColor) && /^#[0-9a-fA-F]{6}$/.test(brand.accentColor) ? brand.accentColor : FALLBACK_ACCENT;
}

/** The text part: paragraphs, the bare link for each action, the signature. */
export function textLayout(tr: Translator, brand: Brand, to: string, content: MailContent): string {
  const lines = content.blocks.map((block) => ('text' in block ? block.text : block.link));
  const support = brand.supportUrl && isHttpUrl(brand.supportUrl) ? [`${tr.t('mail.support')}: ${brand.supportUrl}`] : [];
  return [...lines, tr.t('mail.signature', { product: brand.productName }), ...support].join('\n\n') + '\n';
}

/**
 * The HTML part: a centred 560-px card with the product name, the accent as a top rule and
 * button colour, inline styles only (mail clients drop <style>), no images, no remote resources.
 * Every value is escaped; links are absolute http(s) URLs (checked by the templates).
 */
export function htmlLayout(tr: Translator, brand: Brand, to: string, content: MailContent): string {
  const accent = accentOf(brand);
  const onAccent = contrastRatio(accent, '#ffffff') >= 4.5 ? '#ffffff' : '#111111';
  const body = content.blocks.map((block) => {
    if ('text' in block) return `<p style="margin:0 0 16px;">${escapeHtml(block.text)}</p>`;
    const href = escapeHtml(block.link);
    return [
      `<p style="margin:8px 0 12px;"><a href="${href}" style="display:inline-block;padding:10px 20px;background:${accent};color:${onAccent};border-radius:6px;text-decoration:none;font-weight:600;">${escapeHtml(block.label)}</a></p>`,
      `<p style="margin:0 0 16px;font-size:13px;color:#52525b;">${escapeHtml(tr.t('mail.linkFallback'))}<br><span style="word-break:break-all;">${href}</span></p>`,
    ].join('\n');
  }).join('\n');
  const support = brand.supportUrl && isHttpUrl(brand.supportUrl)
    ? `<br><a href="${escapeHtml(brand.supportUrl)}" style="color:${accent};">${escapeHtml(tr.t('mail.support'))}</a>`
    : '';
  return `<!doctype html>
<html lang="${escapeHtml(tr.locale)}" dir="${tr.dir}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(content.subject)}</title></head>
<body style="margin:0;padding:0;background:#f4f4f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f5;"><tr><td align="center" style="padding:24px 12px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:560px;background:#ffffff;border-top:4px solid ${accent};border-radius:8px;font-family:${FONT};font-size:16px;line-height:1.5;color:#1a1a1a;">
<tr><td style="padding:24px 28px 4px;font-size:18px;font-weight:700;color:#1a1a1a;">${escapeHtml(brand.productName)}</td></tr>
<tr><td style="padding:12px 28px 8px;">
${body}
</td></tr>
<tr><td style="padding:16px 28px 24px;border-top:1px solid #e4e4e7;font-size:13px;color:#52525b;">${escapeHtml(tr.t('mail.signature', { product: brand.productName }))}<br>${escapeHtml(tr.t('mail.footer', { to }))}${support}</td></tr>
</table>
</td></tr></table>
</body>
</html>
`;
}
