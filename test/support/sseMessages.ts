/** One Server-Sent Events message, as the daemon's event stream sends them. */
export interface SseMessage {
  /** `message` when the message names no event. */
  event: string;
  id: string | undefined;
  data: string;
}

/**
 * Reads a Server-Sent Events body to its end, handing over each message as it completes; comment lines
 * (the keep-alive) are skipped. Tests read the stream as a client on the wire would, not through the
 * extension's parser they may be testing.
 */
export async function readSseMessages(body: AsyncIterable<Uint8Array>, onMessage: (message: SseMessage) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer
        .slice(0, end)
        .split('\n')
        .filter((line) => !line.startsWith(':'));
      buffer = buffer.slice(end + 2);
      if (lines.length === 0) continue;
      const field = (name: string): string | undefined => lines.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2);
      onMessage({ event: field('event') ?? 'message', id: field('id'), data: field('data') ?? '' });
    }
  }
}
