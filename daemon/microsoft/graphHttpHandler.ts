import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { Context, Middleware } from '@microsoft/microsoft-graph-client';
import type { Agent, Dispatcher } from 'undici';
import { networkCode } from './microsoftFailure';

const decoders: Record<string, (body: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
};

/** Statuses whose answer has no body: a Response refuses one. */
const noBody = new Set([101, 204, 205, 304]);

/**
 * The Graph client's last middleware: sends the request on our undici pool with `Agent.request` and hands
 * the client the whole answer as a `Response`. Node's `fetch` (the stock handler) costs about a
 * quarter of a quiet round's CPU in its WHATWG machinery (request and response objects, abort signals,
 * body streams) around the same one request on the same pool. Anything but a string URL with a plain
 * header object and a string body or none goes to `fetch` as before. A request that gets no answer
 * throws a `GraphTransportError`, whichever way it went.
 */
export class GraphHttpHandler implements Middleware {
  constructor(private readonly dispatcher: Agent) {}

  async execute(context: Context): Promise<void> {
    const options = context.options ?? {};
    const { request } = context;
    const headers = options.headers;
    const body = options.body;
    const plainHeaders = headers === undefined || (typeof headers === 'object' && !Array.isArray(headers) && !(headers instanceof Headers));
    if (typeof request !== 'string' || !plainHeaders || (body !== undefined && body !== null && typeof body !== 'string') || options.signal) {
      // The stock handler's way; the client's fetchOptions carry our pool.
      try {
        context.response = await fetch(request, options);
      } catch (error) {
        throw new GraphTransportError(error);
      }
      return;
    }
    const url = new URL(request);
    const method = (options.method ?? 'GET').toUpperCase();
    let status: number;
    let answerHeaders: Headers;
    let bytes: ArrayBuffer;
    try {
      const answer = await this.dispatcher.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: method as Dispatcher.HttpMethod,
        headers: { 'accept-encoding': 'gzip, deflate, br', ...(headers as Record<string, string> | undefined) },
        ...(typeof body === 'string' ? { body } : {}),
      });
      status = answer.statusCode;
      answerHeaders = new Headers();
      for (const [name, value] of Object.entries(answer.headers)) {
        if (Array.isArray(value)) for (const item of value) answerHeaders.append(name, item);
        else if (value !== undefined) answerHeaders.append(name, value);
      }
      bytes = await answer.body.arrayBuffer();
      const encoding = answerHeaders.get('content-encoding')?.trim().toLowerCase();
      const decode = encoding ? decoders[encoding] : undefined;
      if (decode && bytes.byteLength > 0) {
        const decoded = await decode(Buffer.from(bytes));
        bytes = new Uint8Array(decoded).buffer;
        answerHeaders.delete('content-encoding');
        answerHeaders.delete('content-length');
      }
    } catch (error) {
      throw new GraphTransportError(error);
    }
    context.response = new BufferedResponse(request, status, answerHeaders, noBody.has(status) || method === 'HEAD' ? null : bytes);
  }
}

/**
 * A Graph request that got no answer (refused, reset, timed out). The Graph client turns what its last
 * middleware throws into a `GraphError` that keeps only the name (as its `code`) and the message, not the
 * cause: so the network error's code is the name, and a timeout is still told from a refused connection
 * when the failure is classified.
 */
export class GraphTransportError extends Error {
  constructor(cause: unknown) {
    const code = networkCode(cause) ?? 'NETWORK';
    // Not `code: detail`, which is how a token failure wrapped by the client reads.
    super(`No answer from Microsoft Graph (${code}: ${cause instanceof Error ? cause.message : String(cause)})`, { cause });
    this.name = code;
  }
}

/**
 * A whole answer already read, as the `Response` the Graph client reads it from: the client asks for the
 * status, headers and one of `json()`/`text()`, which here parse the bytes directly instead of through a
 * body stream (a `Response` built from bytes still makes one, and marks it transferable).
 */
class BufferedResponse implements Response {
  readonly ok: boolean;
  readonly redirected = false;
  readonly statusText = '';
  readonly type: ResponseType = 'basic';
  #used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    private readonly content: ArrayBuffer | null,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  /** Only for a caller that asks for a stream: one is made then. */
  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#asResponse().body;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    return this.#take().slice(0);
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(this.#take().slice(0));
  }

  async text(): Promise<string> {
    return Buffer.from(this.#take()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get('content-type') ?? '' });
  }

  formData(): Promise<FormData> {
    return this.#asResponse().formData();
  }

  clone(): Response {
    if (this.#used) throw new TypeError('Response.clone: the body has already been read');
    return new BufferedResponse(this.url, this.status, this.headers, this.content);
  }

  #take(): ArrayBuffer {
    if (this.#used) throw new TypeError('Body is unusable: the body has already been read');
    this.#used = true;
    return this.content ?? new ArrayBuffer(0);
  }

  #asResponse(): Response {
    return new Response(this.content === null ? null : this.#take(), { status: this.status, headers: this.headers });
  }
}
