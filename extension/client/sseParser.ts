export interface SseMessage {
  /** `message` when the server named none. */
  event: string;
  data: string;
  id: string | undefined;
}

/**
 * Splits a Server-Sent Events stream into messages, as the HTML standard's parser does: lines end in
 * CR, LF or CRLF (a CR at the end of a chunk may be half of a CRLF), `data` lines are joined with LF,
 * comments (`:` heartbeats) are skipped, and a message is dispatched on an empty line.
 */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | undefined;
  #pendingCr = false;

  feed(chunk: string): SseMessage[] {
    const messages: SseMessage[] = [];
    let text = chunk;
    if (this.#pendingCr) {
      this.#pendingCr = false;
      if (text.startsWith('\n')) text = text.slice(1);
    }
    // What is kept from earlier chunks holds no line end: scan only the new text, or a large event
    // (a first sync's users) arriving in many chunks would be scanned once per chunk.
    const scanFrom = this.#buffer.length;
    this.#buffer += text;
    let start = 0;
    for (let index = scanFrom; index < this.#buffer.length; index++) {
      const character = this.#buffer[index];
      if (character !== '\n' && character !== '\r') continue;
      const line = this.#buffer.slice(start, index);
      if (character === '\r') {
        if (index + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer[index + 1] === '\n') index++;
      }
      start = index + 1;
      const message = this.#line(line);
      if (message) messages.push(message);
    }
    this.#buffer = this.#buffer.slice(start);
    return messages;
  }

  #line(line: string): SseMessage | undefined {
    if (line === '') {
      const data = this.#data;
      const event = this.#event || 'message';
      this.#data = [];
      this.#event = '';
      return data.length > 0 ? { event, data: data.join('\n'), id: this.#id } : undefined;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#id = value;
    return undefined;
  }
}
