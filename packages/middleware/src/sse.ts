/**
 * A small Server-Sent Events parser (WHATWG HTML §9.2.6, "Interpreting an event stream"):
 * lines end with CRLF, LF or CR; `field: value` with one optional space; `:` starts a comment;
 * a blank line dispatches. Enough for the revocation stream, without an EventSource dependency.
 */

export interface SSEMessage {
  event: string;
  data: string;
  /** The last event id after this event (the stream's `id:` fields persist). */
  lastEventId: string;
}

export interface SSEParser {
  /** Feeds decoded text; throws when a line exceeds `maxLineLength` (a broken or hostile stream). */
  push(text: string): void;
}

export function createSSEParser(handlers: {
  onEvent: (message: SSEMessage) => void;
  onComment?: (text: string) => void;
  onRetry?: (ms: number) => void;
  maxLineLength?: number;
}): SSEParser {
  const maxLine = handlers.maxLineLength ?? 64 * 1024;
  let buffer = '';
  let data: string[] = [];
  let event = '';
  let lastEventId = '';
  // A CR at the end of one chunk may be the first half of a CRLF.
  let skipLeadingLF = false;

  function line(text: string): void {
    if (text === '') {
      if (data.length > 0) handlers.onEvent({ event: event || 'message', data: data.join('\n'), lastEventId });
      data = [];
      event = '';
      return;
    }
    if (text.startsWith(':')) {
      handlers.onComment?.(text.slice(1).trimStart());
      return;
    }
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
    else if (field === 'id' && !value.includes('\0')) lastEventId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) handlers.onRetry?.(Number(value));
  }

  return {
    push(text) {
      buffer += text;
      let start = 0;
      for (;;) {
        if (skipLeadingLF && start < buffer.length) {
          if (buffer[start] === '\n') start++;
          skipLeadingLF = false;
        }
        let end = start;
        while (end < buffer.length && buffer[end] !== '\n' && buffer[end] !== '\r') end++;
        if (end === buffer.length) break;
        line(buffer.slice(start, end));
        if (buffer[end] === '\r') {
          if (end + 1 < buffer.length) start = buffer[end + 1] === '\n' ? end + 2 : end + 1;
          else {
            start = end + 1;
            skipLeadingLF = true;
          }
        } else start = end + 1;
      }
      buffer = buffer.slice(start);
      if (buffer.length > maxLine) throw new Error('event stream line too long');
    },
  };
}
