import type { FastifyRequest } from 'fastify';

/** The quality an Accept header gives each media type it names explicitly or by wildcard. */
interface AcceptRange {
  type: string;
  quality: number;
}

function parseAccept(header: string): AcceptRange[] {
  const ranges: AcceptRange[] = [];
  for (const part of header.split(',')) {
    const [mediaType, ...parameters] = part.split(';');
    const type = mediaType?.trim().toLowerCase();
    if (!type) continue;
    let quality = 1;
    for (const parameter of parameters) {
      const [name, value] = parameter.split('=');
      if (name?.trim().toLowerCase() === 'q') {
        const parsed = Number(value?.trim());
        quality = Number.isFinite(parsed) ? Math.min(Math.max(parsed, 0), 1) : 0;
      }
    }
    ranges.push({ type, quality });
  }
  return ranges;
}

/** RFC 9110 §12.5.1: the most specific range that matches `type` decides its quality. */
function qualityOf(ranges: readonly AcceptRange[], type: string, options: { wildcards: boolean }): number {
  const exact = ranges.find((range) => range.type === type);
  if (exact) return exact.quality;
  if (!options.wildcards) return 0;
  const family = ranges.find((range) => range.type === `${type.split('/')[0]}/*`);
  if (family) return family.quality;
  return ranges.find((range) => range.type === '*/*')?.quality ?? 0;
}

/**
 * True only when the client prefers an HTML page to JSON: `text/html` (or XHTML) named
 * explicitly and ranked above `application/json`. No Accept, `*∕*`, `application/json` or a tie
 * all mean JSON, so API clients and scripts keep the JSON errors they parse.
 */
export function prefersHtml(request: Pick<FastifyRequest, 'headers'>): boolean {
  const header = request.headers.accept;
  if (typeof header !== 'string' || header === '') return false;
  const ranges = parseAccept(header);
  // A wildcard never selects HTML: `*/*` is what fetch() and curl send.
  const html = Math.max(qualityOf(ranges, 'text/html', { wildcards: false }), qualityOf(ranges, 'application/xhtml+xml', { wildcards: false }));
  const json = qualityOf(ranges, 'application/json', { wildcards: true });
  return html > 0 && html > json;
}

/** Adds `Accept` to the response's Vary header, keeping what is there (the API guard's `Origin`). */
export function addVaryAccept(reply: { getHeader(name: string): unknown; header(name: string, value: string): unknown }): void {
  const existing = reply.getHeader('vary');
  const current = Array.isArray(existing) ? existing.join(', ') : typeof existing === 'string' ? existing : '';
  if (/(^|,)\s*accept\s*(,|$)/i.test(current)) return;
  reply.header('vary', current === '' ? 'Accept' : `${current}, Accept`);
}
