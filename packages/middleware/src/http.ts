/** Small helpers for the kit's calls to Gatehouse: bounded in time and size, no redirects. */

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined with ":", then base64. */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const encode = (value: string): string => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

export class FetchFailure extends Error {
  override name = 'FetchFailure';
}

/** Reads at most `maxBytes` of a response body as UTF-8 text; more is an error. */
export async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new FetchFailure('response too large');
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new FetchFailure('response too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** GET/POST with a timeout and without following redirects; JSON body parsed when status is `expect`ed. */
export async function requestJSON(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number; signal?: AbortSignal }): Promise<{ status: number; body: unknown; headers: Headers }> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...init.headers },
      ...(init.body !== undefined ? { body: init.body } : {}),
      redirect: 'error',
      signal: init.signal ? AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)]) : AbortSignal.timeout(init.timeoutMs),
    });
  } catch (error) {
    throw new FetchFailure(error instanceof Error ? `${error.name}: ${error.message}` : 'fetch failed');
  }
  let text: string;
  try {
    text = await readLimited(response, init.maxBytes);
  } catch (error) {
    throw new FetchFailure(error instanceof Error ? error.message : 'read failed');
  }
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: response.status, body, headers: response.headers };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
