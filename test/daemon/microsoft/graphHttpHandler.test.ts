import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Client, HTTPMessageHandler } from '@microsoft/microsoft-graph-client';
import { Agent } from 'undici';
import { GraphHttpHandler } from '../../../daemon/microsoft/graphHttpHandler';
import { classifyMicrosoftFailure } from '../../../daemon/microsoft/microsoftFailure';

type Answer = (req: IncomingMessage, body: string, res: ServerResponse) => void;

describe('microsoft: the Graph client sends through our pool (a real HTTP server)', () => {
  let server: Server;
  let agent: Agent;
  let client: Client;
  /** The Graph client's stock last middleware (Node's fetch) on the same pool, to compare with. */
  let stock: Client;
  let answer: Answer = (_req, _body, res) => res.end();

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => answer(req, body, res));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    agent = new Agent();
    const common = { baseUrl: `http://127.0.0.1:${port}/`, defaultVersion: 'v1.0', customHosts: new Set(['127.0.0.1']), fetchOptions: { dispatcher: agent } as RequestInit };
    client = Client.initWithMiddleware({ middleware: new GraphHttpHandler(agent), ...common });
    stock = Client.initWithMiddleware({ middleware: new HTTPMessageHandler(), ...common });
  });

  after(async () => {
    await agent.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reads a gzip-encoded answer, as fetch did, asking for it on the request', async () => {
    let asked: string | undefined;
    answer = (req, _body, res) => {
      asked = req.headers['accept-encoding'];
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ value: [{ id: 'u1', accountEnabled: true }], '@odata.deltaLink': 'next' })));
    };
    const page = (await client.api('/users/delta').get()) as unknown;
    assert.deepEqual(page, { value: [{ id: 'u1', accountEnabled: true }], '@odata.deltaLink': 'next' });
    assert.match(asked ?? '', /gzip/);
  });

  it('sends a PATCH with its JSON body and headers, and takes a 204 with no body', async () => {
    let seen: { method?: string; url?: string; type?: string; body: string } = { body: '' };
    answer = (req, body, res) => {
      seen = { method: req.method, url: req.url, type: req.headers['content-type'], body };
      res.writeHead(204).end();
    };
    await client.api('/users/u1').patch({ accountEnabled: false });
    assert.deepEqual(seen, { method: 'PATCH', url: '/v1.0/users/u1', type: 'application/json', body: '{"accountEnabled":false}' });
  });

  it('gives Graph\'s error with its Retry-After to the failure classification, as fetch did', async () => {
    answer = (_req, _body, res) => {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
      res.end(JSON.stringify({ error: { code: 'TooManyRequests', message: 'Slow down.' } }));
    };
    const failures = await Promise.all([client, stock].map(async (graph) => classifyMicrosoftFailure(await graph.api('/users/delta').get().then(() => undefined, (e: unknown) => e))));
    assert.equal(failures[0]?.category, 'throttled');
    assert.equal(failures[0]?.retryAfterMs, 7_000);
    assert.deepEqual(failures[0], failures[1]);
  });

  it('fails a cut connection as the same network failure as fetch did, keeping the code the stock way loses', async () => {
    answer = (req) => req.socket.destroy();
    const [ours, stocks] = await Promise.all([client, stock].map(async (graph) => classifyMicrosoftFailure(await graph.api('/users/delta').get().then(() => undefined, (e: unknown) => e))));
    assert.equal(ours?.category, 'network');
    assert.equal(ours?.code, 'UND_ERR_SOCKET');
    assert.equal(stocks?.code, 'NETWORK', 'the Graph client drops the cause of what fetch throws');
    assert.deepEqual({ ...ours, code: 'NETWORK' }, stocks);
  });
});
