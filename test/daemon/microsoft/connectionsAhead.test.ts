import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { request, type Agent } from 'undici';
import { createHttpDispatcher, openConnectionsAhead } from '../../../daemon/microsoft/httpDispatcher';
import { createServerCredentials } from '../../../sim/tls/certificateAuthority';

describe('microsoft: connections opened ahead (a real HTTPS server)', () => {
  let server: Server;
  let origin: string;
  let caPem: string;
  /** Every connection the server accepted (before its TLS handshake, so before the client sees it open), in order. */
  let accepted: Socket[] = [];
  /** The client's port of the connection each request came on. */
  let servedOn: number[] = [];
  let dispatcher: Agent;

  before(async () => {
    const credentials = await createServerCredentials();
    caPem = credentials.caPem;
    server = createServer({ key: credentials.keyPem, cert: credentials.certPem }, (req, res) => {
      servedOn.push(req.socket.remotePort ?? 0);
      res.end('ok');
    });
    server.on('connection', (socket: Socket) => accepted.push(socket));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  beforeEach(() => {
    accepted = [];
    servedOn = [];
    // The identity platform elsewhere, as Microsoft's is: these connections are Graph's.
    dispatcher = createHttpDispatcher({ authorityHost: 'https://login.example', graphHost: origin, caPem });
  });

  afterEach(async () => {
    await dispatcher.destroy();
    server.closeAllConnections();
  });

  after(async () => {
    server.close();
    await once(server, 'close');
  });

  async function get(): Promise<string> {
    const answer = await request(`${origin}/v1.0/users/delta`, { dispatcher });
    return answer.body.text();
  }

  it('hands the connections it opened to the requests that come, which open none of their own', async () => {
    assert.equal(await openConnectionsAhead(dispatcher, origin, 2), 2);
    assert.equal(accepted.length, 2, 'both open before any request');
    assert.deepEqual(await Promise.all([get(), get()]), ['ok', 'ok']);
    assert.equal(accepted.length, 2, 'no connection opened for the requests');
    assert.equal(new Set(servedOn).size, 2);
    assert.deepEqual([...servedOn].sort(), accepted.map((socket) => socket.remotePort).sort());
  });

  it('connects anew when a connection opened ahead was closed by the server before it was needed', async () => {
    assert.equal(await openConnectionsAhead(dispatcher, origin, 1), 1);
    const [ahead] = accepted;
    assert.ok(ahead);
    const closed = once(ahead, 'close');
    ahead.destroy();
    await closed;
    // The client's side sees the close on a later turn.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(await get(), 'ok');
    assert.equal(accepted.length, 2);
    assert.equal(servedOn[0], accepted[1]?.remotePort);
  });

  it('opens nothing, and reports nothing opened, where the host does not answer; the request then fails as it would have', async () => {
    const nowhere = 'https://127.0.0.1:1';
    assert.equal(await openConnectionsAhead(dispatcher, nowhere, 2), 0);
    await assert.rejects(request(`${nowhere}/v1.0/users`, { dispatcher }), /ECONNREFUSED/);
  });
});
