import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/logger';
import type { ConsentPage } from '../services/consentService';

export const CONSENT_PATH = '/consent';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function render(page: ConsentPage): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">',
    `<title>m365-status: ${escapeHtml(page.title)}</title></head>`,
    `<body><h1>${escapeHtml(page.title)}</h1>`,
    ...page.lines.map((line) => `<p>${escapeHtml(line)}</p>`),
    '</body></html>',
  ].join('\n');
}

/**
 * The loopback redirect URI Microsoft sends the admin's browser back to after admin consent. It is its
 * own small listener rather than a route of the API: the browser cannot carry the API's bearer token,
 * and the API refuses browser requests outright, so the one route that must serve a browser stays
 * apart from it. It serves `GET /consent` and nothing else, and acts only on a `state` the daemon made
 * and is still waiting for.
 */
export class ConsentListener {
  private constructor(
    private readonly servers: Server[],
    readonly port: number,
  ) {}

  /** `http://localhost:{port}/consent`: register `http://localhost/consent` on the app; Microsoft allows any port on it. */
  get redirectUri(): string {
    return `http://localhost:${this.port}${CONSENT_PATH}`;
  }

  static async start(answer: (query: URLSearchParams) => Promise<ConsentPage>, logger: Logger, port = 0): Promise<ConsentListener> {
    const handler = (request: IncomingMessage, response: ServerResponse): void => {
      const url = new URL(request.url ?? '/', 'http://localhost');
      const send = (status: number, page: ConsentPage) => {
        response.writeHead(status, {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'none'",
          'referrer-policy': 'no-referrer',
          'x-frame-options': 'DENY',
          'cache-control': 'no-store',
        });
        response.end(render(page));
      };
      if (request.method !== 'GET' || url.pathname !== CONSENT_PATH || (request.url ?? '').length > 8192) {
        send(404, { status: 400, title: 'Not found', lines: ['m365-status listens here only for admin-consent answers.'] });
        return;
      }
      answer(url.searchParams)
        .then((page) => send(page.status, page))
        .catch((error: unknown) => {
          logger.error('answering an admin-consent redirect failed', { error });
          send(500, { status: 400, title: 'Something went wrong', lines: ['m365-status could not record this answer; its log has the details.'] });
        });
    };
    const first = createServer(handler);
    first.listen(port, '127.0.0.1');
    await once(first, 'listening');
    const actual = (first.address() as AddressInfo).port;
    const servers = [first];
    // Browsers may resolve localhost to ::1 first: listen there too, on the same port, where IPv6 exists.
    const second = createServer(handler);
    try {
      second.listen(actual, '::1');
      await once(second, 'listening');
      servers.push(second);
    } catch (error) {
      logger.debug('the consent listener listens on 127.0.0.1 only', { error });
    }
    return new ConsentListener(servers, actual);
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(async (server) => {
        const closed = once(server, 'close');
        server.close();
        server.closeAllConnections();
        await closed;
      }),
    );
  }
}
